# Module 'core': result type, configuration, protocol, logging, files, digests.
kbix_add_module(core
  SOURCES
    ${PROJECT_SOURCE_DIR}/src/config.cpp
    ${PROJECT_SOURCE_DIR}/src/digest.cpp
    ${PROJECT_SOURCE_DIR}/src/file_safety.cpp
    ${PROJECT_SOURCE_DIR}/src/logging.cpp
    ${PROJECT_SOURCE_DIR}/src/protocol.cpp
    ${PROJECT_SOURCE_DIR}/src/toml_reader.cpp
  DEPS OpenSSL::Crypto spdlog::spdlog tomlplusplus::tomlplusplus nlohmann_json::nlohmann_json
       PkgConfig::SYSTEMD Threads::Threads)
