# The synthetic data generator (kbix-gen) and the library of synthetic values it shares with the
# partner simulator.
add_library(kbix_synthetic STATIC ${PROJECT_SOURCE_DIR}/tools/gen/synthetic.cpp)
target_include_directories(kbix_synthetic PUBLIC ${PROJECT_SOURCE_DIR}/tools/gen)
add_executable(kbix-gen ${PROJECT_SOURCE_DIR}/tools/gen/kbix_gen.cpp)
target_link_libraries(kbix-gen PRIVATE kbix_synthetic kbix_domain kbix_core CLI11::CLI11)
target_compile_definitions(kbix-gen PRIVATE
  KBIX_DEFAULT_PROTOCOL="${PROJECT_SOURCE_DIR}/config/protocols/vdab-derde-pijler-2023.toml")
