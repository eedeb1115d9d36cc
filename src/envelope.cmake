# Module 'envelope': sign-then-encrypt with OpenSSL CMS, key loading, bounded CMS walker.
kbix_add_module(envelope
  SOURCES
    ${PROJECT_SOURCE_DIR}/src/cms_reader.cpp
    ${PROJECT_SOURCE_DIR}/src/envelope.cpp
    ${PROJECT_SOURCE_DIR}/src/envelope_open.cpp
    ${PROJECT_SOURCE_DIR}/src/keys.cpp
  DEPS kbix_core OpenSSL::Crypto spdlog::spdlog)
