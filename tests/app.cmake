# End-to-end tests of the whole product (module 'app'): the real kbix binary, a real sshd on
# 127.0.0.1, the partner simulator and the generator. Needs the simulator and the generator.
if(TARGET kbix_partner_sim AND TARGET kbix-gen AND TARGET kbix_test_sshd)
  kbix_add_test(kbix_e2e_tests
    SOURCES
      ${PROJECT_SOURCE_DIR}/tests/e2e/control_test.cpp
      ${PROJECT_SOURCE_DIR}/tests/e2e/e2e_support.cpp
      ${PROJECT_SOURCE_DIR}/tests/e2e/fault_test.cpp
      ${PROJECT_SOURCE_DIR}/tests/e2e/operations_test.cpp
      ${PROJECT_SOURCE_DIR}/tests/e2e/partner_sim_test.cpp
      ${PROJECT_SOURCE_DIR}/tests/e2e/round_trip_test.cpp
      ${PROJECT_SOURCE_DIR}/tests/support/exchange_world.cpp
    DEPS kbix_app kbix_partner_sim kbix_test_sshd kbix_domain kbix_core OpenSSL::Crypto SQLite::SQLite3
         nlohmann_json::nlohmann_json Threads::Threads
    LABELS integration e2e
    TIMEOUT 600)
  add_dependencies(kbix_e2e_tests kbix kbix-gen envelope_test_keys)
  target_compile_definitions(kbix_e2e_tests PRIVATE
    KBIX_EXE="$<TARGET_FILE:kbix>"
    KBIX_GEN_EXE="$<TARGET_FILE:kbix-gen>"
    KBIX_ENVELOPE_TEST_KEYS="${KBIX_ENVELOPE_TEST_KEYS}")
endif()

# The hostile-input corpus (issue 8): tests/data/hostile/manifest.json, one table-driven test.
kbix_add_test(hostile_corpus_tests
  SOURCES ${PROJECT_SOURCE_DIR}/tests/hostile/hostile_test.cpp
  DEPS kbix_app kbix_synthetic OpenSSL::Crypto nlohmann_json::nlohmann_json
  LABELS unit hostile
  TIMEOUT 300)
add_dependencies(hostile_corpus_tests envelope_test_keys)
target_compile_definitions(hostile_corpus_tests PRIVATE
  KBIX_ENVELOPE_TEST_KEYS="${KBIX_ENVELOPE_TEST_KEYS}")
