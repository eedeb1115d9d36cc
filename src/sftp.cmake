# Module 'sftp': the SFTP transport (libssh), remote-name checks, readiness and retry policy.
kbix_add_module(sftp
  SOURCES
    ${PROJECT_SOURCE_DIR}/src/remote_name.cpp
    ${PROJECT_SOURCE_DIR}/src/retry.cpp
    ${PROJECT_SOURCE_DIR}/src/sftp.cpp
    ${PROJECT_SOURCE_DIR}/src/sftp_connect.cpp
    ${PROJECT_SOURCE_DIR}/src/sftp_readiness.cpp
  DEPS kbix_core ssh spdlog::spdlog Threads::Threads)
# GCC 12 reports a false -Wmaybe-uninitialized inside <regex> (std::function in the NFA) when
# built with -fsanitize; keep -Werror usable for sanitizer builds of this one file.
if(KBIX_SANITIZE AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  set_source_files_properties(${PROJECT_SOURCE_DIR}/src/sftp_readiness.cpp
    PROPERTIES COMPILE_OPTIONS -Wno-maybe-uninitialized)
endif()
