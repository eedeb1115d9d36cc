# Module 'runs': fragment owned by that module; see cmake/kbix.cmake.
kbix_add_module(runs SOURCES ${PROJECT_SOURCE_DIR}/src/placeholder_runs.cpp DEPS kbix_core)
