#include "kbix/sftp/remote_name.hpp"

#include <gtest/gtest.h>

#include <string>

namespace kbix {
namespace {

std::string code_of(std::string_view name) {
  auto status = validate_remote_name(name);
  return status ? "ok" : status.error().code;
}

TEST(RemoteName, AcceptsTheExchangeNames) {
  EXPECT_EQ(code_of("vdab-derde-pijler-2023_20260101T120000Z-a1b2.csv.p7m"), "ok");
  EXPECT_EQ(code_of("vdab-derde-pijler-2023_20260101T120000Z-a1b2-verrijkt.csv.p7m"), "ok");
  EXPECT_EQ(code_of(".x.csv.p7m.part-00ff"), "ok");
  EXPECT_EQ(code_of("a"), "ok");
}

TEST(RemoteName, RefusesHostileNames) {
  EXPECT_EQ(code_of(""), "sftp.name_empty");
  EXPECT_EQ(code_of("."), "sftp.name_dots");
  EXPECT_EQ(code_of(".."), "sftp.name_dots");
  EXPECT_EQ(code_of("...."), "sftp.name_dots");
  EXPECT_EQ(code_of("../etc/passwd"), "sftp.name_bad_char");
  EXPECT_EQ(code_of("a/b"), "sftp.name_bad_char");
  EXPECT_EQ(code_of("..\\x"), "sftp.name_bad_char");
  EXPECT_EQ(code_of("a\nb"), "sftp.name_bad_char");
  EXPECT_EQ(code_of(std::string("a\0b", 3)), "sftp.name_bad_char");
  EXPECT_EQ(code_of("a\x7f"), "sftp.name_bad_char");
  EXPECT_EQ(code_of("caf\xc3\xa9"), "sftp.name_bad_char");
  EXPECT_EQ(code_of("with space"), "sftp.name_bad_char");
  EXPECT_EQ(code_of("-rf"), "sftp.name_leading_dash");
  EXPECT_EQ(code_of(std::string(kMaxRemoteNameLength, 'a')), "ok");
  EXPECT_EQ(code_of(std::string(kMaxRemoteNameLength + 1, 'a')), "sftp.name_too_long");
}

TEST(RemoteName, MessagesShowEscapedBytesOnly) {
  auto status = validate_remote_name("evil\n\x1b[2Jname");
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().message.find('\n'), std::string::npos);
  EXPECT_EQ(status.error().message.find('\x1b'), std::string::npos);
  EXPECT_NE(status.error().message.find("evil\\x0a\\x1b[2Jname"), std::string::npos);
}

TEST(RemoteName, EscapeCutsOverlongNames) {
  const std::string escaped = escape_remote_name(std::string(1000, 'b'));
  EXPECT_EQ(escaped, std::string(kMaxRemoteNameLength, 'b') + "...");
  EXPECT_EQ(escape_remote_name("a\\b"), "a\\x5cb");
}

TEST(RemoteName, TemporaryUploadNames) {
  const std::string name = temporary_upload_name("p_r.csv.p7m", "0a1b2c3d");
  EXPECT_EQ(name, ".p_r.csv.p7m.part-0a1b2c3d");
  EXPECT_TRUE(is_temporary_upload_name(name));
  EXPECT_TRUE(validate_remote_name(name));
  EXPECT_FALSE(is_temporary_upload_name("p_r.csv.p7m"));
  EXPECT_FALSE(is_temporary_upload_name(".p_r.csv.p7m.part-"));
  EXPECT_FALSE(is_temporary_upload_name(".p_r.csv.p7m.part-xyz"));
}

}  // namespace
}  // namespace kbix
