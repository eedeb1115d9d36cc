// PLACEHOLDER (lead's branch only): the API expected from branch `statusret`, replaced at merge.
#pragma once
#include <filesystem>
#include <span>
#include <string_view>

#include "kbix/core/result.hpp"
#include "kbix/envelope/envelope.hpp"

namespace kbix {
class SecretBytes {
 public:
  std::string_view view() const;
};
Result<SecretBytes> open_bytes(const Opener& opener, const std::filesystem::path& input,
                               std::size_t max_bytes);
}  // namespace kbix
