#include "kbix/office/agile_encryption.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "kbix/core/file_safety.hpp"
#include "kbix/office/protected_file.hpp"
#include "office_test_support.hpp"

namespace {

namespace fs = std::filesystem;
using kbix::office::FilePassword;
using kbix::office::FileProfile;
using kbix::office::test::oracle_agile;
using kbix::office::test::synthetic_table;

// The committed example (tests/data/office/example-agile.xlsx) opens with this password; its
// README says so too. Only synthetic data is in it.
constexpr std::string_view kExamplePassword = "VRB4XMP-K7EHN2D-GTS9WAF";

class Agile : public kbix::office::test::OfficeScratch {
 protected:
  // The synthetic list as an encrypted workbook made through the public entry point.
  fs::path protect(const FilePassword& password, const std::string& name = "lijst.xlsx") {
    const auto out = dir_ / name;
    auto written = kbix::office::write_protected_file(synthetic_table(), FileProfile::xlsx_agile,
                                                      password, work_, out);
    EXPECT_TRUE(written) << (written ? "" : written.error().describe());
    return out;
  }
};

TEST_F(Agile, MsoffcryptoDecryptsItWithIntegrityAndEveryCellIsEqual) {
  auto password = FilePassword::generate();
  ASSERT_TRUE(password);
  const auto file = protect(*password);
  const auto outcome = oracle_agile(file, synthetic_table(), password->reveal(), dir_);
  EXPECT_EQ(outcome.exit_code, 0) << outcome.output;
}

TEST_F(Agile, AWrongPasswordIsRefused) {
  auto password = FilePassword::generate();
  auto other = FilePassword::generate();
  ASSERT_TRUE(password && other);
  const auto file = protect(*password);
  const auto outcome = oracle_agile(file, synthetic_table(), other->reveal(), dir_);
  EXPECT_EQ(outcome.exit_code, 3) << outcome.output;
}

TEST_F(Agile, OneFlippedByteInTheEncryptedPackageIsRefusedByTheIntegrityHmac) {
  auto password = FilePassword::generate();
  ASSERT_TRUE(password);
  const auto file = protect(*password);
  // The size header, the first ciphertext byte, and a byte of the last segment.
  for (const std::size_t offset : {0u, 8u, 4200u}) {
    const auto flipped = dir_ / ("flipped-" + std::to_string(offset) + ".xlsx");
    const auto flip = kbix::office::test::oracle_flip(file, flipped, "EncryptedPackage", offset);
    ASSERT_EQ(flip.exit_code, 0) << flip.output;
    const auto outcome = oracle_agile(flipped, synthetic_table(), password->reveal(), dir_);
    EXPECT_EQ(outcome.exit_code, 4) << "offset " << offset << ": " << outcome.output;
  }
}

TEST(AgileInput, TheSamePackageAndPasswordTwiceGiveUnrelatedFiles) {
  auto password = FilePassword::from_text(kExamplePassword);
  ASSERT_TRUE(password);
  const std::string package(10000, 'P');  // the same bytes twice, so only the crypto can differ
  auto a = kbix::office::encrypt_agile(package, *password);
  auto b = kbix::office::encrypt_agile(package, *password);
  ASSERT_TRUE(a && b);
  EXPECT_NE(*a, *b);  // fresh salts and a fresh intermediate key per file
}

TEST_F(Agile, ThePlainWorkbookNeverOutlivesTheCallAndTheFileIsPrivate) {
  auto password = FilePassword::generate();
  ASSERT_TRUE(password);
  const auto file = protect(*password);
  EXPECT_TRUE(fs::is_empty(work_));
  struct stat info {};
  ASSERT_EQ(::stat(file.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  // Refused half-way (a bad cell): still nothing left, no output.
  auto table = synthetic_table();
  table.rows[0][0] = "\x01";
  const auto refused = dir_ / "refused.xlsx";
  EXPECT_FALSE(kbix::office::write_protected_file(table, FileProfile::xlsx_agile, *password, work_,
                                                  refused));
  EXPECT_TRUE(fs::is_empty(work_));
  EXPECT_FALSE(fs::exists(refused));
}

TEST_F(Agile, APlainWorkbookLeftByACrashIsRemovedNotInTheWay) {
  std::ofstream(work_ / ".lijst.plain.xlsx") << "plaintext left by a crash";
  auto password = FilePassword::generate();
  ASSERT_TRUE(password);
  const auto file = protect(*password);
  EXPECT_TRUE(fs::exists(file));
  EXPECT_TRUE(fs::is_empty(work_));
}

TEST_F(Agile, AnExistingOutputIsNotReplaced) {
  auto password = FilePassword::generate();
  ASSERT_TRUE(password);
  const auto file = protect(*password);
  auto again = kbix::office::write_protected_file(synthetic_table(), FileProfile::xlsx_agile,
                                                  *password, work_, file);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, "io.exists");
}

TEST(AgileInput, AnEmptyPackageIsRefused) {
  auto password = FilePassword::generate();
  ASSERT_TRUE(password);
  EXPECT_EQ(kbix::office::encrypt_agile("", *password).error().code, "office.package_empty");
}

// The committed example opens with its password. With KBIX_REGENERATE_OFFICE_EXAMPLE=1 this test
// first writes a fresh one into the source tree (then commit it).
TEST_F(Agile, TheCommittedExampleOpensWithItsPassword) {
  const fs::path example = KBIX_OFFICE_EXAMPLE;
  auto password = FilePassword::from_text(kExamplePassword);
  ASSERT_TRUE(password);
  if (const char* regenerate = std::getenv("KBIX_REGENERATE_OFFICE_EXAMPLE");
      regenerate != nullptr && std::string_view(regenerate) == "1") {
    fs::remove(example);
    ASSERT_TRUE(kbix::office::write_protected_file(synthetic_table(), FileProfile::xlsx_agile,
                                                   *password, work_, example));
    fs::permissions(example, fs::perms::owner_read | fs::perms::owner_write |
                                 fs::perms::group_read | fs::perms::others_read);
  }
  ASSERT_TRUE(fs::exists(example));
  EXPECT_EQ(oracle_agile(example, synthetic_table(), kExamplePassword, dir_).exit_code, 0);
  auto wrong = FilePassword::generate();
  ASSERT_TRUE(wrong);
  EXPECT_EQ(oracle_agile(example, synthetic_table(), wrong->reveal(), dir_).exit_code, 3);
}

}  // namespace
