#include "kbix/office/protected_file.hpp"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <system_error>

#include "kbix/core/file_safety.hpp"
#include "kbix/office/agile_encryption.hpp"
#include "kbix/office/zip_aes.hpp"

namespace kbix::office {
namespace {

struct ProfileName {
  FileProfile profile;
  std::string_view name;
  std::string_view extension;
};
constexpr std::array<ProfileName, 3> kProfiles{{{FileProfile::xlsx_agile, "xlsx-agile", ".xlsx"},
                                                {FileProfile::zip_aes256, "zip-aes256", ".zip"},
                                                {FileProfile::cms, "cms", ".p7m"}}};

// The plain workbook, removed (and its bytes in memory wiped) when this goes.
struct PlainWorkbook {
  std::filesystem::path path;
  std::string bytes;
  ~PlainWorkbook() {
    OPENSSL_cleanse(bytes.data(), bytes.size());
    std::error_code ignored;
    std::filesystem::remove(path, ignored);
  }
};

Status read_whole(PlainWorkbook& plain) {
  const int fd = ::open(plain.path.c_str(), O_RDONLY | O_CLOEXEC);
  struct stat info {};
  if (fd < 0 || ::fstat(fd, &info) != 0) {
    const int err = errno;
    if (fd >= 0) ::close(fd);
    return fail("io.read", plain.path.string() + ": cannot read (" + std::strerror(err) + ")");
  }
  plain.bytes.assign(static_cast<std::size_t>(info.st_size), '\0');
  std::size_t got = 0;
  while (got < plain.bytes.size()) {
    const ssize_t n = ::read(fd, plain.bytes.data() + got, plain.bytes.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  ::close(fd);
  if (got != plain.bytes.size())
    return fail("io.read", plain.path.string() + ": short read of the workbook");
  return ok();
}

}  // namespace

Result<FileProfile> parse_file_profile(std::string_view name) {
  for (const auto& known : kProfiles)
    if (known.name == name) return known.profile;
  return fail("office.unknown_profile",
              "unknown file profile (known: xlsx-agile, zip-aes256, cms)");
}

std::string_view profile_name(FileProfile profile) noexcept {
  for (const auto& known : kProfiles)
    if (known.profile == profile) return known.name;
  return "?";
}

std::string_view profile_extension(FileProfile profile) noexcept {
  for (const auto& known : kProfiles)
    if (known.profile == profile) return known.extension;
  return "";
}

Status write_protected_file(const Table& table, FileProfile profile, const FilePassword& password,
                            const std::filesystem::path& work_dir,
                            const std::filesystem::path& output, const WorkbookOptions& options) {
  if (profile == FileProfile::cms)
    return fail("office.profile_elsewhere",
                "the cms profile is made by the envelope module, not as an office file");
  std::error_code exists_error;
  if (std::filesystem::exists(output, exists_error))
    return fail("io.exists", output.string() + ": already exists");

  PlainWorkbook plain;
  plain.path = work_dir / ("." + output.stem().string() + ".plain.xlsx");
  std::error_code leftover;  // a plain workbook left by a crash: plaintext, so it goes first
  std::filesystem::remove(plain.path, leftover);
  KBIX_TRY(write_workbook(table, plain.path, options));
  KBIX_TRY(read_whole(plain));

  Result<std::string> protected_bytes =
      profile == FileProfile::xlsx_agile
          ? encrypt_agile(plain.bytes, password)
          : write_zip_aes256(plain.bytes, output.stem().string() + ".xlsx", password);
  if (!protected_bytes) return fail(std::move(protected_bytes).error());

  KBIX_ASSIGN_OR_RETURN(auto file, AtomicFile::create_new(output, 0600));
  KBIX_TRY(file.write(*protected_bytes));
  return file.commit();
}

}  // namespace kbix::office
