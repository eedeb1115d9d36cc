// libFuzzer target: export_outbound over a hostile KBI extract, with the shipped protocol and the
// production CSV limits. It must never crash, and an accepted extract's outbound file must be
// exactly "insz" then `exported` distinct lines of 11 digits that pass the INSZ rule as written
// out independently (support/independent_insz.hpp), and the counts must add up. The same input
// read in tiny pieces on two threads (file_pieces.hpp) must give the same answer, byte for byte,
// error for error.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <set>
#include <sstream>
#include <string>

#include "kbix/domain/extract_export.hpp"
#include "support/independent_insz.hpp"

namespace {

const kbix::Protocol& protocol() {
  static const kbix::Protocol loaded =
      *kbix::load_protocol(KBIX_SOURCE_DIR "/config/protocols/vdab-derde-pijler-2023.toml");
  return loaded;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::istringstream extract(std::string(reinterpret_cast<const char*>(data), size));
  std::ostringstream out;
  auto report = kbix::export_outbound(extract, "kbi.csv", protocol(), out);
  {
    const int fd = ::memfd_create("kbi.csv", MFD_CLOEXEC);
    if (fd < 0 || ::write(fd, data, size) != static_cast<ssize_t>(size)) std::abort();
    std::istringstream sequential(std::string(reinterpret_cast<const char*>(data), size));
    std::ostringstream pieces_out;
    kbix::FileReading tiny;
    tiny.piece_bytes = 16;
    tiny.parallel_from = 1;
    auto pieces = kbix::export_outbound(fd, sequential, "kbi.csv", protocol(), pieces_out, tiny);
    ::close(fd);
    if (pieces.has_value() != report.has_value()) std::abort();
    if (!report && (pieces.error().code != report.error().code ||
                    pieces.error().message != report.error().message)) {
      std::abort();
    }
    if (report && (pieces_out.str() != out.str() || pieces->rows != report->rows ||
                   pieces->invalid_lines != report->invalid_lines ||
                   pieces->duplicate_lines != report->duplicate_lines)) {
      std::abort();
    }
  }
  if (!report) return 0;
  std::istringstream outbound(out.str());
  std::string line;
  if (!std::getline(outbound, line) || line != "insz") std::abort();
  std::set<std::string> seen;
  while (std::getline(outbound, line)) {
    if (!kbix::test::independently_valid_insz(line) || !seen.insert(line).second) std::abort();
  }
  if (seen.size() != report->exported) std::abort();
  if (report->exported + report->invalid_insz + report->duplicate_insz != report->rows)
    std::abort();
  return 0;
}
