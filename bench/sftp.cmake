# Benchmark of module 'sftp': the same file up and down through kbix and through OpenSSH's
# `sftp -b`, against one real sshd in one run. See docs/bench-sftp.md.
add_executable(sftp_bench ${PROJECT_SOURCE_DIR}/bench/sftp/sftp_bench.cpp)
target_link_libraries(sftp_bench PRIVATE kbix_sftp kbix_test_sshd)
