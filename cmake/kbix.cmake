# Helpers shared by the module fragments.

# kbix_add_module(NAME SOURCES a.cpp b.cpp DEPS kbix_core OpenSSL::Crypto ...)
# makes the static library kbix_NAME with the project's include directory.
function(kbix_add_module name)
  cmake_parse_arguments(arg "" "" "SOURCES;DEPS" ${ARGN})
  add_library(kbix_${name} STATIC ${arg_SOURCES})
  target_include_directories(kbix_${name} PUBLIC ${PROJECT_SOURCE_DIR}/include)
  target_link_libraries(kbix_${name} PUBLIC ${arg_DEPS})
  set_target_properties(kbix_${name} PROPERTIES POSITION_INDEPENDENT_CODE ON)
endfunction()

# kbix_add_test(NAME SOURCES a_test.cpp DEPS kbix_domain [LABELS unit|integration] [TIMEOUT s])
# makes a GoogleTest executable and registers each of its tests with CTest.
function(kbix_add_test name)
  cmake_parse_arguments(arg "" "TIMEOUT" "SOURCES;DEPS;LABELS" ${ARGN})
  if(NOT arg_TIMEOUT)
    set(arg_TIMEOUT 300)
  endif()
  if(NOT arg_LABELS)
    set(arg_LABELS unit)
  endif()
  add_executable(${name} ${arg_SOURCES})
  target_link_libraries(${name} PRIVATE ${arg_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/tests)
  target_compile_definitions(${name} PRIVATE
    KBIX_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    KBIX_BINARY_DIR="${PROJECT_BINARY_DIR}")
  include(GoogleTest)
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60
    PROPERTIES LABELS "${arg_LABELS}" TIMEOUT ${arg_TIMEOUT})
endfunction()
