// Upload and download against a real OpenSSH sshd, checked by SHA-256.
#include <gtest/gtest.h>

#include "kbix/sftp/remote_name.hpp"
#include "sftp_test_support.hpp"

namespace kbix::test {
namespace {

void round_trip(std::uint64_t size) {
  SshdServer server;
  ScratchDir local;
  write_random_file(local / "out.p7m", size, size);
  const std::string local_sha = sha_of(local / "out.p7m");
  auto client = connect_or_die(server.client_settings());

  std::uint64_t last_done = 0;
  std::uint64_t last_total = 0;
  auto uploaded = client.upload(local / "out.p7m", "naar-vdab", kOutName,
                                [&](std::uint64_t done, std::uint64_t total) {
                                  EXPECT_GE(done, last_done);
                                  last_done = done;
                                  last_total = total;
                                });
  ASSERT_TRUE(uploaded) << uploaded.error().describe();
  EXPECT_EQ(*uploaded, size);
  EXPECT_EQ(last_done, size);
  EXPECT_EQ(last_total, size);
  EXPECT_EQ(sha_of(server.remote_file("naar-vdab", kOutName)), local_sha);
  // Nothing but the final name is left in the directory.
  auto listing = client.list("naar-vdab");
  ASSERT_TRUE(listing) << listing.error().describe();
  ASSERT_EQ(listing->entries.size(), 1u);
  EXPECT_EQ(listing->entries[0].name, kOutName);
  EXPECT_EQ(listing->entries[0].size, size);
  EXPECT_TRUE(listing->entries[0].is_regular_file);

  // The partner's return: put there through the file system, fetched over SFTP.
  std::filesystem::copy_file(local / "out.p7m", server.remote_file("van-vdab", kReturnName));
  last_done = 0;
  auto downloaded = client.download("van-vdab", kReturnName, local / "return.p7m",
                                    [&](std::uint64_t done, std::uint64_t total) {
                                      EXPECT_GE(done, last_done);
                                      last_done = done;
                                      last_total = total;
                                    });
  ASSERT_TRUE(downloaded) << downloaded.error().describe();
  EXPECT_EQ(*downloaded, size);
  EXPECT_EQ(last_done, size);
  EXPECT_EQ(sha_of(local / "return.p7m"), local_sha);
  EXPECT_EQ(
      std::filesystem::status(local / "return.p7m").permissions() & std::filesystem::perms::all,
      std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
}

TEST(SftpTransfer, OneKilobyteUpAndDown) {
  round_trip(1024);
}

TEST(SftpTransfer, HundredMegabytesUpAndDown) {
  round_trip(100ull * 1024 * 1024);
}

TEST(SftpTransfer, EmptyFileUpAndDown) {
  round_trip(0);
}

TEST(SftpTransfer, UploadNeverOverwritesAFinalName) {
  SshdServer server;
  ScratchDir local;
  write_random_file(local / "new.p7m", 5000, 1);
  write_random_file(server.remote_file("naar-vdab", kOutName), 300, 2);
  const std::string before = sha_of(server.remote_file("naar-vdab", kOutName));
  auto client = connect_or_die(server.client_settings());
  auto uploaded = client.upload(local / "new.p7m", "naar-vdab", kOutName);
  ASSERT_FALSE(uploaded);
  EXPECT_EQ(uploaded.error().code, "sftp.exists");
  EXPECT_EQ(sha_of(server.remote_file("naar-vdab", kOutName)), before);
  // No temporary file was left behind either.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(server.sftp_root() / "naar-vdab"),
                          std::filesystem::directory_iterator{}),
            1);
}

TEST(SftpTransfer, BeforeRenameSeesTheCompleteTemporaryFileAndCanCancelTheUpload) {
  SshdServer server;
  ScratchDir local;
  write_random_file(local / "out.p7m", 5000, 3);
  auto client = connect_or_die(server.client_settings());
  std::string seen;
  std::uintmax_t seen_size = 0;
  auto cancelled = client.upload(
      local / "out.p7m", "naar-vdab", kOutName, {}, [&](const std::string& temporary) -> Status {
        seen = temporary;
        seen_size = std::filesystem::file_size(server.remote_file("naar-vdab", temporary));
        return fail("audit.unavailable", "the caller could not record it");
      });
  ASSERT_FALSE(cancelled);
  EXPECT_EQ(cancelled.error().code, "audit.unavailable");
  EXPECT_TRUE(is_temporary_upload_name(seen)) << seen;
  EXPECT_EQ(seen_size, 5000u) << "called only once the temporary file is complete";
  EXPECT_TRUE(std::filesystem::is_empty(server.sftp_root() / "naar-vdab"))
      << "neither the temporary file nor a final name is left";

  std::string recorded;
  auto uploaded = client.upload(local / "out.p7m", "naar-vdab", kOutName, {},
                                [&](const std::string& temporary) -> Status {
                                  recorded = temporary;
                                  return ok();
                                });
  ASSERT_TRUE(uploaded) << uploaded.error().describe();
  EXPECT_FALSE(std::filesystem::exists(server.remote_file("naar-vdab", recorded)));
  EXPECT_EQ(sha_of(server.remote_file("naar-vdab", kOutName)), sha_of(local / "out.p7m"));
}

TEST(SftpTransfer, UploadRefusesAnInvalidFinalName) {
  SshdServer server;
  ScratchDir local;
  write_random_file(local / "f", 10, 1);
  auto client = connect_or_die(server.client_settings());
  auto uploaded = client.upload(local / "f", "naar-vdab", "../escape.p7m");
  ASSERT_FALSE(uploaded);
  EXPECT_EQ(uploaded.error().code, "sftp.name_bad_char");
  EXPECT_FALSE(std::filesystem::exists(server.sftp_root() / "escape.p7m"));
}

TEST(SftpTransfer, DownloadOfAMissingFileLeavesNothingLocally) {
  SshdServer server;
  ScratchDir local;
  auto client = connect_or_die(server.client_settings());
  auto downloaded = client.download("van-vdab", kReturnName, local / "x");
  ASSERT_FALSE(downloaded);
  EXPECT_EQ(downloaded.error().code, "sftp.not_found");
  EXPECT_TRUE(std::filesystem::is_empty(local.path()));
}

TEST(SftpTransfer, DownloadNeverReplacesALocalFile) {
  SshdServer server;
  ScratchDir local;
  write_random_file(server.remote_file("van-vdab", kReturnName), 4096, 3);
  write_random_file(local / "x", 10, 4);
  const std::string before = sha_of(local / "x");
  auto client = connect_or_die(server.client_settings());
  auto downloaded = client.download("van-vdab", kReturnName, local / "x");
  ASSERT_FALSE(downloaded);
  EXPECT_EQ(downloaded.error().code, "io.exists");
  EXPECT_EQ(sha_of(local / "x"), before);
}

// Issue 13 item 9: the listing says small, the file the server hands over is big (it grew, or
// the server lied): the cap is checked again on the opened file, before any byte is written.
TEST(SftpTransfer, DownloadOverTheCapIsRefusedAndLeavesNothing) {
  SshdServer server;
  ScratchDir local;
  write_random_file(server.remote_file("van-vdab", kReturnName), 1000, 5);
  auto client = connect_or_die(server.client_settings());
  auto listing = client.list("van-vdab");
  ASSERT_TRUE(listing) << listing.error().describe();
  ASSERT_EQ(listing->entries.size(), 1u);
  const std::uint64_t cap = listing->entries[0].size * 2;  // generous for what was listed
  write_random_file(server.remote_file("van-vdab", kReturnName), 3 << 20, 6);
  auto downloaded = client.download("van-vdab", kReturnName, local / "x", {}, cap);
  ASSERT_FALSE(downloaded);
  EXPECT_EQ(downloaded.error().code, "sftp.too_large") << downloaded.error().describe();
  EXPECT_TRUE(std::filesystem::is_empty(local.path())) << "nothing half-written";
  auto within = connect_or_die(server.client_settings())
                    .download("van-vdab", kReturnName, local / "y", {}, 3 << 20);
  ASSERT_TRUE(within) << "exactly at the cap is allowed: " << within.error().describe();
  EXPECT_EQ(*within, 3u << 20);
}

TEST(SftpTransfer, StatAndRemove) {
  SshdServer server;
  write_random_file(server.remote_file("van-vdab", kReturnName), 777, 5);
  auto client = connect_or_die(server.client_settings());
  auto entry = client.stat("van-vdab", kReturnName);
  ASSERT_TRUE(entry) << entry.error().describe();
  EXPECT_EQ(entry->size, 777u);
  EXPECT_TRUE(entry->is_regular_file);
  ASSERT_TRUE(client.remove("van-vdab", kReturnName));
  EXPECT_FALSE(std::filesystem::exists(server.remote_file("van-vdab", kReturnName)));
  auto again = client.remove("van-vdab", kReturnName);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, "sftp.not_found");
  auto gone = client.stat("van-vdab", kReturnName);
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code, "sftp.not_found");
}

}  // namespace
}  // namespace kbix::test
