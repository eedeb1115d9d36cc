# Fuzz targets of module 'domain' (built only with -DKBIX_FUZZ=ON and clang++).
kbix_add_fuzzer(domain_csv_fuzz SOURCES ${PROJECT_SOURCE_DIR}/tests/fuzz/domain_csv.cpp DEPS kbix_domain)
kbix_add_fuzzer(domain_insz_fuzz SOURCES ${PROJECT_SOURCE_DIR}/tests/fuzz/domain_insz.cpp DEPS kbix_domain)
