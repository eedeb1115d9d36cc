// The CSV reader's two paths agree: a record read whole from the buffer (the memchr fast path)
// and the same record read across a buffer refill (the byte-by-byte path) give the same fields,
// the same error code and the same "SOURCE:LINE:FIELD" position, for ordinary and hostile records.
#include <gtest/gtest.h>

#include <sstream>

#include "kbix/domain/csv.hpp"

namespace kbix {
namespace {

struct Outcome {
  std::vector<std::vector<std::string>> rows;
  std::string error;  // "code message", empty when the input was read to the end
};

// Reads every record; keeps those after the first `skip`.
Outcome read_all(const std::string& text, const CsvLimits& limits, std::size_t skip) {
  std::istringstream in(text);
  CsvReader reader(in, "in.csv", limits);
  Outcome outcome;
  std::vector<std::string> fields;
  for (;;) {
    auto more = reader.next(fields);
    if (!more) {
      outcome.error = more.error().code + " " + more.error().message;
      return outcome;
    }
    if (!*more) return outcome;
    if (reader.records() > skip) outcome.rows.push_back(fields);
  }
}

TEST(CsvPaths, FastAndByteByBytePathsAgree) {
  CsvLimits limits;
  limits.max_field_bytes = 16;
  limits.max_columns = 4;
  limits.max_record_bytes = 40;
  const std::vector<std::string> records = {
      "a;b;c\n",
      "a;b;c\r\n",
      ";;;\n",
      "\n",
      "a;;b\n",
      "a;b;c;d;e\n",
      "x;0123456789abcdefg\n",
      "caf\xC3\xA9;b\n",
      "caf\xE9;b\n",
      "a;b\rc\n",
      "a;\"q;x\";b\n",
      "a;b\"c\n",
      "0123456789;0123456789;0123456789;0123456789\n",
      "\xED\xA0\x80;b\n",
      "a;b;c",
  };
  const std::string with_nul("a;b\0c\n", 6);
  // Before the record: L short lines. Split: lines "f\n" that end a few bytes short of a refill
  // (the end of the first read, or of the second), so the record straddles it and cannot take the
  // fast path. Whole: L empty lines (half the bytes), so the record sits inside one read. Same
  // line numbers in both, so errors must match to the character.
  std::vector<std::string> all = records;
  all.push_back(with_nul);
  for (const auto& record : all) {
    for (const std::size_t refill_at :
         {CsvReader::kFirstReadBytes, CsvReader::kFirstReadBytes + CsvReader::kReadBytes})
      for (std::size_t short_of_end : {1u, 2u, 5u}) {
        SCOPED_TRACE(testing::PrintToString(record) + " " + std::to_string(short_of_end) +
                     " bytes before the refill at " + std::to_string(refill_at));
        const std::size_t prefix_bytes = refill_at - short_of_end;
        std::string split;
        const std::size_t pairs = prefix_bytes / 2;
        for (std::size_t i = 0; i < pairs; ++i) split += "f\n";
        if (prefix_bytes % 2 == 1) split += "\n";
        const std::size_t lines = pairs + prefix_bytes % 2;
        const std::string whole = std::string(lines, '\n') + record;
        split += record;
        const auto a = read_all(whole, limits, lines);
        const auto b = read_all(split, limits, lines);
        EXPECT_EQ(a.error, b.error);
        EXPECT_EQ(a.rows, b.rows);
      }
  }
}

}  // namespace
}  // namespace kbix
