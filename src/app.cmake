# Module 'app': the command line, the daemon and the orchestration of a run (wiring of modules).
configure_file(${PROJECT_SOURCE_DIR}/cmake/kbix_version.hpp.in
               ${PROJECT_BINARY_DIR}/generated/kbix_version.hpp @ONLY)
kbix_add_module(app
  SOURCES
    ${PROJECT_SOURCE_DIR}/src/cli.cpp
    ${PROJECT_SOURCE_DIR}/src/cli_commands.cpp
    ${PROJECT_SOURCE_DIR}/src/daemon.cpp
    ${PROJECT_SOURCE_DIR}/src/exchange.cpp
    ${PROJECT_SOURCE_DIR}/src/exchange_steps.cpp
    ${PROJECT_SOURCE_DIR}/src/instance.cpp
    ${PROJECT_SOURCE_DIR}/src/status_view.cpp
  DEPS kbix_core kbix_domain kbix_envelope kbix_sftp kbix_audit kbix_runs
       CLI11::CLI11 Boost::headers Threads::Threads nlohmann_json::nlohmann_json)
target_include_directories(kbix_app PRIVATE ${PROJECT_BINARY_DIR}/generated)
