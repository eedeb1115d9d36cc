// A list as a protected file for a municipality, in the profile agreed with it:
//   xlsx-agile  an .xlsx encrypted with Excel's own password protection (agile_encryption.hpp):
//               Excel 2010+ and LibreOffice ask the password and open it, nothing to install;
//   zip-aes256  a .zip holding the plain .xlsx, AES-256 encrypted (zip_aes.hpp), opened with
//               7-Zip;
//   cms         for a municipality with its own certificate: a CMS envelope made by the envelope
//               module (kbix/envelope.hpp), not here; write_protected_file refuses it.
// Never ZipCrypto and never RC4 (Office 97–2003 encryption): both are broken; no profile names
// them.
#pragma once

#include <filesystem>
#include <string_view>

#include "kbix/core/result.hpp"
#include "kbix/office/password.hpp"
#include "kbix/office/workbook.hpp"

namespace kbix::office {

enum class FileProfile {
  xlsx_agile,
  zip_aes256,
  cms,  // slot for the envelope module's profile; see above
};

// "xlsx-agile", "zip-aes256", "cms"; anything else: "office.unknown_profile".
Result<FileProfile> parse_file_profile(std::string_view name);
std::string_view profile_name(FileProfile profile) noexcept;
// The file name extension a municipality sees: ".xlsx", ".zip", ".p7m".
std::string_view profile_extension(FileProfile profile) noexcept;

// Writes `table` as the protected file `output` (a new file, mode 0600, made visible atomically;
// an existing one is refused with "io.exists"). The plain workbook exists only inside `work_dir`
// (the caller's private directory) and is removed before this returns, whatever the outcome
// (one left there by a crash is removed first);
// the ZIP entry is named after `output` with the extension .xlsx.
// Errors: those of write_workbook, encrypt_agile and write_zip_aes256, "io.*", and
// "office.profile_elsewhere" for cms.
Status write_protected_file(const Table& table, FileProfile profile, const FilePassword& password,
                            const std::filesystem::path& work_dir,
                            const std::filesystem::path& output,
                            const WorkbookOptions& options = {});

}  // namespace kbix::office
