# Tests of module 'runs': run store, schedule, run ids, control protocol and socket.
kbix_add_test(runs_unit_tests
  SOURCES
    ${PROJECT_SOURCE_DIR}/tests/unit/runs/control_test.cpp
    ${PROJECT_SOURCE_DIR}/tests/unit/runs/run_store_test.cpp
    ${PROJECT_SOURCE_DIR}/tests/unit/runs/schedule_test.cpp
  DEPS kbix_runs kbix_test_support SQLite::SQLite3 Threads::Threads
  LABELS unit
  TIMEOUT 120)
