// Helpers shared by the sftp integration tests (not a public fixture: see support/sshd_fixture).
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "kbix/core/digest.hpp"
#include "kbix/sftp/sftp.hpp"
#include "support/sshd_fixture.hpp"

namespace kbix::test {

// A scratch directory removed at the end of the test.
class ScratchDir {
 public:
  ScratchDir() : path_(make_temp_dir("kbix-sftp-test")) {}
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

inline std::string sha_of(const std::filesystem::path& file) {
  auto hex = sha256_file_hex(file);
  if (!hex) return "unreadable: " + hex.error().describe();
  return *hex;
}

inline SftpClient connect_or_die(const SftpSettings& settings) {
  auto client = SftpClient::connect(settings);
  if (!client) throw std::runtime_error("connect failed: " + client.error().describe());
  return std::move(client).value();
}

inline const std::string kOutName = "vdab-derde-pijler-2023_20260301T090000Z-1a2b.csv.p7m";
inline const std::string kReturnName =
    "vdab-derde-pijler-2023_20260301T090000Z-1a2b-verrijkt.csv.p7m";
inline const std::string kReturnPattern =
    R"(vdab-derde-pijler-2023_\d{8}T\d{6}Z-[0-9a-f]{4}-verrijkt\.csv\.p7m)";

}  // namespace kbix::test
