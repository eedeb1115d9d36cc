# Tests of module 'domain': INSZ, CSV (with the hostile table), schema and pipeline steps.
kbix_add_test(domain_unit_tests
  SOURCES
    ${PROJECT_SOURCE_DIR}/tests/unit/domain/csv_test.cpp
    ${PROJECT_SOURCE_DIR}/tests/unit/domain/insz_test.cpp
    ${PROJECT_SOURCE_DIR}/tests/unit/domain/steps_test.cpp
  DEPS kbix_domain kbix_synthetic OpenSSL::Crypto nlohmann_json::nlohmann_json
  LABELS unit
  TIMEOUT 120)
