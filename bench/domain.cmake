# Benchmark of the domain steps against pandas: bench/domain/run.sh (docs/bench-domain.md).
add_executable(domain_bench ${PROJECT_SOURCE_DIR}/bench/domain/domain_bench.cpp)
target_link_libraries(domain_bench PRIVATE kbix_domain)
target_compile_definitions(domain_bench PRIVATE
  KBIX_DEFAULT_PROTOCOL="${PROJECT_SOURCE_DIR}/config/protocols/vdab-derde-pijler-2023.toml")
