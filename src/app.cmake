# Module 'app': the command line, the daemon and the orchestration of a run (wiring of modules).
configure_file(${PROJECT_SOURCE_DIR}/cmake/kbix_version.hpp.in
               ${PROJECT_BINARY_DIR}/generated/kbix_version.hpp @ONLY)
kbix_add_module(app
  SOURCES
    ${PROJECT_SOURCE_DIR}/src/cli.cpp
  DEPS kbix_core CLI11::CLI11)
target_include_directories(kbix_app PRIVATE ${PROJECT_BINARY_DIR}/generated)
