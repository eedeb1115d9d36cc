// File pieces: a large CSV file read in pieces on two threads, with results in file order
// (issue 17: the export, the merge and the output scan on the machine's two cores).
//
// A piece ends at a line feed preceded by an even number of '"' since the piece began. In a file
// the CSV reader accepts, quotes inside a quoted field are doubled, so exactly these line feeds end
// records: each piece holds whole records and is read by its own in-place CsvReader. In a file it
// refuses, a piece may start inside a field; the caller then finds some error (or no record end
// within reach) and reads the file again from the start on one thread, which gives the one exact
// error of CsvReader. So results, errors, positions and limits are those of the sequential path.
// Does NOT guarantee: anything when the file changes while it is read (as for every reader).
#pragma once

#include <cstddef>
#include <cstdint>

namespace kbix {

// How a file is read; the defaults are for the daemon, tests use tiny pieces.
struct FileReading {
  std::size_t piece_bytes = 256u << 10;     // a piece is about this long (more for long records)
  std::uint64_t parallel_from = 4u << 20;   // smaller files are read on one thread
  std::size_t max_record_bytes = 1u << 20;  // CsvLimits::max_record_bytes: a record end is near
  std::size_t in_flight = 4;                // pieces read ahead (bounds the memory)
  unsigned workers = 2;
};

}  // namespace kbix
