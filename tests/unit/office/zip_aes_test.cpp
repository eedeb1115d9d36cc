#include "kbix/office/zip_aes.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "kbix/office/protected_file.hpp"
#include "office_test_support.hpp"
#include "support/temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
using kbix::office::FilePassword;
using kbix::office::FileProfile;
using kbix::office::test::run;
using kbix::office::test::synthetic_table;

class ZipAes : public kbix::office::test::OfficeScratch {
 protected:
  void SetUp() override {
    OfficeScratch::SetUp();
    auto password = FilePassword::generate();
    ASSERT_TRUE(password);
    password_.emplace(std::move(*password));
    zip_ = dir_ / "genk-lijst.zip";
    auto written = kbix::office::write_protected_file(synthetic_table(), FileProfile::zip_aes256,
                                                      *password_, work_, zip_);
    ASSERT_TRUE(written) << written.error().describe();
  }
  std::string seven_zip(const std::string& args) {
    return "7z " + args + " '" + zip_.string() + "'";
  }

  fs::path zip_;
  std::optional<FilePassword> password_;
};

TEST_F(ZipAes, SevenZipOpensItAndTheWorkbookInsideIsEqual) {
  const auto out = dir_ / "out";
  const auto extracted =
      run(seven_zip("x -y -p" + std::string(password_->reveal()) + " -o'" + out.string() + "'"));
  ASSERT_EQ(extracted.exit_code, 0) << extracted.output;
  const auto workbook = out / "genk-lijst.xlsx";
  ASSERT_TRUE(fs::exists(workbook));
  const auto read = kbix::office::test::oracle_xlsx(workbook, synthetic_table(), dir_);
  EXPECT_EQ(read.exit_code, 0) << read.output;
  EXPECT_TRUE(fs::is_empty(work_));
}

TEST_F(ZipAes, TheEntryIsAes256NeverZipCrypto) {
  const auto listed = run(seven_zip("l -slt -p" + std::string(password_->reveal())));
  ASSERT_EQ(listed.exit_code, 0) << listed.output;
  EXPECT_NE(listed.output.find("Method = AES-256 Deflate"), std::string::npos) << listed.output;
  EXPECT_EQ(listed.output.find("ZipCrypto"), std::string::npos);
  EXPECT_NE(listed.output.find("Encrypted = +"), std::string::npos);
}

TEST_F(ZipAes, AWrongPasswordFails) {
  auto other = FilePassword::generate();
  ASSERT_TRUE(other);
  const auto extracted = run(seven_zip("x -y -p" + std::string(other->reveal()) + " -o'" +
                                       (dir_ / "wrong").string() + "'"));
  EXPECT_NE(extracted.exit_code, 0) << extracted.output;
  EXPECT_NE(extracted.output.find("Wrong password"), std::string::npos) << extracted.output;
}

TEST(ZipAesEntry, NeedsAPlainFileName) {
  auto password = FilePassword::generate();
  ASSERT_TRUE(password);
  for (const std::string_view name : {"", "../x.xlsx", "a/b.xlsx", "..", "a\\b"})
    EXPECT_EQ(kbix::office::write_zip_aes256("x", name, *password).error().code,
              "office.zip_entry_name")
        << name;
}

TEST(FileProfiles, ParseTheirNamesAndCmsIsLeftToTheEnvelopeModule) {
  EXPECT_EQ(*kbix::office::parse_file_profile("xlsx-agile"), FileProfile::xlsx_agile);
  EXPECT_EQ(*kbix::office::parse_file_profile("zip-aes256"), FileProfile::zip_aes256);
  EXPECT_EQ(*kbix::office::parse_file_profile("cms"), FileProfile::cms);
  for (const std::string_view refused : {"zipcrypto", "rc4", "xlsx", ""})
    EXPECT_EQ(kbix::office::parse_file_profile(refused).error().code, "office.unknown_profile");
  for (const auto profile : {FileProfile::xlsx_agile, FileProfile::zip_aes256, FileProfile::cms})
    EXPECT_EQ(*kbix::office::parse_file_profile(kbix::office::profile_name(profile)), profile);
  EXPECT_EQ(kbix::office::profile_extension(FileProfile::zip_aes256), ".zip");

  const auto dir = kbix::test::make_temp_dir("kbix-office-cms");
  auto password = FilePassword::generate();
  ASSERT_TRUE(password);
  auto cms = kbix::office::write_protected_file(synthetic_table(), FileProfile::cms, *password, dir,
                                                dir / "x.p7m");
  ASSERT_FALSE(cms);
  EXPECT_EQ(cms.error().code, "office.profile_elsewhere");
  fs::remove_all(dir);
}

}  // namespace
