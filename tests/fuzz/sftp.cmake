# Fuzz targets of module 'sftp' (built only with -DKBIX_FUZZ=ON and clang++).
# Run: build-fuzz/sftp_remote_name_fuzz -max_total_time=60
kbix_add_fuzzer(sftp_remote_name_fuzz
  SOURCES ${PROJECT_SOURCE_DIR}/tests/fuzz/sftp_remote_name.cpp
  DEPS kbix_sftp)
