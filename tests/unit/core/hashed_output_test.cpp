#include "kbix/core/hashed_output.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "kbix/core/digest.hpp"

namespace {

namespace fs = std::filesystem;

std::string read_all(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Small writes, single characters and writes larger than the buffer, in one order: the file holds
// exactly those bytes and the hash is theirs (past several write-back starts).
TEST(HashedOutput, TheFileHoldsTheBytesHashed) {
  const fs::path file = fs::temp_directory_path() / ("kbix-hashed-" + std::to_string(::getpid()));
  std::string expected;
  {
    kbix::HashedOutput out(file);
    ASSERT_TRUE(out.good());
    for (int i = 0; i < 40; ++i) {
      const std::string small = "row " + std::to_string(i) + ";x\n";
      const std::string large((i % 7 + 1) * 700'000, static_cast<char>('a' + i % 26));
      out.stream() << small;
      out.stream().put('#');
      out.stream().write(large.data(), static_cast<std::streamsize>(large.size()));
      expected += small + "#" + large;
    }
    ASSERT_TRUE(out.close());
    EXPECT_EQ(out.sha256_hex(), kbix::sha256_hex(expected));
  }
  EXPECT_EQ(read_all(file), expected);
  auto from_file = kbix::sha256_file_hex(file);
  ASSERT_TRUE(from_file);
  EXPECT_EQ(*from_file, kbix::sha256_hex(expected));
  fs::remove(file);
}

TEST(HashedOutput, AnEmptyFileHasTheEmptyHash) {
  const fs::path file =
      fs::temp_directory_path() / ("kbix-hashed-empty-" + std::to_string(::getpid()));
  kbix::HashedOutput out(file);
  ASSERT_TRUE(out.close());
  EXPECT_EQ(out.sha256_hex(), kbix::sha256_hex(""));
  EXPECT_EQ(fs::file_size(file), 0u);
  fs::remove(file);
}

TEST(HashedOutput, AFailedWriteIsReportedByClose) {
  kbix::HashedOutput full("/dev/full");
  const std::string bytes(3 << 20, 'x');
  full.stream().write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  const auto closed = full.close();
  ASSERT_FALSE(closed);
  EXPECT_EQ(closed.error().code, "io.write");
  EXPECT_NE(closed.error().message.find("/dev/full"), std::string::npos);

  kbix::HashedOutput missing("/nonexistent-kbix-dir/output.csv");
  EXPECT_FALSE(missing.good());
  EXPECT_FALSE(missing.close());
}

// The merged output waits in the output folder, private to kbix, until it is published: it is
// created with the mode asked for (under the umask) and never written through a symbolic link
// someone left under its name.
TEST(HashedOutput, CreatesWithTheModeGivenAndRefusesASymbolicLink) {
  const fs::path dir =
      fs::temp_directory_path() / ("kbix-hashed-mode-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const mode_t old_umask = ::umask(022);
  {
    kbix::HashedOutput out(dir / "private.csv", 0600);
    ASSERT_TRUE(out.good());
    out.stream() << "profile\n";
    ASSERT_TRUE(out.close());
  }
  ::umask(old_umask);
  struct stat info {};
  ASSERT_EQ(::stat((dir / "private.csv").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 07777, 0600u);

  const fs::path target = dir / "elsewhere.csv";
  std::ofstream(target) << "untouched\n";
  fs::create_symlink(target, dir / "link.csv");
  kbix::HashedOutput through_link(dir / "link.csv", 0600);
  EXPECT_FALSE(through_link.good());
  EXPECT_FALSE(through_link.close());
  EXPECT_EQ(read_all(target), "untouched\n") << "nothing was written through the link";
  fs::remove_all(dir);
}

}  // namespace
