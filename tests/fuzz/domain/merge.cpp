// libFuzzer target: merge_and_pseudonymise as a hostile VDAB would drive it. The fuzzer writes the
// return; the snapshot is ten synthetic people; the shipped protocol and the production CSV
// limits apply (no toy limits). It must never crash, and whatever passes the merge and the output
// scan must have article 3's header, one row per matched person, and no snapshot INSZ standing
// alone anywhere (an independent text search, not kbix's INSZ check).
#include "kbix/domain/merge.hpp"

#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <string>

#include "kbix/domain/output_scan.hpp"
#include "support/article3.hpp"
#include "synthetic.hpp"

namespace {

const kbix::Protocol& protocol() {
  static const kbix::Protocol loaded =
      *kbix::load_protocol(KBIX_SOURCE_DIR "/config/protocols/vdab-derde-pijler-2023.toml");
  return loaded;
}

std::string person(std::uint64_t n) {
  return kbix::synthetic::make_insz(5, n, 0.0);  // the hostile corpus's {valid:N}
}

const std::string& snapshot() {
  static const std::string text = [] {
    std::string out;
    for (const auto& column : protocol().extract_columns) out += (out.empty() ? "" : ";") + column;
    out += "\n";
    for (std::uint64_t n = 0; n < 10; ++n) {
      out += person(n);
      for (const auto& value : kbix::synthetic::kbi_profile(5, n, 0.0)) out += ";" + value;
      out += "\n";
    }
    return out;
  }();
  return text;
}

bool is_alnum(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool holds_standalone(const std::string& text, const std::string& digits) {
  for (auto at = text.find(digits); at != std::string::npos; at = text.find(digits, at + 1)) {
    const bool left = at == 0 || !is_alnum(text[at - 1]);
    const bool right = at + digits.size() == text.size() || !is_alnum(text[at + digits.size()]);
    if (left && right) return true;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::istringstream returned(std::string(reinterpret_cast<const char*>(data), size));
  std::istringstream kbi(snapshot());
  std::ostringstream out;
  auto report = kbix::merge_and_pseudonymise(returned, "return.csv", kbi, "snapshot.csv",
                                             protocol(), nullptr, out);
  if (!report) return 0;
  const std::string output = out.str();
  std::istringstream scanned(output);
  if (!kbix::scan_output(scanned, "output.csv")) return 0;  // blocked before publication
  if (output.rfind(std::string(kbix::test::kArticle3OutputHeader) + "\n", 0) != 0) std::abort();
  if (report->output_rows != report->matched || report->matched > 10) std::abort();
  for (std::uint64_t n = 0; n < 10; ++n) {
    if (holds_standalone(output, person(n))) std::abort();
  }
  return 0;
}
