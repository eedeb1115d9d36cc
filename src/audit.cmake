# Module 'audit': the hash-chained audit log, signed checkpoints and the verifier.
kbix_add_module(audit
  SOURCES
    ${PROJECT_SOURCE_DIR}/src/audit.cpp
    ${PROJECT_SOURCE_DIR}/src/audit_tail.cpp
    ${PROJECT_SOURCE_DIR}/src/audit_verify.cpp
  DEPS kbix_core kbix_envelope kbix_domain OpenSSL::Crypto nlohmann_json::nlohmann_json)
