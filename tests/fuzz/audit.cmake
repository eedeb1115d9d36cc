# Fuzz targets of module 'audit' (built only with -DKBIX_FUZZ=ON and clang++).
kbix_add_fuzzer(audit_verify_fuzz
  SOURCES ${PROJECT_SOURCE_DIR}/tests/fuzz/audit_verify.cpp DEPS kbix_audit)
