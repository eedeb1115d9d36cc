# Module 'sftp': fragment owned by that module; see cmake/kbix.cmake.
kbix_add_module(sftp SOURCES ${PROJECT_SOURCE_DIR}/src/placeholder_sftp.cpp DEPS kbix_core)
