# Tests of module 'sftp'. Integration tests start a real OpenSSH sshd on 127.0.0.1 through the
# reusable fixture library kbix_test_sshd (tests/support/sshd_fixture.hpp), which later modules'
# integration tests link too.
add_library(kbix_test_sshd STATIC ${PROJECT_SOURCE_DIR}/tests/support/sshd_fixture.cpp)
target_include_directories(kbix_test_sshd PUBLIC ${PROJECT_SOURCE_DIR}/tests)
target_link_libraries(kbix_test_sshd PUBLIC kbix_sftp kbix_test_support)

kbix_add_test(sftp_unit_tests
  SOURCES
    ${PROJECT_SOURCE_DIR}/tests/unit/sftp/remote_name_test.cpp
    ${PROJECT_SOURCE_DIR}/tests/unit/sftp/retry_test.cpp
    ${PROJECT_SOURCE_DIR}/tests/unit/sftp/readiness_test.cpp
    ${PROJECT_SOURCE_DIR}/tests/unit/sftp/settings_test.cpp
  DEPS kbix_sftp
  LABELS unit
  TIMEOUT 60)

kbix_add_test(sftp_integration_tests
  SOURCES
    ${PROJECT_SOURCE_DIR}/tests/integration/sftp/transfer_test.cpp
    ${PROJECT_SOURCE_DIR}/tests/integration/sftp/security_test.cpp
    ${PROJECT_SOURCE_DIR}/tests/integration/sftp/listing_test.cpp
    ${PROJECT_SOURCE_DIR}/tests/integration/sftp/fault_test.cpp
  DEPS kbix_sftp kbix_test_sshd
  LABELS integration
  TIMEOUT 300)
