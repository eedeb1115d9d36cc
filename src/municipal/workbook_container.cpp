#include "internal/workbook_container.hpp"

#include <zip.h>

#include <algorithm>
#include <array>

#include "internal/status_records.hpp"

namespace kbix::municipal::internal {
namespace {

// Entries smaller than this are never called a bomb (a small part of spaces compresses well).
constexpr std::uint64_t kRatioFloor = 1ULL << 20;

}  // namespace

struct WorkbookContainer::Archive {
  zip_t* zip = nullptr;
  ~Archive() {
    if (zip != nullptr) zip_discard(zip);
  }
};

WorkbookContainer::WorkbookContainer(std::unique_ptr<Archive> archive, std::string source)
    : archive_(std::move(archive)), source_(std::move(source)) {}
WorkbookContainer::WorkbookContainer(WorkbookContainer&&) noexcept = default;
WorkbookContainer& WorkbookContainer::operator=(WorkbookContainer&&) noexcept = default;
WorkbookContainer::~WorkbookContainer() = default;

Result<WorkbookContainer> WorkbookContainer::open(std::string_view bytes, const std::string& source,
                                                  const WorkbookLimits& limits) {
  const std::string at = source + ": ";
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* memory = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &error);
  if (memory == nullptr) {
    zip_error_fini(&error);
    return refusal("status.workbook_damaged", at + "the ZIP container cannot be read");
  }
  auto archive = std::make_unique<Archive>();
  archive->zip = zip_open_from_source(memory, ZIP_RDONLY | ZIP_CHECKCONS, &error);
  const int code = zip_error_code_zip(&error);
  zip_error_fini(&error);
  if (archive->zip == nullptr) {
    zip_source_free(memory);
    if (code == ZIP_ER_NOZIP) {
      return refusal("status.not_workbook", at + "not a ZIP archive, so not an .xlsx workbook");
    }
    return refusal("status.workbook_damaged", at + "the ZIP container is damaged");
  }
  const zip_int64_t entries = zip_get_num_entries(archive->zip, 0);
  if (entries < 0 || static_cast<std::uint64_t>(entries) > limits.max_entries) {
    return refusal("status.too_large", at + "more than " + std::to_string(limits.max_entries) +
                                           " entries in the ZIP container");
  }
  std::uint64_t total = 0;
  for (zip_int64_t index = 0; index < entries; ++index) {
    zip_stat_t stat;
    zip_stat_init(&stat);
    const std::string entry = "ZIP entry " + std::to_string(index + 1);
    if (zip_stat_index(archive->zip, static_cast<zip_uint64_t>(index), 0, &stat) != 0 ||
        (stat.valid & ZIP_STAT_SIZE) == 0 || (stat.valid & ZIP_STAT_COMP_SIZE) == 0) {
      return refusal("status.workbook_damaged", at + entry + " cannot be read");
    }
    if ((stat.valid & ZIP_STAT_ENCRYPTION_METHOD) != 0 && stat.encryption_method != ZIP_EM_NONE) {
      return refusal("status.encrypted_workbook",
                     at + entry + " is encrypted: save the workbook without a password");
    }
    if (stat.size > limits.max_entry_bytes) {
      return refusal("status.too_large", at + entry + " uncompresses to more than " +
                                             std::to_string(limits.max_entry_bytes) + " bytes");
    }
    total += stat.size;
    if (total > limits.max_total_bytes) {
      return refusal("status.too_large", at + "the ZIP entries uncompress to more than " +
                                             std::to_string(limits.max_total_bytes) + " bytes");
    }
    if (stat.size > kRatioFloor &&
        stat.size / std::max<zip_uint64_t>(stat.comp_size, 1) > limits.max_ratio) {
      return refusal("status.too_large", at + entry + " is compressed more than " +
                                             std::to_string(limits.max_ratio) +
                                             " to 1 (a zip bomb)");
    }
  }
  return WorkbookContainer(std::move(archive), source);
}

Result<std::optional<std::string>> WorkbookContainer::read(const std::string& name,
                                                           std::string_view label) const {
  const std::string at = source_ + ": " + std::string(label) + ": ";
  const zip_int64_t index = zip_name_locate(archive_->zip, name.c_str(), ZIP_FL_NOCASE);
  if (index < 0) return std::optional<std::string>();
  zip_stat_t stat;
  zip_stat_init(&stat);
  if (zip_stat_index(archive_->zip, static_cast<zip_uint64_t>(index), 0, &stat) != 0) {
    return refusal("status.workbook_damaged", at + "the ZIP entry cannot be read");
  }
  zip_file_t* file = zip_fopen_index(archive_->zip, static_cast<zip_uint64_t>(index), 0);
  if (file == nullptr) {
    return refusal("status.workbook_damaged", at + "the ZIP entry cannot be opened");
  }
  // Reads to one byte beyond the declared size: an entry may not hold more than it declares.
  std::string content;
  std::array<char, 64 * 1024> buffer{};
  bool damaged = false;
  while (content.size() <= stat.size) {
    const zip_int64_t got = zip_fread(file, buffer.data(), buffer.size());
    if (got < 0) damaged = true;
    if (got <= 0) break;
    content.append(buffer.data(), static_cast<std::size_t>(got));
  }
  zip_fclose(file);
  if (damaged || content.size() != stat.size) {
    return refusal("status.workbook_damaged",
                   at + "the ZIP entry is damaged (its data, size or checksum)");
  }
  return std::optional<std::string>(std::move(content));
}

}  // namespace kbix::municipal::internal
