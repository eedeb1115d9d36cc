#include "kbix/office/workbook.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "office_test_support.hpp"

namespace {

namespace fs = std::filesystem;
using kbix::office::Table;

using Workbook = kbix::office::test::OfficeScratch;

TEST_F(Workbook, EveryCellReadsBackAsTheSameTextNeverAsAFormula) {
  const Table table = kbix::office::test::synthetic_table();
  const auto file = work_ / "list.xlsx";
  ASSERT_TRUE(kbix::office::write_workbook(table, file));
  const auto outcome = kbix::office::test::oracle_xlsx(file, table, dir_);
  EXPECT_EQ(outcome.exit_code, 0) << outcome.output;
}

TEST_F(Workbook, IsPrivateAndLeavesNothingElseInTheWorkDirectory) {
  const auto file = work_ / "list.xlsx";
  ASSERT_TRUE(kbix::office::write_workbook(kbix::office::test::synthetic_table(), file));
  struct stat info {};
  ASSERT_EQ(::stat(file.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  EXPECT_EQ(std::distance(fs::directory_iterator(work_), fs::directory_iterator()), 1);
}

TEST_F(Workbook, RefusesToReplaceAFile) {
  const auto file = work_ / "list.xlsx";
  ASSERT_TRUE(kbix::office::write_workbook(kbix::office::test::synthetic_table(), file));
  auto again = kbix::office::write_workbook(kbix::office::test::synthetic_table(), file);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, "io.exists");
}

TEST(WorkbookFormula, RecognisesWhatASpreadsheetWouldRun) {
  for (const std::string_view cell : {"=1+1", "+32 470", "-5", "@SUM(A1)", "\tx", "\rx"})
    EXPECT_TRUE(kbix::office::starts_like_formula(cell)) << cell;
  for (const std::string_view cell : {"", "0470", "a=1", " =1", "Voorbeeld"})
    EXPECT_FALSE(kbix::office::starts_like_formula(cell)) << cell;
}

struct BadCell {
  std::string value;
  std::string code;
};

TEST_F(Workbook, RefusesBadCellsNamingRowAndColumnNotTheValue) {
  const std::vector<BadCell> cases{
      {"Voorbeeld\xC3", "office.cell_not_utf8"},              // truncated sequence
      {"Voorbeeld\xC0\xAF", "office.cell_not_utf8"},          // overlong '/'
      {"Voorbeeld\xED\xA0\x80", "office.cell_not_utf8"},      // a UTF-16 surrogate
      {"Voorbeeld\xF4\x90\x80\x80", "office.cell_not_utf8"},  // above U+10FFFF
      {std::string("Voorbeeld\0Een", 13), "office.cell_control_character"},
      {"Voorbeeld\x07", "office.cell_control_character"},
      {std::string(32768, 'x'), "office.cell_too_long"},
  };
  for (const auto& bad : cases) {
    Table table = kbix::office::test::synthetic_table();
    table.rows[2][4] = bad.value;
    auto checked = kbix::office::check_table(table);
    ASSERT_FALSE(checked) << bad.code;
    EXPECT_EQ(checked.error().code, bad.code);
    EXPECT_NE(checked.error().message.find("row 4, column 5"), std::string::npos)
        << checked.error().message;
    EXPECT_EQ(checked.error().message.find("Voorbeeld"), std::string::npos);
    const auto file = work_ / "refused.xlsx";
    EXPECT_FALSE(kbix::office::write_workbook(table, file));
    EXPECT_FALSE(fs::exists(file));
  }
}

TEST(WorkbookTable, AcceptsTheLongestCellAndFourByteCharacters) {
  Table table{{"kolom"}, {{std::string(32767, 'x')}, {"\xF0\x9F\x98\x80 \xE2\x82\xAC"}}};
  EXPECT_TRUE(kbix::office::check_table(table));
}

TEST(WorkbookTable, RefusesRaggedRowsAndNoColumns) {
  Table ragged = kbix::office::test::synthetic_table();
  ragged.rows[1].pop_back();
  auto checked = kbix::office::check_table(ragged);
  ASSERT_FALSE(checked);
  EXPECT_EQ(checked.error().code, "office.table_ragged");
  EXPECT_NE(checked.error().message.find("row 3"), std::string::npos);
  EXPECT_EQ(kbix::office::check_table(Table{}).error().code, "office.table_no_columns");
}

TEST_F(Workbook, RefusesASheetNameExcelWouldNot) {
  kbix::office::WorkbookOptions options;
  options.sheet_name = "Lijst[1]";
  const auto file = work_ / "list.xlsx";
  auto written = kbix::office::write_workbook(kbix::office::test::synthetic_table(), file, options);
  ASSERT_FALSE(written);
  EXPECT_EQ(written.error().code, "office.sheet_name");
  EXPECT_FALSE(fs::exists(file));
}

}  // namespace
