# Tests of module 'core' and of the command line.
# kbix_test_support: helpers every module's tests may use (scratch directories); no kbix deps.
add_library(kbix_test_support STATIC ${PROJECT_SOURCE_DIR}/tests/support/temp_dir.cpp)
target_include_directories(kbix_test_support PUBLIC ${PROJECT_SOURCE_DIR}/tests)
kbix_add_test(kbix_core_test
  SOURCES
    ${PROJECT_SOURCE_DIR}/tests/unit/core/config_test.cpp
    ${PROJECT_SOURCE_DIR}/tests/unit/core/protocol_test.cpp
    ${PROJECT_SOURCE_DIR}/tests/unit/core/file_safety_test.cpp
    ${PROJECT_SOURCE_DIR}/tests/unit/core/digest_test.cpp
  DEPS kbix_core)
kbix_add_test(kbix_cli_test
  SOURCES ${PROJECT_SOURCE_DIR}/tests/unit/core/cli_test.cpp
  DEPS kbix_core)
target_compile_definitions(kbix_cli_test PRIVATE KBIX_EXE="$<TARGET_FILE:kbix>")
add_dependencies(kbix_cli_test kbix)
