# Helpers shared by the module, test, fuzz and benchmark folders.

# kbix_add_module(NAME SOURCES a.cpp b.cpp DEPS kbix_core OpenSSL::Crypto ...)
# Called from src/NAME/CMakeLists.txt: makes the static library kbix_NAME. Its public headers are
# src/NAME/include/kbix/NAME/*.hpp (included as "kbix/NAME/x.hpp"); its private headers are
# src/NAME/internal/*.hpp (included as "internal/x.hpp", from inside the module only). The DEPS
# line is the module's declared layering: scripts/check-layering reads it.
function(kbix_add_module name)
  cmake_parse_arguments(arg "" "" "SOURCES;DEPS" ${ARGN})
  add_library(kbix_${name} STATIC ${arg_SOURCES})
  target_include_directories(kbix_${name}
    PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include
    PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
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

# kbix_add_fuzzer(NAME SOURCES f.cpp DEPS kbix_domain): a libFuzzer target (tests/fuzz/<module>/),
# built only with -DKBIX_FUZZ=ON and clang++. Seeds: tests/fuzz/seeds/NAME/. scripts/fuzz finds
# the targets by these lines. In the normal build the same sources also make NAME_replay, whose
# main() (tests/fuzz/replay_main.cpp) feeds every seed to the target once: the CTest test
# Fuzz.NAME.ReplaysEverySeed, so a seed that crashes fails the normal suite, not only the fuzz step.
function(kbix_add_fuzzer name)
  cmake_parse_arguments(arg "" "" "SOURCES;DEPS" ${ARGN})
  if(KBIX_FUZZ)
    set(exe ${name})
    add_executable(${exe} ${arg_SOURCES})
    target_compile_options(${exe} PRIVATE -fsanitize=fuzzer)
    target_link_options(${exe} PRIVATE -fsanitize=fuzzer)
  else()
    set(exe ${name}_replay)
    add_executable(${exe} ${arg_SOURCES} ${PROJECT_SOURCE_DIR}/tests/fuzz/replay_main.cpp)
    add_test(NAME Fuzz.${name}.ReplaysEverySeed
      COMMAND ${exe} ${PROJECT_SOURCE_DIR}/tests/fuzz/seeds/${name})
    set_tests_properties(Fuzz.${name}.ReplaysEverySeed PROPERTIES LABELS "unit;fuzz" TIMEOUT 300)
  endif()
  target_link_libraries(${exe} PRIVATE ${arg_DEPS})
  target_include_directories(${exe} PRIVATE ${PROJECT_SOURCE_DIR}/tests)
  target_compile_definitions(${exe} PRIVATE
    KBIX_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    KBIX_ENVELOPE_TEST_KEYS="${PROJECT_BINARY_DIR}/tests/envelope-keys")
  add_dependencies(${exe} envelope_test_keys)
endfunction()
