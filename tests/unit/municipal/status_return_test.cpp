// Status returns: a good file is imported and published exactly; every refusal refuses the whole
// file (a bad row after good ones still imports nothing), names file, line and column, and never
// echoes a value from the file (a marker planted in the file is looked for in the message).
#include "kbix/municipal/status_return.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sstream>

#include "unit/municipal/municipal_test_support.hpp"

namespace kbix::test {
namespace {

using municipal::publish_statuses;
using municipal::read_status_return;
using municipal::RowReferences;
using municipal::StatusReturnOptions;

// A value planted in the files; no message may hold it.
constexpr const char* kMarker = "ZQXMARKER";

class StatusReturnTest : public testing::Test {
 protected:
  StatusReturnTest() : references(RowReferences::empty("template-a").value()) {
    for (int i = 1; i <= 3; ++i) {
      insz.push_back(synthetic_insz(i));
      ref.push_back(*references.reference_for(insz.back()));
    }
  }
  fs::path write(const std::string& content, const std::string& name = "return.csv") {
    write_file(dir / name, content);
    return dir / name;
  }
  TempDir dir;
  RowReferences references;
  std::vector<std::string> insz;
  std::vector<std::string> ref;
};

TEST_F(StatusReturnTest, GoodFileIsImportedAndPublishedExactly) {
  // As Excel saves it: BOM, CRLF, the list's other columns kept, a quoted cell with ';', a
  // person without news, a blank row, a status in other case, spaces around a cell.
  const std::string csv =
      "\xEF\xBB\xBFnaam;Referentie;telefoon; Status \r\n"
      "\"Peeters; An\";" +
      ref[0] + ";0470 12 34 56;gestart\r\n" + "Janssens;" + ref[1] + ";;\r\n" + ";;;\r\n" +
      "Maes; " + ref[2] + " ;+32 9 123 45 67; Afgerond \r\n";
  auto imported = read_status_return(write(csv), references);
  ASSERT_TRUE(imported) << imported.error().describe();
  EXPECT_EQ(imported->data_rows, 4U);
  EXPECT_EQ(imported->blank_rows, 1U);
  EXPECT_EQ(imported->without_status, 1U);
  ASSERT_EQ(imported->statuses.size(), 2U);
  EXPECT_EQ(imported->statuses[0].insz, insz[0]);
  EXPECT_EQ(imported->statuses[0].status, "gestart");
  EXPECT_EQ(imported->statuses[0].line, 2U);
  EXPECT_EQ(imported->statuses[1].insz, insz[2]);
  EXPECT_EQ(imported->statuses[1].reference, ref[2]);
  EXPECT_EQ(imported->statuses[1].status, "afgerond");
  EXPECT_EQ(imported->sha256.size(), 64U);

  const fs::path out = dir / "statussen.csv";
  auto published = publish_statuses(imported->statuses, "2026-12-02", out);
  ASSERT_TRUE(published) << published.error().describe();
  EXPECT_EQ(published->rows, 2U);
  EXPECT_EQ(read_file(out), "insz;status;datum_ontvangen\n" + insz[0] + ";gestart;2026-12-02\n" +
                                insz[2] + ";afgerond;2026-12-02\n");
  struct stat info {};
  ASSERT_EQ(::stat(out.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 07777, 0640U);
  // Never replaced, and nothing left behind by the refused attempt.
  auto again = publish_statuses(imported->statuses, "2026-12-02", out);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, "io.exists");
  EXPECT_EQ(entries(dir.path()).size(), 2U);
  EXPECT_FALSE(publish_statuses(imported->statuses, "2-12-2026", dir / "other.csv"));
}

TEST_F(StatusReturnTest, ProtocolClosedListReplacesTheDefault) {
  StatusReturnOptions options;
  options.allowed_statuses = {"Bezig", "Klaar"};
  auto imported =
      read_status_return(write("referentie;status\n" + ref[0] + ";klaar\n"), references, options);
  ASSERT_TRUE(imported) << imported.error().describe();
  EXPECT_EQ(imported->statuses.at(0).status, "Klaar");
  auto refused = read_status_return(write("referentie;status\n" + ref[0] + ";gestart\n", "b.csv"),
                                    references, options);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, "status.unknown_status");
}

struct Refusal {
  std::string name;
  std::string code;
  std::uint64_t line;  // 0: the message need not name one
  // Rows after the header "naam;referentie;status"; {R0} {R1} {R2} are our references,
  // {M} the marker.
  std::string rows;
  std::string header = "naam;referentie;status\n";
};

void PrintTo(const Refusal& value, std::ostream* out) {
  *out << value.name;
}

std::string expand(std::string text, const std::vector<std::string>& ref) {
  for (std::size_t i = 0; i < ref.size(); ++i) {
    const std::string key = "{R" + std::to_string(i) + "}";
    for (auto at = text.find(key); at != std::string::npos; at = text.find(key)) {
      text.replace(at, key.size(), ref[i]);
    }
  }
  for (auto at = text.find("{M}"); at != std::string::npos; at = text.find("{M}")) {
    text.replace(at, 3, kMarker);
  }
  return text;
}

class StatusRefusalTest : public StatusReturnTest, public testing::WithParamInterface<Refusal> {};

TEST_P(StatusRefusalTest, WholeFileIsRefusedWithoutEchoingIt) {
  const Refusal& refusal = GetParam();
  // Good rows come first: a refusal at the end must still import nothing.
  const std::string csv =
      expand(refusal.header + "{M};{R0};gestart\n{M};{R1};afgerond\n" + refusal.rows, ref);
  auto result = read_status_return(write(csv), references);
  ASSERT_FALSE(result) << "imported " << result->statuses.size() << " statuses";
  EXPECT_EQ(result.error().code, refusal.code) << result.error().describe();
  const std::string& message = result.error().message;
  EXPECT_NE(message.find("return.csv"), std::string::npos) << message;
  if (refusal.line != 0) {
    EXPECT_NE(message.find("return.csv:" + std::to_string(refusal.line) + ":"), std::string::npos)
        << message;
  }
  EXPECT_EQ(message.find(kMarker), std::string::npos) << message;
  for (const auto& reference : ref) EXPECT_EQ(message.find(reference), std::string::npos);
  EXPECT_EQ(message.find("R-"), std::string::npos) << message;
  EXPECT_NE(message.find("nothing was imported"), std::string::npos) << message;
}

const Refusal kRefusals[] = {
    {"UnknownReference", "status.unknown_reference", 4, "{M};R-ZZZZZ-ZZZZZ-ZZZZZ-ZZZZZ;gestart\n"},
    {"GarbageReference", "status.unknown_reference", 4, "x;{M};gestart\n"},
    {"UnknownReferenceWithoutStatus", "status.unknown_reference", 4,
     "x;R-ZZZZZ-ZZZZZ-ZZZZZ-ZZZZZ;\n"},
    {"StatusOutsideTheList", "status.unknown_status", 4, "x;{R2};{M}\n"},
    {"DuplicatedReference", "status.duplicate_reference", 4, "{M};{R0};afgerond\n"},
    {"DuplicatedReferenceWithoutStatus", "status.duplicate_reference", 4, "x;{R1};\n"},
    {"StatusWithoutReference", "status.missing_reference", 4, "{M};;gestart\n"},
    {"MissingStatusColumn", "status.missing_column", 1, "", "naam;referentie;{M}\n"},
    {"MissingReferenceColumn", "status.missing_column", 1, "", "naam;{M};status\n"},
    {"DuplicatedColumn", "status.duplicate_column", 1, "", "status;referentie;status\n"},
    {"FieldMissing", "status.column_count", 4, "{M};{R2}\n"},
    {"FieldTooMany", "status.column_count", 4, "{M};{R2};gestart;{M}\n"},
    {"InvalidUtf8", "status.invalid_utf8", 4, "\xC3\x28{M};{R2};gestart\n"},
    {"ControlCharacter", "status.control_character", 4, "\x01{M};{R2};gestart\n"},
    {"Escape", "status.control_character", 4, "\x1b[2J{M};{R2};gestart\n"},
    {"NulByte", "status.control_character", 4, std::string("{M}") + '\0' + "x;{R2};gestart\n"},
    {"UnterminatedQuote", "status.truncated", 4, "\"{M};{R2};gestart\n"},
    {"TextAfterQuote", "status.malformed", 4, "\"{M}\"x;{R2};gestart\n"},
};

INSTANTIATE_TEST_SUITE_P(Cases, StatusRefusalTest, testing::ValuesIn(kRefusals),
                         [](const auto& param_info) { return param_info.param.name; });

TEST_F(StatusReturnTest, EmptyFileIsRefused) {
  auto result = read_status_return(write(""), references);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, "status.empty");
}

