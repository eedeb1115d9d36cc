// Fuzzes what the municipal module reads from outside: a status return (read_status_return, the
// municipality's CSV) against a fixed map of three row references, and the content of a sealed
// row-reference file (RowReferences::parse; it is authenticated, but a parser is fuzzed anyway).
// First byte: 0 mod 3 selects the map parser, else the status reader.
// Nothing may crash. An accepted return: every status is from the closed list, every INSZ is the
// one the map gives for the row's reference, no reference twice, and the counts add up. A refusal
// carries a "status." or "io." code and its message holds no reference or INSZ of the map.
#include "kbix/municipal/status_return.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <sstream>
#include <string>
#include <string_view>

#include "kbix/municipal/row_references.hpp"

namespace {

using kbix::municipal::RowReferences;

constexpr std::string_view kMap =
    "kbix-row-references;1;fuzz\n"
    "R-22222-33333-44444-55555;90010100123\n"
    "R-AAAAA-BBBBB-CCCCC-DDDDD;90010100222\n"
    "R-K7WXA-2MBCD-EFGHJ-KMNPR;90010100321\n";
constexpr std::string_view kValues[] = {"R-22222-33333-44444-55555",
                                        "R-AAAAA-BBBBB-CCCCC-DDDDD",
                                        "R-K7WXA-2MBCD-EFGHJ-KMNPR",
                                        "90010100123",
                                        "90010100222",
                                        "90010100321"};

const RowReferences& fixed_map() {
  static const RowReferences map = [] {
    auto parsed = RowReferences::parse(kMap, "fuzz");
    if (!parsed) std::abort();
    return std::move(*parsed);
  }();
  return map;
}

bool starts_with(const std::string& text, std::string_view prefix) {
  return text.compare(0, prefix.size(), prefix) == 0;
}

void check_status_return(std::string_view text) {
  const RowReferences& map = fixed_map();
  kbix::municipal::StatusReturnOptions options;
  options.max_bytes = 1 << 20;
  options.max_rows = 4096;
  std::istringstream in{std::string(text)};
  auto imported = kbix::municipal::read_status_return(in, "fuzz.csv", map, options);
  if (!imported) {
    const auto& error = imported.error();
    if (!starts_with(error.code, "status.") && !starts_with(error.code, "io.")) std::abort();
    for (const auto value : kValues) {
      if (error.message.find(value) != std::string::npos) std::abort();
    }
    return;
  }
  std::set<std::string> references;
  for (const auto& entry : imported->statuses) {
    const auto insz = map.insz_of(entry.reference);
    if (!insz || *insz != entry.insz) std::abort();
    if (!references.insert(entry.reference).second) std::abort();
    const auto& list = kbix::municipal::kDefaultActivityStatuses;
    if (std::find(std::begin(list), std::end(list), entry.status) == std::end(list)) std::abort();
  }
  if (imported->statuses.size() + imported->blank_rows + imported->without_status !=
      imported->data_rows) {
    std::abort();
  }
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
