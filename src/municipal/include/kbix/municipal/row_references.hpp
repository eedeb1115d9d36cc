// PLACEHOLDER (lead's branch only): the API expected from branch `statusret`, replaced at merge.
#pragma once
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "kbix/core/result.hpp"
#include "kbix/envelope/envelope.hpp"

namespace kbix {
class RowReferences {
 public:
  static Result<RowReferences> load(const std::filesystem::path& file, const OpenerConfig& opener);
  const std::string& reference_for(std::string_view insz);
  std::optional<std::string> insz_of(std::string_view reference) const;
  std::size_t size() const;
  Status save(const std::filesystem::path& file, const SealerConfig& sealer) const;
};
}  // namespace kbix
