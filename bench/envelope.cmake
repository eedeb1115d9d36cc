# Benchmark of module 'envelope': a small CLI measured by bench/envelope/run-benchmark.sh.
add_executable(envelope_cli ${PROJECT_SOURCE_DIR}/bench/envelope/envelope_cli.cpp)
target_link_libraries(envelope_cli PRIVATE kbix_envelope)
