// Status returns as Excel workbooks: written by an independent writer (openpyxl) and by kbix's
// own list writer, they are read by the same rules as a CSV: the first worksheet only, cells by
// their reference (sparse rows, rows left out), shared and inline strings, numbers as stored,
// a formula's cached value (never evaluated), leading zeros kept; Excel's row numbers as lines.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "kbix/office/workbook.hpp"
#include "unit/municipal/status_workbook_support.hpp"

namespace kbix::test {
namespace {

using municipal::read_status_return;
using municipal::StatusReturnOptions;

TEST_F(StatusWorkbookTest, OpenpyxlWorkbookIsImportedByRowNumber) {
  // Row 3 is sparse (no name, no phone) and its status has a trailing space and a capital; rows
  // 4 and 5 do not exist; row 6 has no status (an empty inline string); row 7 only a name;
  // row 8 a formula whose cached value differs from what evaluating it would give.
  auto spec = list_spec({
      {6, 1, "Zes"},
      {6, 2, ref[2]},
      {6, 4, ""},
      {7, 1, "alleen een naam"},
      {8, 2, ref[3]},
      {8, 4, "=D3"},
  });
  spec["sheets"][0]["cells"][10][2] = "Afgerond ";
  spec["sheets"][0]["cells"].erase(8);  // row 3's name: the row starts at column B
  // A second sheet with an unknown reference: only the first sheet is read.
  spec["sheets"].push_back({{"title", "Andere"},
                            {"cells",
                             {{1, 1, "referentie"},
                              {1, 2, "status"},
                              {2, 1, "R-ZZZZZ-ZZZZZ-ZZZZZ-ZZZZZ"},
                              {2, 2, "x"}}}});
  spec["edits"] = {{{"part", "xl/worksheets/sheet1.xml"},
                    {"old", "<c r=\"D8\"><f>D3</f><v></v></c>"},
                    {"new", "<c r=\"D8\" t=\"str\"><f>D3</f><v>gestart</v></c>"}}};
  auto imported = read_status_return(workbook(spec), references);
  ASSERT_TRUE(imported) << imported.error().describe();
  EXPECT_EQ(imported->data_rows, 5U);
  EXPECT_EQ(imported->without_status, 1U);
  EXPECT_EQ(imported->blank_rows, 1U);
  ASSERT_EQ(imported->statuses.size(), 3U);
  EXPECT_EQ(imported->statuses[0].insz, insz[0]);
  EXPECT_EQ(imported->statuses[0].status, "gestart");
  EXPECT_EQ(imported->statuses[0].line, 2U);
  EXPECT_EQ(imported->statuses[1].insz, insz[1]);
  EXPECT_EQ(imported->statuses[1].status, "afgerond");
  EXPECT_EQ(imported->statuses[1].line, 3U);
  EXPECT_EQ(imported->statuses[2].insz, insz[3]);
  EXPECT_EQ(imported->statuses[2].status, "gestart") << "the cached value, not D3 evaluated";
  EXPECT_EQ(imported->statuses[2].line, 8U);
  EXPECT_EQ(imported->sha256.size(), 64U);
}

TEST_F(StatusWorkbookTest, NumbersBooleansAndLeadingZerosAreTheirStoredText) {
  StatusReturnOptions options;
  options.allowed_statuses = {"007", "12", "2.5", "TRUE"};
  auto spec = list_spec({{4, 2, ref[2]}, {4, 4, true}, {5, 2, ref[3]}, {5, 4, 2.5}});
  spec["sheets"][0]["cells"][7][2] = "007";  // text: its zeros stay
  spec["sheets"][0]["cells"][10][2] = 12;    // a number cell
  auto imported = read_status_return(workbook(spec), references, options);
  ASSERT_TRUE(imported) << imported.error().describe();
  ASSERT_EQ(imported->statuses.size(), 4U);
  EXPECT_EQ(imported->statuses[0].status, "007");
  EXPECT_EQ(imported->statuses[1].status, "12");
  EXPECT_EQ(imported->statuses[2].status, "TRUE");
  EXPECT_EQ(imported->statuses[3].status, "2.5");
}

TEST_F(StatusWorkbookTest, TheFirstSheetInWorkbookOrderIsRead) {
  // Two sheets, the status sheet second in the workbook but stored as sheet1.xml: the reader
  // follows xl/workbook.xml, so it reads the other one (which has no status column).
  nlohmann::json spec = {
      {"sheets",
       {{{"title", "Lijst"}, {"cells", list_cells()}},
        {{"title", "Uitleg"}, {"cells", {{1, 1, std::string(kWorkbookMarker)}}}}}}};
  spec["edits"] = {
      {{"part", "xl/workbook.xml"},
       {"old", "r:id=\"rId1\"/><sheet"},
       {"new", "r:id=\"rIdX\"/><sheet"}},
      {{"part", "xl/workbook.xml"}, {"old", "r:id=\"rId2\""}, {"new", "r:id=\"rId1\""}},
      {{"part", "xl/workbook.xml"}, {"old", "r:id=\"rIdX\""}, {"new", "r:id=\"rId2\""}}};
  auto refused = read_status_return(workbook(spec), references);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, "status.missing_column") << refused.error().describe();
  EXPECT_NE(refused.error().message.find("status-2026.xlsx: row 1: "), std::string::npos)
      << refused.error().message;
  EXPECT_EQ(refused.error().message.find(kWorkbookMarker), std::string::npos);
}

TEST_F(StatusWorkbookTest, KbixsOwnListWithAStatusFilledInIsImported) {
  // The list as kbix exports it (libxlsxwriter: shared strings, every cell text), the employee
  // added a status column and filled in some rows.
  office::Table table;
  table.header = {"referentie", "naam", "voornaam", "telefoon", "status_mo", "status"};
  table.rows = {
      {ref[0], "Voorbeeld", "Een", "0470 12 34 56", "lopend", "gestart"},
      {ref[1], "Voorbeeld", "Twee", "+32 9 123 45 67", "behaald", ""},
      {ref[2], "Voorbeeld", "Drie", "011 22 33 44", "=1+1", "Niet_Bereikt"},
  };
  const fs::path file = dir / "lijst.xlsx";
  ASSERT_TRUE(office::write_workbook(table, file));
  auto imported = read_status_return(file, references);
  ASSERT_TRUE(imported) << imported.error().describe();
  EXPECT_EQ(imported->data_rows, 3U);
  EXPECT_EQ(imported->without_status, 1U);
  ASSERT_EQ(imported->statuses.size(), 2U);
  EXPECT_EQ(imported->statuses[0].insz, insz[0]);
  EXPECT_EQ(imported->statuses[0].line, 2U);
  EXPECT_EQ(imported->statuses[1].insz, insz[2]);
  EXPECT_EQ(imported->statuses[1].status, "niet_bereikt");
  EXPECT_EQ(imported->statuses[1].line, 4U);
}

TEST_F(StatusWorkbookTest, RichTextSharedStringsAreConcatenatedWithoutPhoneticRuns) {
  office::Table table;
  table.header = {"referentie", "status"};
  table.rows = {{ref[0], "gestart"}};
  const fs::path plain = dir / "plain.xlsx";
  ASSERT_TRUE(office::write_workbook(table, plain));
  // "gestart" as two runs, one bold, and a phonetic run that is not part of the text.
  nlohmann::json spec = {{"base", plain.string()},
                         {"edits",
                          {{{"part", "xl/sharedStrings.xml"},
                            {"old", "<si><t>gestart</t></si>"},
                            {"new",
                             "<si><r><t>ges</t></r><r><rPr><b/></rPr><t>tart</t></r>"
                             "<rPh sb=\"0\" eb=\"1\"><t>" +
                                 std::string(kWorkbookMarker) + "</t></rPh></si>"}}}}};
  auto imported = read_status_return(workbook(spec), references);
  ASSERT_TRUE(imported) << imported.error().describe();
  ASSERT_EQ(imported->statuses.size(), 1U);
  EXPECT_EQ(imported->statuses[0].status, "gestart");
}

TEST_F(StatusWorkbookTest, CellsAndRowsWithoutReferenceFollowThePreviousOne) {
  // As some writers save: no r on the rows and cells of rows 2 and 3.
  auto spec = list_spec();
  spec["edits"] = {
      {{"part", "xl/worksheets/sheet1.xml"}, {"old", "<row r=\"2\">"}, {"new", "<row>"}},
      {{"part", "xl/worksheets/sheet1.xml"}, {"old", "<c r=\"B2\""}, {"new", "<c"}},
      {{"part", "xl/worksheets/sheet1.xml"}, {"old", "<c r=\"C2\""}, {"new", "<c"}},
      {{"part", "xl/worksheets/sheet1.xml"}, {"old", "<row r=\"3\">"}, {"new", "<row>"}},
  };
  auto imported = read_status_return(workbook(spec), references);
  ASSERT_TRUE(imported) << imported.error().describe();
  ASSERT_EQ(imported->statuses.size(), 2U);
  EXPECT_EQ(imported->statuses[0].line, 2U);
  EXPECT_EQ(imported->statuses[1].line, 3U);
  EXPECT_EQ(imported->statuses[1].status, "afgerond");
}

TEST_F(StatusWorkbookTest, TheStreamAndBytesVariantsTellTheFormatByContent) {
  const std::string bytes = read_file(workbook(list_spec()));
  std::istringstream stream(bytes);
  auto from_stream = read_status_return(stream, "terug.csv", references);
  ASSERT_TRUE(from_stream) << from_stream.error().describe();
  EXPECT_EQ(from_stream->statuses.size(), 2U);
  auto csv = municipal::read_status_return_bytes("referentie;status\n" + ref[2] + ";gestopt\n",
                                                 "terug.xlsx", references);
  ASSERT_TRUE(csv) << csv.error().describe();
  EXPECT_EQ(csv->statuses.at(0).insz, insz[2]);
}

}  // namespace
}  // namespace kbix::test
