# Module 'domain': fragment owned by that module; see cmake/kbix.cmake.
kbix_add_module(domain SOURCES ${PROJECT_SOURCE_DIR}/src/placeholder_domain.cpp DEPS kbix_core)
