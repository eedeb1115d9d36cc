// The privacy sweep of the end-to-end tests (invariants 4, 5, 10): searches bytes for the INSZ of
// the generated extract in every form a bug could write them. Its oracle is the list of numbers
// the test itself put into the extract, read here without kbix's code: no INSZ check of the
// product decides what counts as personal data.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace kbix::test {

// The INSZ column of an extract (the first field of each row after the header), separators
// dropped; every value with 11 digits, valid or not: an invalid INSZ is still personal data.
std::vector<std::string> insz_of_extract(const std::filesystem::path& extract);

// True when `openssl cms -cmsout -inform DER -noout` parses the file: a sealed envelope.
bool parses_as_cms(const std::filesystem::path& file);

class PrivacySweep {
 public:
  void add(const std::vector<std::string>& insz_digits);
  bool empty() const { return digits_.empty(); }
  // What was found, one line per hit ("85073003328 as text", "... as 64-bit LE"); empty: clean.
  // Forms: the 11 digits with any of ` .-/_` between them (plain, dotted, spaced, slashed), glued
  // to letters or digits, in UTF-16LE, and as an integer in 8 bytes LE or BE and in SQLite's
  // 6-byte big-endian INTEGER.
  std::vector<std::string> find(std::string_view bytes) const;

 private:
  void find_in_text(std::string_view text, const char* encoding,
                    std::vector<std::string>& hits) const;
  std::unordered_set<std::string> digits_;
  std::unordered_set<std::uint64_t> values_;
};

}  // namespace kbix::test
