# Fuzz targets of module 'envelope' (built only with -DKBIX_FUZZ=ON and clang++).
# Run: build-fuzz/envelope_cms_reader_fuzz -max_total_time=60 <corpus dir>
kbix_add_fuzzer(envelope_cms_reader_fuzz
  SOURCES ${PROJECT_SOURCE_DIR}/tests/fuzz/envelope_cms_reader.cpp
  DEPS kbix_envelope)