TEST_F(StatusReturnTest, OversizedFileIsRefusedBeforeReading) {
  StatusReturnOptions options;
  options.max_bytes = 200;
  std::string csv = "referentie;status\n" + ref[0] + ";gestart\n";
  ASSERT_TRUE(read_status_return(write(csv, "small.csv"), references, options));
  while (csv.size() <= options.max_bytes) csv += std::string(kMarker) + "\n";
  auto result = read_status_return(write(csv), references, options);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, "status.too_large");
  EXPECT_EQ(result.error().message.find(kMarker), std::string::npos);
}

TEST_F(StatusReturnTest, OversizedStreamIsRefusedWhileReading) {
  StatusReturnOptions options;
  options.max_bytes = 100;
  std::string csv = "referentie;status\n" + ref[0] + ";gestart\n";
  std::istringstream fits(csv);
  ASSERT_TRUE(read_status_return(fits, "stream", references, options));
  csv += "\"" + std::string(200, 'x') + "\"\n";
  std::istringstream big(csv);
  auto result = read_status_return(big, "stream", references, options);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, "status.too_large");
}

TEST_F(StatusReturnTest, TooManyRowsAreRefused) {
  StatusReturnOptions options;
  options.max_rows = 2;
  const std::string two = "referentie;status\n" + ref[0] + ";gestart\n" + ref[1] + ";\n";
  ASSERT_TRUE(read_status_return(write(two, "two.csv"), references, options));
  auto result = read_status_return(write(two + ref[2] + ";gestart\n"), references, options);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, "status.too_large");
}

TEST_F(StatusReturnTest, SymbolicLinkIsRefused) {
  const fs::path target = write("referentie;status\n" + ref[0] + ";gestart\n", "real.csv");
  ASSERT_EQ(::symlink(target.c_str(), (dir / "link.csv").c_str()), 0);
  auto result = read_status_return(dir / "link.csv", references);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, "status.not_regular");
}

TEST_F(StatusReturnTest, ReferenceOfAnotherExchangeIsUnknown) {
  auto other = RowReferences::empty("template-b").value();
  const std::string foreign = *other.reference_for(insz[0]);
  auto result =
      read_status_return(write("referentie;status\n" + foreign + ";gestart\n"), references);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, "status.unknown_reference");
}

}  // namespace
}  // namespace kbix::test
