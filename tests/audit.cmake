# Tests of module 'audit': tamper detection over a 1,000-entry log, checkpoints, torn tails,
# rotation, the privacy guard, and an independent verifier in Python (standard library only).
kbix_add_test(audit_unit_tests
  SOURCES ${PROJECT_SOURCE_DIR}/tests/unit/audit/audit_test.cpp
  DEPS kbix_audit kbix_test_support
  LABELS unit
  TIMEOUT 300)
add_dependencies(audit_unit_tests envelope_test_keys)
target_compile_definitions(audit_unit_tests PRIVATE
  KBIX_ENVELOPE_TEST_KEYS="${KBIX_ENVELOPE_TEST_KEYS}")

add_executable(audit_write_log ${PROJECT_SOURCE_DIR}/tests/audit_verifier/write_log.cpp)
target_link_libraries(audit_write_log PRIVATE kbix_audit)
add_dependencies(audit_write_log envelope_test_keys)
add_test(NAME AuditLog.IndependentPythonVerifierAcceptsKbixLogsAndCatchesAnEdit
  COMMAND sh -c "rm -rf \"$1\" && \"$2\" \"$1\" \"$3/agii-sign-rsa.key\" \"$3/agii-sign-rsa.crt\" && python3 \"$4\" --self-test \"$1\""
    sh ${PROJECT_BINARY_DIR}/tests/audit-python-log $<TARGET_FILE:audit_write_log>
    ${KBIX_ENVELOPE_TEST_KEYS} ${PROJECT_SOURCE_DIR}/tests/audit_verifier/verify_audit.py)
set_tests_properties(AuditLog.IndependentPythonVerifierAcceptsKbixLogsAndCatchesAnEdit
  PROPERTIES LABELS unit TIMEOUT 120)
