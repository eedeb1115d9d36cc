// Export: the KBI extract -> the outbound file for VDAB, holding one column, insz (invariant 1).
//
// The extract's header must be the protocol's extract columns. Rows with an invalid INSZ and
// repeated INSZ (after the first) never leave; they are counted and their line numbers kept for
// the operator (never the values). Output: header "insz", then the canonical 11 digits per line,
// in extract order. The same rules decide who was "sent" when the return is merged.
// Does NOT guarantee: anything about the profile fields (they stay at AgII and are not validated).
#pragma once

#include <cstdint>
#include <istream>
#include <ostream>
#include <string_view>
#include <vector>

#include "kbix/core/protocol.hpp"
#include "kbix/core/result.hpp"
#include "kbix/domain/file_pieces.hpp"

namespace kbix {

struct ExportReport {
  std::uint64_t rows = 0;      // data rows read
  std::uint64_t exported = 0;  // INSZ written to the outbound file
  std::uint64_t invalid_insz = 0;
  std::uint64_t duplicate_insz = 0;
  std::uint64_t bis_insz = 0;
  std::uint64_t calendar_warnings = 0;
  std::vector<std::uint64_t> invalid_lines;    // first 1000
  std::vector<std::uint64_t> duplicate_lines;  // first 1000
};

Result<ExportReport> export_outbound(std::istream& extract, std::string_view extract_name,
                                     const Protocol& protocol, std::ostream& outbound_csv);

// The same result, reading the regular file behind `fd` (from byte 0, with pread: the offset of
// `fd` is left alone) on two threads (file_pieces.hpp). `sequential` must read the same file from
// its start; it is used for small files and for a file the pieces refuse (then the answer is the
// sequential one, with its exact error).
Result<ExportReport> export_outbound(int fd, std::istream& sequential,
                                     std::string_view extract_name, const Protocol& protocol,
                                     std::ostream& outbound_csv, const FileReading& reading = {});

}  // namespace kbix
