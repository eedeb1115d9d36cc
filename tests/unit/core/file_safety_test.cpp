#include "kbix/core/file_safety.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

namespace {

namespace fs = std::filesystem;

class FileSafety : public testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        fs::temp_directory_path() / ("kbix-files-" + std::to_string(::getpid()) + "-" +
                                     testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::size_t entries() const {
    return static_cast<std::size_t>(std::distance(fs::directory_iterator(dir_), {}));
  }
  static std::string read(const fs::path& file) {
    std::ifstream in(file);
    return {std::istreambuf_iterator<char>(in), {}};
  }
  fs::path dir_;
};

TEST_F(FileSafety, NothingVisibleUnderTheFinalNameBeforeCommit) {
  auto file = kbix::AtomicFile::create(dir_ / "out.csv");
  ASSERT_TRUE(file);
  ASSERT_TRUE(file->write("a;b\n"));
  EXPECT_FALSE(fs::exists(dir_ / "out.csv"));
  ASSERT_TRUE(file->commit());
  EXPECT_EQ(read(dir_ / "out.csv"), "a;b\n");
  EXPECT_EQ(entries(), 1u);  // the temporary name is gone
  EXPECT_EQ(fs::status(dir_ / "out.csv").permissions(), fs::perms(0600));
}

TEST_F(FileSafety, DroppedWithoutCommitLeavesNothing) {
  {
    auto file = kbix::AtomicFile::create(dir_ / "out.csv");
    ASSERT_TRUE(file);
    ASSERT_TRUE(file->write("partial"));
    EXPECT_EQ(entries(), 1u);
  }
  EXPECT_EQ(entries(), 0u);
}

TEST_F(FileSafety, CreateNewNeverReplacesAnExistingFile) {
  std::ofstream(dir_ / "out.csv") << "first";
  auto file = kbix::AtomicFile::create_new(dir_ / "out.csv");
  ASSERT_TRUE(file);
  ASSERT_TRUE(file->write("second"));
  auto committed = file->commit();
  ASSERT_FALSE(committed);
  EXPECT_EQ(committed.error().code, "io.exists");
  EXPECT_EQ(read(dir_ / "out.csv"), "first");
  EXPECT_EQ(entries(), 1u);
}

TEST_F(FileSafety, CreateReplacesAtomically) {
  std::ofstream(dir_ / "out.csv") << "first";
  struct stat before {};
  ASSERT_EQ(::stat((dir_ / "out.csv").c_str(), &before), 0);
  std::ifstream reader_of_the_old_file(dir_ / "out.csv");
  ASSERT_TRUE(kbix::write_file_atomically(dir_ / "out.csv", "second"));
  EXPECT_EQ(read(dir_ / "out.csv"), "second");
  // Replaced by a rename, not rewritten in place: a new inode under the name, the old file intact
  // for a reader that had it open, and no temporary file left beside it.
  struct stat after {};
  ASSERT_EQ(::stat((dir_ / "out.csv").c_str(), &after), 0);
  EXPECT_NE(after.st_ino, before.st_ino);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(reader_of_the_old_file), {}), "first");
  EXPECT_EQ(entries(), 1u) << "a temporary file was left";
}

TEST_F(FileSafety, MissingDirectoryIsAnErrorValue) {
  auto file = kbix::AtomicFile::create(dir_ / "no" / "such" / "out.csv");
  ASSERT_FALSE(file);
  EXPECT_EQ(file.error().code, "io.create");
}

TEST_F(FileSafety, PrivateKeyReadableByOthersIsRefused) {
  const auto key = dir_ / "key.pem";
  std::ofstream(key) << "secret";
  for (unsigned mode : {0600u, 0400u}) {
    fs::permissions(key, fs::perms(mode));
    EXPECT_TRUE(kbix::check_private_file(key)) << std::oct << mode;
  }
  for (unsigned mode : {0640u, 0644u, 0604u, 0660u, 0606u}) {
    fs::permissions(key, fs::perms(mode));
    auto checked = kbix::check_private_file(key);
    ASSERT_FALSE(checked) << std::oct << mode;
    EXPECT_EQ(checked.error().code, "security.key_file_mode");
    EXPECT_NE(checked.error().message.find(key.string()), std::string::npos);
  }
  fs::permissions(key, fs::perms(0644));
  EXPECT_NE(kbix::check_private_file(key).error().message.find("mode 0644"), std::string::npos);
  EXPECT_EQ(kbix::check_private_file(dir_ / "absent").error().code, "security.key_file_missing");
}

TEST_F(FileSafety, SmallFilesAreReadWholeAndBigOrUnreadableOnesAreErrorValues) {
  const auto file = dir_ / "passphrase";
  std::ofstream(file) << std::string(100, 'p');
  auto whole = kbix::read_small_file(file, 100, "keys.unreadable");
  ASSERT_TRUE(whole) << whole.error().describe();
  EXPECT_EQ(*whole, std::string(100, 'p')) << "exactly the limit is fine";
  auto big = kbix::read_small_file(file, 99, "keys.unreadable");
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().code, "keys.unreadable");
  EXPECT_NE(big.error().message.find(file.string() + ": larger than 99 bytes"), std::string::npos);
  auto missing = kbix::read_small_file(dir_ / "absent", 10, "keys.unreadable");
  EXPECT_EQ(missing.error().code, "keys.unreadable");
  auto directory = kbix::read_small_file(dir_, 10, "keys.unreadable");
  ASSERT_FALSE(directory) << "reading a directory fails (EISDIR) as a value, not an exception";
  EXPECT_NE(directory.error().message.find("read failed"), std::string::npos)
      << directory.error().message;
  std::ofstream(dir_ / "empty");
  EXPECT_EQ(*kbix::read_small_file(dir_ / "empty", 10, "keys.unreadable"), "");
}

}  // namespace
