// The CSV reader and writer, including a table of hostile inputs (issue 3: at least 30).
#include "kbix/domain/csv.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <random>
#include <sstream>

namespace kbix {
namespace {

struct Parsed {
  std::vector<std::vector<std::string>> rows;
  std::optional<Error> error;
};

// Reads every record; keeps those after the first `skip`.
Parsed parse(const std::string& text, CsvLimits limits = {}, std::size_t skip = 0) {
  std::istringstream in(text);
  CsvReader reader(in, "in.csv", limits);
  Parsed parsed;
  std::vector<std::string> fields;
  for (;;) {
    auto more = reader.next(fields);
    if (!more) {
      parsed.error = more.error();
      return parsed;
    }
    if (!*more) return parsed;
    if (reader.records() > skip) parsed.rows.push_back(fields);
  }
}

TEST(Csv, ReadsQuotedFieldsWithSeparatorsQuotesAndNewlines) {
  const auto parsed = parse("a;b;c\n\"x;y\";\"say \"\"hi\"\"\";\"two\nlines\"\n;;\n");
  ASSERT_FALSE(parsed.error) << parsed.error->describe();
  ASSERT_EQ(parsed.rows.size(), 3u);
  EXPECT_EQ(parsed.rows[1], (std::vector<std::string>{"x;y", "say \"hi\"", "two\nlines"}));
  EXPECT_EQ(parsed.rows[2], (std::vector<std::string>{"", "", ""})) << "empty fields kept";
}

TEST(Csv, AcceptsCrlfAndABomAndAMissingFinalNewline) {
  const auto parsed = parse("\xEF\xBB\xBFh1;h2\r\n1;2\r\n3;4");
  ASSERT_FALSE(parsed.error) << parsed.error->describe();
  ASSERT_EQ(parsed.rows.size(), 3u);
  EXPECT_EQ(parsed.rows[0][0], "h1") << "BOM removed";
  EXPECT_EQ(parsed.rows[2], (std::vector<std::string>{"3", "4"}));
}

TEST(Csv, RecordLineIsWhereTheRecordStarted) {
  std::istringstream in("a\n\"x\ny\"\nb\n");
  CsvReader reader(in, "in.csv");
  std::vector<std::string> fields;
  ASSERT_TRUE(*reader.next(fields));
  ASSERT_TRUE(*reader.next(fields));
  EXPECT_EQ(reader.record_line(), 2u);
  ASSERT_TRUE(*reader.next(fields));
  EXPECT_EQ(reader.record_line(), 4u);
}

struct HostileCase {
  const char* name;
  std::string input;
  const char* code;
  const char* position;  // "in.csv:LINE:FIELD" expected at the start of the message
  CsvLimits limits{};
};

std::vector<HostileCase> hostile_cases() {
  CsvLimits tiny;
  tiny.max_field_bytes = 8;
  tiny.max_columns = 3;
  tiny.max_record_bytes = 20;
  tiny.max_records = 2;
  CsvLimits small_record;
  small_record.max_record_bytes = 20;
  std::vector<HostileCase> cases = {
      {"unterminated quote names its start line", "a;b\n1;\"open\n2;3\n4;5\n",
       "csv.unterminated_quote", "in.csv:2:2"},
      {"unterminated quote on the first line", "\"a;b\n", "csv.unterminated_quote", "in.csv:1:1"},
      {"unterminated quote at the very end", "a\n\"", "csv.unterminated_quote", "in.csv:2:1"},
      {"bare quote inside a field", "a;b\nx\"y;2\n", "csv.bare_quote", "in.csv:2:1"},
      {"bare quote at the end of a field", "a;b\nxy\";2\n", "csv.bare_quote", "in.csv:2:1"},
      {"text after the closing quote", "a;b\n\"x\"y;2\n", "csv.text_after_quote", "in.csv:2:1"},
      {"space after the closing quote", "a;b\n\"x\" ;2\n", "csv.text_after_quote", "in.csv:2:1"},
      {"quote after a quoted field", "a\n\"x\"\"\n", "csv.unterminated_quote", "in.csv:2:1"},
      {"NUL byte in an unquoted field", std::string("a;b\nx\0y;2\n", 10), "csv.nul_byte",
       "in.csv:2:1"},
      {"NUL byte in a quoted field", std::string("a;b\n1;\"\0\"\n", 10), "csv.nul_byte",
       "in.csv:2:2"},
      {"invalid UTF-8 continuation", "a;b\n1;\xC3\x28\n", "csv.invalid_utf8", "in.csv:2:2"},
      {"overlong UTF-8 encoding", "a\n\xC0\xAF\n", "csv.invalid_utf8", "in.csv:2:1"},
      {"UTF-8 surrogate", "a\n\xED\xA0\x80\n", "csv.invalid_utf8", "in.csv:2:1"},
      {"UTF-8 beyond U+10FFFF", "a\n\xF4\x90\x80\x80\n", "csv.invalid_utf8", "in.csv:2:1"},
      {"truncated UTF-8 sequence", "a\n\xE2\x82\n", "csv.invalid_utf8", "in.csv:2:1"},
      {"Latin-1 byte", "a\ncaf\xE9\n", "csv.invalid_utf8", "in.csv:2:1"},
      {"broken BOM",
       "\xEF\xBB"
       "a\n",
       "csv.invalid_utf8", "in.csv:1:1"},
      {"CR-only line ends", "a;b\r1;2\r", "csv.bare_cr", "in.csv:1:2"},
      {"CR inside an unquoted field", "a;b\n1\r2;3\n", "csv.bare_cr", "in.csv:2:1"},
      {"10 MB field", "a\n" + std::string(10 * 1024 * 1024, 'x') + "\n", "csv.field_too_long",
       "in.csv:2:1"},
      {"10 MB quoted field", "a\n\"" + std::string(10 * 1024 * 1024, 'x') + "\"\n",
       "csv.field_too_long", "in.csv:2:1"},
      {"field over a small limit", "a\n123456789\n", "csv.field_too_long", "in.csv:2:1", tiny},
      {"too many columns", "a;b;c;d\n", "csv.too_many_columns", "in.csv:1:4", tiny},
      {"record over the limit", "a\n1;2;3;4;5;6;7;8;9;10;11\n", "csv.record_too_long",
       "in.csv:2:10", small_record},
      {"too many records", "a\nb\nc\n", "csv.too_many_records", "in.csv:3:1", tiny},
      {"a million separators", std::string(1000000, ';') + "\n", "csv.too_many_columns",
       "in.csv:1:257"},
      {"bare quote after an empty quoted field", "a\n\"\"x\n", "csv.text_after_quote",
       "in.csv:2:1"},
      {"second field unterminated over many lines", "a;b\n1;\"x\n" + std::string(5, '\n'),
       "csv.unterminated_quote", "in.csv:2:2"},
      {"quote opening mid-field after text", "a\nab\"c\"\n", "csv.bare_quote", "in.csv:2:1"},
      {"NUL in the header", std::string("a\0;b\n", 5), "csv.nul_byte", "in.csv:1:1"},
      {"invalid UTF-8 in the header", "\xFF;b\n", "csv.invalid_utf8", "in.csv:1:1"},
  };
  return cases;
}

TEST(CsvHostile, EveryCaseFailsWithItsCodeAndPositionAndNoContent) {
  const auto cases = hostile_cases();
  ASSERT_GE(cases.size(), 30u);
  for (const auto& c : cases) {
    const auto parsed = parse(c.input, c.limits);
    ASSERT_TRUE(parsed.error) << c.name;
    EXPECT_EQ(parsed.error->code, c.code) << c.name << ": " << parsed.error->message;
    EXPECT_EQ(parsed.error->message.rfind(c.position, 0), 0u)
        << c.name << ": " << parsed.error->message;
    EXPECT_LT(parsed.error->message.size(), 200u) << c.name << ": message echoes content?";
    EXPECT_EQ(parsed.error->message.find("xxxx"), std::string::npos) << c.name;
  }
}

TEST(CsvHostile, EmptyFileAndHeaderOnlyAreNotErrorsOfTheReader) {
  EXPECT_TRUE(parse("").rows.empty());
  EXPECT_FALSE(parse("").error);
  const auto header_only = parse("a;b\n");
  EXPECT_FALSE(header_only.error);
  EXPECT_EQ(header_only.rows.size(), 1u);
}

TEST(CsvHostile, TheReaderStopsAfterAnError) {
  std::istringstream in("a\n\"x\"y\nb\n");
  CsvReader reader(in, "in.csv");
  std::vector<std::string> fields;
  ASSERT_TRUE(reader.next(fields));
  ASSERT_FALSE(reader.next(fields));
  auto after = reader.next(fields);
  ASSERT_FALSE(after);
  EXPECT_EQ(after.error().code, "csv.read");
}

TEST(CsvWriter, QuotesWhatNeedsQuotingAndNeutralisesFormulas) {
  std::ostringstream out;
  CsvWriter writer(out);
  writer.write_row(std::vector<std::string>{"plain", "a;b", "say \"x\"", "two\nlines", ""});
  writer.write_row(std::vector<std::string>{"=1+1", "+32", "-5", "@SUM(A1)", "\tx", "ok-"});
  EXPECT_EQ(out.str(),
            "plain;\"a;b\";\"say \"\"x\"\"\";\"two\nlines\";\n"
            "\"'=1+1\";\"'+32\";\"'-5\";\"'@SUM(A1)\";\"'\tx\";ok-\n");
}

TEST(CsvWriter, WhatItWritesReadsBackTheSame) {
  const std::vector<std::string> row = {"x;y", "q\"q", "l\r\nm", "", "é ü 漢"};
  std::ostringstream out;
  CsvWriter(out).write_row(row);
  const auto parsed = parse(out.str());
  ASSERT_FALSE(parsed.error) << parsed.error->describe();
  ASSERT_EQ(parsed.rows.size(), 1u);
  EXPECT_EQ(parsed.rows[0], row);
}

// A run of fields appended at once (the merge's cells) is exactly the fields appended one by one,
// for records the reader takes as plain and records it does not, formulas, and views that are not
// the record's own.
TEST(CsvWriter, ARunOfFieldsIsTheFieldsEscapedOneByOne) {
  const std::vector<std::string> shapes = {"plain",  "",   "42",  "=1+1",    "+3",
                                           "-5",     "@x", "a-b", "\"q;u\"", "\"say \"\"x\"\"\"",
                                           "\"-2\"", "é"};
  std::mt19937 random(17);
  std::string text;
  for (int record = 0; record < 400; ++record) {
    const std::size_t count = 1 + random() % 6;
    for (std::size_t i = 0; i < count; ++i) {
      if (i > 0) text += ';';
      // Half the records use only shapes that need no quotes, so the plain path runs often.
      text += shapes[random() % (record % 2 == 0 ? 8 : shapes.size())];
    }
    text += record % 5 == 0 ? "\r\n" : "\n";
  }
  CsvReader reader(text, "in.csv", CsvLimits{}, true);
  std::vector<std::string_view> fields;
  std::size_t plain_records = 0;
  for (auto more = reader.next(fields); more && *more; more = reader.next(fields)) {
    plain_records += reader.plain() ? 1 : 0;
    for (std::size_t first = 0; first <= fields.size(); ++first) {
      for (std::size_t last = first; last <= fields.size(); ++last) {
        std::string expected;
        for (std::size_t i = first; i < last; ++i) {
          if (i > first) expected += ';';
          CsvWriter::append_escaped(expected, fields[i]);
        }
        std::string run;
        CsvWriter::append_escaped(run, fields, first, last, reader.plain());
        ASSERT_EQ(run, expected) << "line " << reader.record_line();
      }
    }
    std::vector<std::string_view> every_other;  // in order, but not one run of the input
    for (std::size_t i = 0; i < fields.size(); i += 2) every_other.push_back(fields[i]);
    std::string expected;
    for (std::size_t i = 0; i < every_other.size(); ++i) {
      if (i > 0) expected += ';';
      CsvWriter::append_escaped(expected, every_other[i]);
    }
    std::string run;
    CsvWriter::append_escaped(run, every_other, 0, every_other.size(), reader.plain());
    ASSERT_EQ(run, expected) << "line " << reader.record_line() << ", every other field";
  }
  EXPECT_EQ(reader.records(), 400u);
  EXPECT_GT(plain_records, 100u);
  EXPECT_LT(plain_records, 400u);
}

TEST(Csv, OnlyARecordWithoutQuotesIsPlain) {
  CsvReader reader(std::string_view("a;b\n\"a\";b\n-1;x\r\n"), "in.csv", CsvLimits{}, true);
  std::vector<std::string_view> fields;
  std::vector<bool> plain;
  for (auto more = reader.next(fields); more && *more; more = reader.next(fields)) {
    plain.push_back(reader.plain());
  }
  EXPECT_EQ(plain, (std::vector<bool>{true, false, true}));
}

// Counts the bytes this process allocates (global operator new), so a test can check that the
// reader's memory does not depend on the file's length.
std::atomic<std::uint64_t> g_allocated_bytes{0};

}  // namespace
}  // namespace kbix

