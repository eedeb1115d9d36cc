# Module 'runs': run ids, the run state machine in SQLite, the schedule, operator control over a
# Unix socket and systemd notifications.
kbix_add_module(runs
  SOURCES
    ${PROJECT_SOURCE_DIR}/src/control_protocol.cpp
    ${PROJECT_SOURCE_DIR}/src/control_socket.cpp
    ${PROJECT_SOURCE_DIR}/src/run_id.cpp
    ${PROJECT_SOURCE_DIR}/src/run_state.cpp
    ${PROJECT_SOURCE_DIR}/src/run_store.cpp
    ${PROJECT_SOURCE_DIR}/src/schedule.cpp
    ${PROJECT_SOURCE_DIR}/src/systemd_notify.cpp
  DEPS kbix_core SQLite::SQLite3 nlohmann_json::nlohmann_json OpenSSL::Crypto Boost::headers
       Threads::Threads PkgConfig::SYSTEMD)
