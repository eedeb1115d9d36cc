# Module 'domain': INSZ, CSV, schemas and the pipeline steps (export, merge, scan, manifest).
kbix_add_module(domain
  SOURCES
    ${PROJECT_SOURCE_DIR}/src/csv.cpp
    ${PROJECT_SOURCE_DIR}/src/extract_export.cpp
    ${PROJECT_SOURCE_DIR}/src/insz.cpp
    ${PROJECT_SOURCE_DIR}/src/manifest.cpp
    ${PROJECT_SOURCE_DIR}/src/merge.cpp
    ${PROJECT_SOURCE_DIR}/src/output_scan.cpp
    ${PROJECT_SOURCE_DIR}/src/pseudonym.cpp
    ${PROJECT_SOURCE_DIR}/src/schema.cpp
  DEPS kbix_core OpenSSL::Crypto spdlog::spdlog nlohmann_json::nlohmann_json)