// The replacements pair malloc with free by design; GCC cannot see that new and delete match.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(std::size_t size) {
  kbix::g_allocated_bytes.fetch_add(size, std::memory_order_relaxed);
  if (void* memory = std::malloc(size == 0 ? 1 : size)) return memory;
  throw std::bad_alloc();
}
void operator delete(void* memory) noexcept {
  std::free(memory);
}
void operator delete(void* memory, std::size_t) noexcept {
  std::free(memory);
}
#pragma GCC diagnostic pop

namespace kbix {
namespace {

// Reads `records` generated records and returns the bytes allocated meanwhile.
std::uint64_t bytes_allocated_reading(std::uint64_t records) {
  struct Generator : std::streambuf {
    std::uint64_t left = 0;
    std::string line = "12345678901;some value;another\n";
    int_type underflow() override {
      if (left == 0) return traits_type::eof();
      --left;
      setg(line.data(), line.data(), line.data() + line.size());
      return traits_type::to_int_type(line[0]);
    }
  } generator;
  generator.left = records;
  std::istream in(&generator);
  const std::uint64_t before = g_allocated_bytes.load();
  std::uint64_t count = 0;
  {
    CsvReader reader(in, "stream.csv");
    std::vector<std::string> fields;
    for (auto more = reader.next(fields); more && *more; more = reader.next(fields)) ++count;
    EXPECT_EQ(reader.records(), records);
  }
  EXPECT_EQ(count, records);
  return g_allocated_bytes.load() - before;
}

TEST(Csv, MemoryDoesNotGrowWithTheFile) {
  // Read one record at a time, the reader allocates the same for 200,000 records as for
  // 2,000,000: its read buffer grows from 64 KiB to its 1 MiB cap within the first 200,000
  // records and is then reused. A reader that kept records, or allocated per record, would
  // allocate ten times more for the longer stream.
  const std::uint64_t small = bytes_allocated_reading(200000);
  const std::uint64_t large = bytes_allocated_reading(2000000);
  EXPECT_GT(small, 0u);
  EXPECT_LT(large, small * 2) << "allocated " << small << " bytes for 200,000 records and " << large
                              << " for 2,000,000";
}

// The reader's two paths agree: a record read whole from the buffer (the memchr fast path) and
// the same record read across a buffer refill (the byte-by-byte path) give the same fields, the
// same error code and the same "SOURCE:LINE:FIELD" position, for ordinary and hostile records.
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
        const auto a = parse(whole, limits, lines);
        const auto b = parse(split, limits, lines);
        ASSERT_EQ(a.error.has_value(), b.error.has_value());
        if (a.error) {
          EXPECT_EQ(a.error->describe(), b.error->describe());
        }
        EXPECT_EQ(a.rows, b.rows);
      }
  }
}

}  // namespace
}  // namespace kbix
