// The ZIP container of a status workbook, read with libzip from memory, bounded before anything is
// uncompressed: the number of entries, each entry's and the total declared uncompressed size, the
// compression ratio of large entries (a zip bomb), and no encrypted entry. An entry is read to at
// most its declared size (an entry that holds more, or fails its CRC, is damaged).
// Does NOT guarantee: anything about the entries' content (the XML reader checks it).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "kbix/core/result.hpp"
#include "kbix/municipal/status_return.hpp"

namespace kbix::municipal::internal {

class WorkbookContainer {
 public:
  // `bytes` must outlive the container. Refusals: status.not_workbook (not a ZIP archive),
  // status.workbook_damaged, status.too_large, status.encrypted_workbook.
  static Result<WorkbookContainer> open(std::string_view bytes, const std::string& source,
                                        const WorkbookLimits& limits);
  WorkbookContainer(WorkbookContainer&&) noexcept;
  WorkbookContainer& operator=(WorkbookContainer&&) noexcept;
  ~WorkbookContainer();

  // The uncompressed entry `name` (matched without regard to case, as OPC part names are), or
  // nothing when there is none; `label` names it in messages (a name that came from the file's
  // relationships is not repeated). Refusal: status.workbook_damaged.
  Result<std::optional<std::string>> read(const std::string& name, std::string_view label) const;

 private:
  struct Archive;
  WorkbookContainer(std::unique_ptr<Archive> archive, std::string source);
  std::unique_ptr<Archive> archive_;
  std::string source_;
};

}  // namespace kbix::municipal::internal
