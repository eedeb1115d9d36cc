# Fuzz targets of module 'runs' (built only with -DKBIX_FUZZ=ON and clang++).
kbix_add_fuzzer(runs_control_request_fuzz
  SOURCES ${PROJECT_SOURCE_DIR}/tests/fuzz/runs_control_request.cpp DEPS kbix_runs)
