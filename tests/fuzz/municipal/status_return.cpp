// Fuzzes what the municipal module reads from outside: a status return (read_status_return, the
// municipality's CSV) against a fixed map of three row references, and the content of a sealed
// row-reference file (RowReferences::parse; it is authenticated, but a parser is fuzzed anyway).
// First byte: 0 mod 3 selects the map parser, else the status reader.
// Nothing may crash. An accepted return: every status is from the closed list, every INSZ is the
// one the map gives for the row's reference, no reference twice, and the counts add up. A refusal
// carries a "status." or "io." code and its message holds no reference or INSZ of the map
// (fuzz/municipal/status_fuzz_support.hpp).
#include "kbix/municipal/status_return.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <sstream>
#include <string>
#include <string_view>

#include "fuzz/municipal/status_fuzz_support.hpp"
#include "kbix/municipal/row_references.hpp"

namespace {

using kbix::fuzz::fixed_map;
using kbix::fuzz::starts_with;
using kbix::municipal::RowReferences;

void check_status_return(std::string_view text) {
  kbix::municipal::StatusReturnOptions options;
  options.max_bytes = 1 << 20;
  options.max_rows = 4096;
  std::istringstream in{std::string(text)};
  kbix::fuzz::check_status_outcome(
      kbix::municipal::read_status_return(in, "fuzz.csv", fixed_map(), options), UINT64_MAX);
}

void check_map(std::string_view text) {
  auto parsed = RowReferences::parse(text, "fuzz");
  if (!parsed) {
    if (!starts_with(parsed.error().code, "municipal.")) std::abort();
    return;
  }
  if (parsed->size() > RowReferences::kMaxEntries) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] % 3 == 0) {
    check_map(text);
  } else {
    check_status_return(text);
  }
  return 0;
}
