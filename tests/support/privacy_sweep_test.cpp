// The privacy sweep itself (support/privacy_sweep.hpp): it must find an INSZ of the extract in
// every form a bug could write it, and nothing else.
#include "support/privacy_sweep.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "support/temp_dir.hpp"

namespace kbix::test {
namespace {

namespace fs = std::filesystem;

const std::string kInsz = "85073003328";  // the documented example, 85.07.30-033.28

PrivacySweep sweep() {
  PrivacySweep s;
  s.add({kInsz, "01490700185"});
  return s;
}

std::string utf16le(const std::string& ascii) {
  std::string out;
  for (const char c : ascii) out += std::string{c, '\0'};
  return out;
}

std::string integer_bytes(std::uint64_t value, bool big_endian) {
  std::string out(8, '\0');
  for (std::size_t i = 0; i < 8; ++i) {
    out[big_endian ? 7 - i : i] = static_cast<char>(value >> (8 * i) & 0xff);
  }
  return out;
}

TEST(PrivacySweep, FindsTheNumberInEveryForm) {
  const auto s = sweep();
  for (const std::string& text : std::vector<std::string>{
           kInsz, "85.07.30-033.28", "850730 033 28", "85 07 30 033 28", "85/07/30/033/28",
           "850730-033-28", "id=x" + kInsz + "y", "9" + kInsz + "7", "abc85073003328",
           "\"insz\":\"85073003328\"", utf16le("value " + kInsz), "\x01" + utf16le(kInsz),
           integer_bytes(85073003328ULL, false), integer_bytes(85073003328ULL, true),
           integer_bytes(85073003328ULL, true).substr(2),  // SQLite's 6-byte INTEGER
           "x" + integer_bytes(1490700185ULL, false) + "y"}) {
    EXPECT_FALSE(s.find(text).empty()) << "not found in: " << text;
  }
}

TEST(PrivacySweep, FindsNothingElse) {
  const auto s = sweep();
  for (const std::string& text :
       std::vector<std::string>{std::string("85073003329"), std::string("8507300332"),
                                std::string("2026-11-22T13:55:03Z"),
                                std::string("run 20261122T135500Z-3f9a: 500 rows, 12 invalid"),
                                std::string(64, '0'), integer_bytes(85073003329ULL, false)}) {
    EXPECT_TRUE(s.find(text).empty()) << s.find(text).front();
  }
}

TEST(PrivacySweep, ReadsTheExtractsInszColumnWithoutKbix) {
  const fs::path dir = make_temp_dir("kbix-sweep");
  std::ofstream(dir / "kbi.csv") << "insz;geslacht\n85.07.30-033.28;M\n01490700185;V\n1234;X\n";
  EXPECT_EQ(insz_of_extract(dir / "kbi.csv"), (std::vector<std::string>{kInsz, "01490700185"}));
  std::ofstream(dir / "fake.p7m") << "not CMS at all";
  EXPECT_FALSE(parses_as_cms(dir / "fake.p7m")) << "a .p7m is skipped only when it is CMS";
  fs::remove_all(dir);
}

}  // namespace
}  // namespace kbix::test
