# Fuzz targets of module 'core' (built only with -DKBIX_FUZZ=ON and clang++).
kbix_add_fuzzer(core_config_fuzz
  SOURCES ${PROJECT_SOURCE_DIR}/tests/fuzz/core_config.cpp
  DEPS kbix_core)
