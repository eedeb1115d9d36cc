// Fuzzes the audit verifier with arbitrary log and checkpoint bytes: it reports, never crashes;
// an arbitrary file is (almost) never "intact" unless it is a valid chain.
#include "kbix/audit/audit_verify.hpp"

#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::filesystem::path dir = [] {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "kbix-fuzz-audit-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) std::abort();
    return std::filesystem::path(pattern);
  }();
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  const auto split = bytes.find('\x01');
  std::ofstream(dir / "audit.jsonl", std::ios::binary | std::ios::trunc) << bytes.substr(0, split);
  std::ofstream(dir / "checkpoints.jsonl", std::ios::binary | std::ios::trunc)
      << (split == std::string::npos ? "" : bytes.substr(split + 1));
  kbix::AuditVerifyOptions options;
  options.directory = dir;
  const auto report = kbix::verify_audit(options);
  if (!report.ok && report.error_code.rfind("audit.", 0) != 0) std::abort();
  (void)kbix::format_entries(options, std::nullopt);
  return 0;
}
