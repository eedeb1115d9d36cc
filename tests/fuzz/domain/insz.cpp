// Fuzzes INSZ parsing: a parsed INSZ has 11 digits that pass the rules (as written out
// independently in support/independent_insz.hpp, not kbix's own check), and never throws.
#include "kbix/domain/insz.hpp"

#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "support/independent_insz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto insz = kbix::Insz::parse(text);
  if (insz) {
    if (insz->digits().size() != 11 || !kbix::test::independently_valid_insz(insz->digits()))
      std::abort();
    auto again = kbix::Insz::parse(insz->digits());
    if (!again || again->value() != insz->value()) std::abort();
  } else if (insz.error().code.rfind("insz.", 0) != 0) {
    std::abort();
  }
  return 0;
}
