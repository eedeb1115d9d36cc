// domain_bench: the domain steps on files, for bench/domain/run.sh and compare.sh (timed from
// outside with /usr/bin/time, so the figures include reading and writing the files).
//   domain_bench export EXTRACT OUTBOUND
//   domain_bench merge RETURN SNAPSHOT OUTPUT      (merge + pseudonymise "none" + output scan)
#include <fcntl.h>
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "kbix/core/protocol.hpp"
#include "kbix/domain/extract_export.hpp"
#include "kbix/domain/merge.hpp"
#include "kbix/domain/output_scan.hpp"

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
  if (args[0] == "merge" && args.size() == 4) {
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
      auto report = kbix::merge_and_pseudonymise(return_fd, returned, args[1], snapshot_fd,
                                                 snapshot, args[2], *protocol, nullptr, out);
      ::close(return_fd);
      ::close(snapshot_fd);
      if (!report) {
        std::cerr << report.error().describe() << "\n";
        return 1;
      }
      std::cerr << "merged " << report->output_rows << " rows\n";
    }
    std::ifstream output(args[3], std::ios::binary);
    const int output_fd = ::open(args[3].c_str(), O_RDONLY | O_CLOEXEC);
    auto scanned = kbix::scan_output(output_fd, output, args[3]);
    ::close(output_fd);
    if (!scanned) {
      std::cerr << scanned.error().describe() << "\n";
      return 1;
    }
    std::cerr << "scanned " << scanned->cells << " cells\n";
    return 0;
  }
  std::cerr << "usage: domain_bench export EXTRACT OUTBOUND | merge RETURN SNAPSHOT OUTPUT\n";
  return 2;
}
