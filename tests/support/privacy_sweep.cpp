#include "support/privacy_sweep.hpp"

#include <fstream>
#include <sstream>

namespace kbix::test {

namespace fs = std::filesystem;

namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// Characters a formatter could put between the digits of a number.
bool is_separator(char c) {
  return c == ' ' || c == '.' || c == '-' || c == '/' || c == '_';
}

std::string shell_quoted(const fs::path& path) {
  std::string quoted = "'";
  for (const char c : path.string()) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

}  // namespace

std::vector<std::string> insz_of_extract(const fs::path& extract) {
  std::ifstream in(extract, std::ios::binary);
  std::vector<std::string> found;
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::string digits;
    for (const char c : line.substr(0, line.find(';'))) {
      if (is_digit(c)) digits += c;
    }
    if (digits.size() == 11) found.push_back(digits);
  }
  return found;
}

bool parses_as_cms(const fs::path& file) {
  const std::string command =
      "openssl cms -cmsout -inform DER -noout -in " + shell_quoted(file) + " >/dev/null 2>&1";
  return std::system(command.c_str()) == 0;
}

void PrivacySweep::add(const std::vector<std::string>& insz_digits) {
  for (const auto& digits : insz_digits) {
    digits_.insert(digits);
    values_.insert(std::stoull(digits));
  }
}

void PrivacySweep::find_in_text(std::string_view text, const char* encoding,
                                std::vector<std::string>& hits) const {
  // Each run of digits and separators, its digits joined, is searched at every offset: that
  // finds a number glued to other digits, and one glued to letters (which end the run).
  for (std::size_t at = 0; at < text.size();) {
    if (!is_digit(text[at])) {
      ++at;
      continue;
    }
    std::string digits;
    while (at < text.size() && (is_digit(text[at]) || is_separator(text[at]))) {
      if (is_digit(text[at])) digits += text[at];
      ++at;
    }
    for (std::size_t start = 0; start + 11 <= digits.size(); ++start) {
      const std::string candidate = digits.substr(start, 11);
      if (digits_.contains(candidate)) hits.push_back(candidate + " as " + encoding);
    }
  }
}

std::vector<std::string> PrivacySweep::find(std::string_view bytes) const {
  std::vector<std::string> hits;
  find_in_text(bytes, "text", hits);
  // UTF-16LE at both alignments: keep the low byte of each code unit whose high byte is 0.
  for (std::size_t alignment = 0; alignment < 2; ++alignment) {
    std::string narrowed;
    for (std::size_t i = alignment; i + 1 < bytes.size(); i += 2) {
      narrowed += bytes[i + 1] == '\0' ? bytes[i] : '\x01';
    }
    find_in_text(narrowed, "UTF-16LE", hits);
  }
  auto byte = [&](std::size_t i) {
    return static_cast<std::uint64_t>(static_cast<unsigned char>(bytes[i]));
  };
  for (std::size_t i = 0; i + 6 <= bytes.size(); ++i) {
    std::uint64_t big_endian = 0;  // 6 bytes: SQLite's INTEGER, and the tail of a 64-bit BE
    for (std::size_t k = 0; k < 6; ++k) big_endian = big_endian << 8 | byte(i + k);
    if (values_.contains(big_endian)) {
      hits.push_back(std::to_string(big_endian) + " as a big-endian integer");
    }
    if (i + 8 <= bytes.size()) {
      std::uint64_t little_endian = 0;
      for (std::size_t k = 8; k-- > 0;) little_endian = little_endian << 8 | byte(i + k);
      if (values_.contains(little_endian)) {
        hits.push_back(std::to_string(little_endian) + " as a 64-bit little-endian integer");
      }
    }
  }
  return hits;
}

}  // namespace kbix::test
