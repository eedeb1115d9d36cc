// domain_bench: the domain steps on files, for bench/domain/run.sh and compare.sh (timed from
// outside with /usr/bin/time, so the figures include reading and writing the files).
//   domain_bench export EXTRACT OUTBOUND
//   domain_bench merge RETURN SNAPSHOT OUTPUT      (merge + pseudonymise "none" + output scan,
//       the scan made by the merge on what it writes, as in a run's merge step)
//   domain_bench merge RETURN SNAPSHOT OUTPUT --disclosure PROTOCOL
//       the same, plus the disclosure report and action of PROTOCOL's [disclosure] table, as the
//       merge step of a run does them (bench/domain/disclosure.sh; the merge uses PROTOCOL too),
//       and the article 7 quality report counted by the merge
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "kbix/core/protocol.hpp"
#include "kbix/domain/extract_export.hpp"
#include "kbix/domain/merge.hpp"
#include "kbix/domain/output_scan.hpp"
#include "kbix/reports/disclosure.hpp"
#include "kbix/reports/quality.hpp"

namespace {
struct Buffered {
  std::vector<char> buffer = std::vector<char>(1 << 20);
};
}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  auto protocol = kbix::load_protocol(KBIX_DEFAULT_PROTOCOL);
  if (!protocol || args.empty()) return 2;
  Buffered in_buffer, out_buffer, extra_buffer;
  if (args[0] == "export" && args.size() == 3) {
    std::ifstream in;
    in.rdbuf()->pubsetbuf(in_buffer.buffer.data(), 1 << 20);
    in.open(args[1], std::ios::binary);
    std::ofstream out;
    out.rdbuf()->pubsetbuf(out_buffer.buffer.data(), 1 << 20);
    out.open(args[2], std::ios::binary);
    const int fd = ::open(args[1].c_str(), O_RDONLY | O_CLOEXEC);
    auto report = kbix::export_outbound(fd, in, args[1], *protocol, out);
    ::close(fd);
    if (!report) {
      std::cerr << report.error().describe() << "\n";
      return 1;
    }
    std::cerr << "exported " << report->exported << " of " << report->rows << " rows\n";
    return 0;
  }
  const bool with_disclosure = args.size() == 6 && args[4] == "--disclosure";
  if (with_disclosure) {
    protocol = kbix::load_protocol(args[5]);
    if (!protocol) {
      std::cerr << protocol.error().describe() << "\n";
      return 2;
    }
  }
  if (args[0] == "merge" && (args.size() == 4 || with_disclosure)) {
    // As the merge step of a run does it: the merge scans what it writes (the scan counts the
    // classes), the report follows, and an output that suppression rewrote is scanned again.
    kbix::DisclosureCounter classes(*protocol);
    kbix::MergeOutputScan output_scan;
    output_scan.output_name = args[3];
    output_scan.observer = with_disclosure ? &classes : nullptr;
    std::ifstream returned, snapshot;
    returned.rdbuf()->pubsetbuf(in_buffer.buffer.data(), 1 << 20);
    snapshot.rdbuf()->pubsetbuf(extra_buffer.buffer.data(), 1 << 20);
    returned.open(args[1], std::ios::binary);
    snapshot.open(args[2], std::ios::binary);
    {
      std::ofstream out;
      out.rdbuf()->pubsetbuf(out_buffer.buffer.data(), 1 << 20);
      out.open(args[3], std::ios::binary);
      const int return_fd = ::open(args[1].c_str(), O_RDONLY | O_CLOEXEC);
      const int snapshot_fd = ::open(args[2].c_str(), O_RDONLY | O_CLOEXEC);
      // With --disclosure, the quality report is counted by the merge, as in a run's merge step.
      kbix::QualityTally quality(
          *protocol, std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now()));
      auto report = kbix::merge_and_pseudonymise(
          return_fd, returned, args[1], snapshot_fd, snapshot, args[2], *protocol, nullptr, out, {},
          with_disclosure ? &quality : nullptr, &output_scan);
      ::close(return_fd);
      ::close(snapshot_fd);
      if (!report) {
        std::cerr << report.error().describe() << "\n";
        return 1;
      }
      std::cerr << "merged " << report->output_rows << " rows\n";
      if (with_disclosure) {
        const auto counted = quality.report(*report);
        std::cerr << "quality: " << counted.extract.rows << " extract rows, "
                  << counted.returned.rows << " returned, " << counted.not_returned
                  << " sent but not returned\n";
      }
    }
    // When the merge could not scan its output, the file is read in pieces on two threads, as the
    // run's scan does.
    auto scan = [&](bool count) {
      std::ifstream output(args[3], std::ios::binary);
      const int output_fd = ::open(args[3].c_str(), O_RDONLY | O_CLOEXEC);
      auto scanned = count ? kbix::scan_output(output_fd, output, args[3], classes)
                           : kbix::scan_output(output_fd, output, args[3]);
      ::close(output_fd);
      if (!scanned) {
        std::cerr << scanned.error().describe() << "\n";
        return false;
      }
      std::cerr << "scanned " << scanned->cells << " cells\n";
      return true;
    };
    if (output_scan.passed) {
      std::cerr << "scanned " << output_scan.report.cells << " cells (by the merge)\n";
    } else if (!scan(with_disclosure)) {
      return 1;
    }
    if (with_disclosure) {
      auto disclosure = classes.finish(args[3]);
      if (!disclosure) {
        std::cerr << disclosure.error().describe() << "\n";
        return 1;
      }
      std::cerr << kbix::disclosure_text(*disclosure);
      if (disclosure->rewrote_output() && !scan(false)) return 1;
    }
    return 0;
  }
  std::cerr << "usage: domain_bench export EXTRACT OUTBOUND | merge RETURN SNAPSHOT OUTPUT "
               "[--disclosure PROTOCOL]\n";
  return 2;
}
