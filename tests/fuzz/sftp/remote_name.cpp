// libFuzzer target: remote file names from an untrusted SFTP server.
// Checks the parser's promises, not just absence of crashes: an accepted name is short and
// from the allowlist, and the escaped form is always printable ASCII.
#include "kbix/sftp/remote_name.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view name(reinterpret_cast<const char*>(data), size);
  const auto status = kbix::validate_remote_name(name);
  if (status) {
    if (name.empty() || name.size() > kbix::kMaxRemoteNameLength) std::abort();
    if (name.find('/') != std::string_view::npos || name == "." || name == "..") std::abort();
  } else if (status.error().code.rfind("sftp.name_", 0) != 0) {
    std::abort();
  }
  for (const char c : kbix::escape_remote_name(name)) {
    if (c <= 0x20 || c >= 0x7f) std::abort();
  }
  if (kbix::is_temporary_upload_name(name) && name.front() != '.') std::abort();
  return 0;
}
