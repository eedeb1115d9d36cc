#include "kbix/core/error_codes.hpp"

#include <algorithm>

namespace kbix {
namespace {

// Sorted by code, so each prefix forms one group and a duplicate sits next to its twin.
constexpr bool registry_sorted_and_unique() {
  return std::adjacent_find(std::begin(kErrorCodes), std::end(kErrorCodes),
                            [](const ErrorCodeInfo& a, const ErrorCodeInfo& b) {
                              return a.code >= b.code;
                            }) == std::end(kErrorCodes);
}
static_assert(registry_sorted_and_unique(), "kErrorCodes must be sorted by code, without twins");

}  // namespace

std::string_view to_string(Retry retry) {
  switch (retry) {
    case Retry::never:
      return "never";
    case Retry::call:
      return "retry the call";
    case Retry::step:
      return "retry the step";
  }
  return "never";
}

}  // namespace kbix
