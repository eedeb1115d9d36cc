#include "kbix/office/zip_aes.hpp"

#include <zip.h>

#include <memory>

namespace kbix::office {
namespace {

Unexpected<Error> zip_failed(std::string_view step, zip_error_t* error) {
  return fail("office.zip_write",
              "writing the ZIP archive failed while " + std::string(step) + " (" +
                  (error != nullptr ? zip_error_strerror(error) : "unknown error") + ")");
}

struct SourceFree {
  void operator()(zip_source_t* source) const noexcept { zip_source_free(source); }
};

}  // namespace

Result<std::string> write_zip_aes256(std::string_view content, std::string_view entry_name,
                                     const FilePassword& password) {
  if (entry_name.empty() || entry_name.size() > 255 ||
      entry_name.find_first_of(std::string_view("/\\\0", 3)) != std::string_view::npos ||
      entry_name == "." || entry_name == "..")
    return fail("office.zip_entry_name", "the ZIP entry needs a plain file name");
  if (zip_encryption_method_supported(ZIP_EM_AES_256, 1) == 0)
    return fail("office.zip_aes_unsupported", "this libzip cannot write AES-256 entries");

  // The archive is built in a libzip buffer source (libzip's in-memory pattern): no temporary
  // file, so the plaintext never touches the disk here.
  zip_error_t error;
  zip_error_init(&error);
  std::unique_ptr<zip_source_t, SourceFree> target(zip_source_buffer_create(nullptr, 0, 0, &error));
  if (!target) return zip_failed("creating the buffer", &error);
  zip_t* archive = zip_open_from_source(target.get(), ZIP_TRUNCATE, &error);
  if (archive == nullptr) return zip_failed("opening the archive", &error);
  zip_source_keep(target.get());  // the archive's close must leave us the written buffer

  zip_source_t* entry = zip_source_buffer(archive, content.data(), content.size(), 0);
  const std::string name(entry_name);
  const zip_int64_t index =
      entry == nullptr ? -1 : zip_file_add(archive, name.c_str(), entry, ZIP_FL_ENC_UTF_8);
  if (index < 0) {
    if (entry != nullptr) zip_source_free(entry);
    const auto failure = zip_failed("adding the entry", zip_get_error(archive));
    zip_discard(archive);
    return failure;
  }
  if (zip_file_set_encryption(archive, static_cast<zip_uint64_t>(index), ZIP_EM_AES_256,
                              password.reveal().data()) != 0 ||
      zip_set_file_compression(archive, static_cast<zip_uint64_t>(index), ZIP_CM_DEFLATE, 9) != 0) {
    const auto failure = zip_failed("setting the encryption", zip_get_error(archive));
    zip_discard(archive);
    return failure;
  }
  if (zip_close(archive) != 0) {
    const auto failure = zip_failed("closing the archive", zip_get_error(archive));
    zip_discard(archive);
    return failure;
  }

  zip_stat_t stat;
  zip_stat_init(&stat);
  if (zip_source_stat(target.get(), &stat) != 0 || (stat.valid & ZIP_STAT_SIZE) == 0)
    return zip_failed("measuring the result", zip_source_error(target.get()));
  if (zip_source_open(target.get()) != 0)
    return zip_failed("reading the result", zip_source_error(target.get()));
  std::string bytes(static_cast<std::size_t>(stat.size), '\0');
  const zip_int64_t read = zip_source_read(target.get(), bytes.data(), stat.size);
  zip_source_close(target.get());
  if (read < 0 || static_cast<zip_uint64_t>(read) != stat.size)
    return zip_failed("reading the result", zip_source_error(target.get()));
  return bytes;
}

}  // namespace kbix::office
