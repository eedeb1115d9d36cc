# Module 'core': result type, configuration, protocol, logging, files, digests, CLI.
kbix_add_module(core
  SOURCES
    ${PROJECT_SOURCE_DIR}/src/digest.cpp
    ${PROJECT_SOURCE_DIR}/src/file_safety.cpp
  DEPS OpenSSL::Crypto spdlog::spdlog tomlplusplus::tomlplusplus nlohmann_json::nlohmann_json
       Threads::Threads)
