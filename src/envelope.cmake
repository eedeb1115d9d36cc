# Module 'envelope': fragment owned by that module; see cmake/kbix.cmake.
kbix_add_module(envelope SOURCES ${PROJECT_SOURCE_DIR}/src/placeholder_envelope.cpp DEPS kbix_core)
