// Fuzzes the CSV reader (with small limits so they are reached) and the output scan: any bytes
// give records or a clean csv.* error; a record never exceeds the limits; no crash or hang.
#include "kbix/domain/csv.hpp"

#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <string>

#include "kbix/domain/output_scan.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  kbix::CsvLimits limits;
  limits.max_field_bytes = 64;
  limits.max_columns = 8;
  limits.max_record_bytes = 256;
  limits.max_records = 64;
  std::istringstream in(text);
  kbix::CsvReader reader(in, "fuzz.csv", limits);
  std::vector<std::string> fields;
  for (;;) {
    auto more = reader.next(fields);
    if (!more) {
      if (more.error().code.rfind("csv.", 0) != 0) std::abort();
      break;
    }
    if (!*more) break;
    if (fields.size() > limits.max_columns) std::abort();
    for (const auto& field : fields) {
      if (field.size() > limits.max_field_bytes || !kbix::is_valid_utf8(field)) std::abort();
    }
  }
  std::istringstream again(text);
  (void)kbix::scan_output(again, "fuzz.csv");
  return 0;
}
