#include "kbix/sftp/remote_name.hpp"

#include <algorithm>
#include <cstdio>

namespace kbix {
namespace {

constexpr std::string_view kPartMarker = ".part-";

bool is_allowed_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

}  // namespace

std::string escape_remote_name(std::string_view name) {
  std::string out;
  const std::size_t shown = std::min(name.size(), kMaxRemoteNameLength);
  out.reserve(shown + 8);
  for (std::size_t i = 0; i < shown; ++i) {
    const auto byte = static_cast<unsigned char>(name[i]);
    if (byte > 0x20 && byte < 0x7f && byte != '\\') {
      out.push_back(static_cast<char>(byte));
    } else {
      char hex[5];
      std::snprintf(hex, sizeof hex, "\\x%02x", static_cast<unsigned>(byte));
      out += hex;
    }
  }
  if (shown < name.size()) out += "...";
  return out;
}

Status validate_remote_name(std::string_view name) {
  if (name.empty()) return fail("sftp.name_empty", "remote file name is empty");
  if (name.size() > kMaxRemoteNameLength) {
    return fail("sftp.name_too_long", "remote file name longer than " +
                                          std::to_string(kMaxRemoteNameLength) +
                                          " bytes: " + escape_remote_name(name));
  }
  if (!std::all_of(name.begin(), name.end(), is_allowed_char)) {
    return fail("sftp.name_bad_char", "remote file name has a character outside [A-Za-z0-9._-]: " +
                                          escape_remote_name(name));
  }
  if (std::all_of(name.begin(), name.end(), [](char c) { return c == '.'; })) {
    return fail("sftp.name_dots", "remote file name is only dots: " + escape_remote_name(name));
  }
  if (name.front() == '-') {
    return fail("sftp.name_leading_dash",
                "remote file name starts with '-': " + escape_remote_name(name));
  }
  return ok();
}

std::string temporary_upload_name(std::string_view final_name, std::string_view random_hex) {
  std::string name = ".";
  name += final_name;
  name += kPartMarker;
  name += random_hex;
  return name;
}

bool is_temporary_upload_name(std::string_view name) {
  if (name.size() < 2 || name.front() != '.') return false;
  const auto marker = name.rfind(kPartMarker);
  if (marker == std::string_view::npos || marker < 2) return false;
  const auto hex = name.substr(marker + kPartMarker.size());
  return !hex.empty() && std::all_of(hex.begin(), hex.end(), is_hex);
}

}  // namespace kbix
