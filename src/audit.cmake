# Module 'audit': fragment owned by that module; see cmake/kbix.cmake.
kbix_add_module(audit SOURCES ${PROJECT_SOURCE_DIR}/src/placeholder_audit.cpp DEPS kbix_core)
