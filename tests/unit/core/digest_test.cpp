#include "kbix/core/digest.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace {

// FIPS 180-2 test vectors.
TEST(Digest, MatchesPublishedVectors) {
  EXPECT_EQ(kbix::sha256_hex(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(kbix::sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Digest, IncrementalEqualsOneShot) {
  kbix::Sha256 hash;
  hash.update(std::string_view("ab"));
  hash.update(std::string_view("c"));
  EXPECT_EQ(kbix::to_hex(hash.finish()), kbix::sha256_hex("abc"));
}

TEST(Digest, FileHashStreamsLargeFiles) {
  const auto file =
      std::filesystem::temp_directory_path() / ("kbix-digest-" + std::to_string(::getpid()));
  std::string content(300000, 'x');
  std::ofstream(file, std::ios::binary) << content;
  auto hex = kbix::sha256_file_hex(file);
  ASSERT_TRUE(hex);
  EXPECT_EQ(*hex, kbix::sha256_hex(content));
  std::filesystem::remove(file);
  EXPECT_EQ(kbix::sha256_file_hex(file).error().code, "io.read");
}

}  // namespace
