// privacy_bench: the privacy reports on files, for bench/reports/run.sh (timed from outside with
// /usr/bin/time -v, so the figures include reading the files).
//   privacy_bench disclosure OUTPUT             (report only: classes, contributions)
//   privacy_bench suppress OUTPUT               (report + local suppression + rewrite)
//   privacy_bench quality EXTRACT RETURN        (article 7 counts of both files)
#include <chrono>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "kbix/core/protocol.hpp"
#include "kbix/reports/disclosure.hpp"
#include "kbix/reports/quality.hpp"

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  auto protocol = kbix::load_protocol(KBIX_DEFAULT_PROTOCOL);
  if (!protocol || args.empty()) return 2;
  if ((args[0] == "disclosure" || args[0] == "suppress") && args.size() == 2) {
    if (args[0] == "suppress") protocol->disclosure.action = kbix::DisclosureAction::suppress;
    auto report = args[0] == "suppress" ? kbix::apply_disclosure(args[1], *protocol)
                                        : kbix::assess_disclosure(args[1], *protocol);
    if (!report) {
      std::cerr << report.error().describe() << "\n";
      return 1;
    }
    std::cerr << kbix::disclosure_text(*report);
    return 0;
  }
  if (args[0] == "quality" && args.size() == 3) {
    std::vector<char> a(1 << 20), b(1 << 20);
    std::ifstream extract, returned;
    extract.rdbuf()->pubsetbuf(a.data(), 1 << 20);
    returned.rdbuf()->pubsetbuf(b.data(), 1 << 20);
    extract.open(args[1], std::ios::binary);
    returned.open(args[2], std::ios::binary);
    auto report = kbix::assess_quality(
        extract, args[1], returned, args[2], *protocol,
        std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now()));
    if (!report) {
      std::cerr << report.error().describe() << "\n";
      return 1;
    }
    std::cerr << "quality: " << report->extract.rows << " + " << report->returned.rows << " rows\n";
    return 0;
  }
  return 2;
}
