# Tests of module 'envelope'. The example keys are made once per build by keys-example/make-keys
# (which this also tests); they are throw-away keys in the build directory, never in the source.
set(KBIX_ENVELOPE_TEST_KEYS ${PROJECT_BINARY_DIR}/tests/envelope-keys)
add_custom_command(
  OUTPUT ${KBIX_ENVELOPE_TEST_KEYS}/known_hosts
  COMMAND ${CMAKE_COMMAND} -E rm -rf ${KBIX_ENVELOPE_TEST_KEYS}
  COMMAND ${PROJECT_SOURCE_DIR}/keys-example/make-keys ${KBIX_ENVELOPE_TEST_KEYS} 2222
  DEPENDS ${PROJECT_SOURCE_DIR}/keys-example/make-keys
  COMMENT "Making throw-away example keys for the envelope tests")
add_custom_target(envelope_test_keys DEPENDS ${KBIX_ENVELOPE_TEST_KEYS}/known_hosts)

kbix_add_test(envelope_unit_tests
  SOURCES
    ${PROJECT_SOURCE_DIR}/tests/unit/envelope/cms_reader_test.cpp
    ${PROJECT_SOURCE_DIR}/tests/unit/envelope/envelope_test.cpp
    ${PROJECT_SOURCE_DIR}/tests/unit/envelope/interop_test.cpp
    ${PROJECT_SOURCE_DIR}/tests/unit/envelope/keys_test.cpp
    ${PROJECT_SOURCE_DIR}/tests/unit/envelope/tamper_test.cpp
  DEPS kbix_envelope OpenSSL::Crypto
  LABELS unit
  TIMEOUT 300)
add_dependencies(envelope_unit_tests envelope_test_keys)
target_compile_definitions(envelope_unit_tests PRIVATE
  KBIX_ENVELOPE_TEST_KEYS="${KBIX_ENVELOPE_TEST_KEYS}")
