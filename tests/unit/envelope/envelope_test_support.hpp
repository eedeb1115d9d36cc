// Helpers for the envelope tests: unique temp dirs, files, the openssl CLI, example keys.
#pragma once

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace kbix::test {

namespace fs = std::filesystem;

// Keys made at build time by keys-example/make-keys (see tests/envelope.cmake).
inline fs::path example_keys() {
  return fs::path(KBIX_ENVELOPE_TEST_KEYS);
}
inline fs::path key_file(const std::string& name) {
  return example_keys() / name;
}

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "kbix-envelope-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }
  fs::path operator/(const std::string& name) const { return path_ / name; }

 private:
  fs::path path_;
};

inline std::string read_file(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline void write_file(const fs::path& file, const std::string& bytes) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Runs a shell command; returns its exit status (stderr goes to the test log).
inline int run(const std::string& command) {
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

inline std::string quoted(const fs::path& path) {
  return "'" + path.string() + "'";
}

// Synthetic CSV: made-up numbers that are NOT valid INSZ (the checksum is deliberately wrong).
inline std::string synthetic_csv(int rows) {
  std::string csv = "insz\n";
  for (int i = 0; i < rows; ++i) {
    char line[32];
    std::snprintf(line, sizeof line, "99%07d00\n", i);
    csv += line;
  }
  return csv;
}

// Lists the directory entries (to show that nothing partial was left behind).
inline std::vector<std::string> entries(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.push_back(entry.path().filename());
  return names;
}

// Re-signs a copy of `certificate` (self-signed by `key`) with a validity window shifted by days.
inline void write_shifted_certificate(const fs::path& certificate, const fs::path& key,
                                      long not_before_days, long not_after_days,
                                      const fs::path& output) {
  FILE* cert_file = std::fopen(certificate.c_str(), "r");
  X509* cert = PEM_read_X509(cert_file, nullptr, nullptr, nullptr);
  std::fclose(cert_file);
  FILE* key_handle = std::fopen(key.c_str(), "r");
  EVP_PKEY* pkey = PEM_read_PrivateKey(key_handle, nullptr, nullptr, nullptr);
  std::fclose(key_handle);
  ASSERT_NE(cert, nullptr);
  ASSERT_NE(pkey, nullptr);
  X509_gmtime_adj(X509_getm_notBefore(cert), not_before_days * 86400);
  X509_gmtime_adj(X509_getm_notAfter(cert), not_after_days * 86400);
  ASSERT_GT(X509_sign(cert, pkey, EVP_sha256()), 0);
  FILE* out = std::fopen(output.c_str(), "w");
  PEM_write_X509(out, cert);
  std::fclose(out);
  X509_free(cert);
  EVP_PKEY_free(pkey);
}

}  // namespace kbix::test
