// Helpers of the status-workbook tests: workbooks written at test time by an independent writer
// (openpyxl, status_workbook_writer.py, run with Debian's /usr/bin/python3) or by kbix's own
// list writer, and the row references they carry.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "kbix/municipal/row_references.hpp"
#include "kbix/municipal/status_return.hpp"
#include "kbix/office/workbook.hpp"
#include "unit/municipal/municipal_test_support.hpp"

namespace kbix::test {

// A value planted in the workbooks; no message may hold it.
inline constexpr const char* kWorkbookMarker = "ZQXMARKER";

class StatusWorkbookTest : public testing::Test {
 public:  // the refusal cases build their workbooks from a fixture they are given
  StatusWorkbookTest() : references(municipal::RowReferences::empty("template-a").value()) {
    for (int i = 1; i <= 4; ++i) {
      insz.push_back(synthetic_insz(i));
      ref.push_back(*references.reference_for(insz.back()));
    }
  }

  // Writes the workbook `spec` describes (status_workbook_writer.py) as dir/name.
  fs::path workbook(const nlohmann::json& spec, const std::string& name = "status-2026.xlsx") {
    const fs::path spec_file = dir / (name + ".json");
    std::ofstream(spec_file) << spec.dump();
    const fs::path out = dir / name;
    const int status = run("/usr/bin/python3 " KBIX_STATUS_WORKBOOK_WRITER " " + quoted(spec_file) +
                           " " + quoted(out));
    EXPECT_EQ(status, 0) << "the writer failed for " << spec.dump();
    return out;
  }

  // The header "naam, referentie, telefoon, status" in row 1 and, in rows 2 and 3, two good rows
  // (the marker in the name); `more` are further cells [row, column, value].
  nlohmann::json list_cells(const nlohmann::json& more = nlohmann::json::array()) const {
    nlohmann::json cells = {
        {1, 1, "naam"},
        {1, 2, "referentie"},
        {1, 3, "telefoon"},
        {1, 4, "status"},
        {2, 1, std::string(kWorkbookMarker) + " Een"},
        {2, 2, ref[0]},
        {2, 3, "0470 12 34 56"},
        {2, 4, "gestart"},
        {3, 1, std::string(kWorkbookMarker) + " Twee"},
        {3, 2, ref[1]},
        {3, 4, "afgerond"},
    };
    for (const auto& cell : more) cells.push_back(cell);
    return cells;
  }
  nlohmann::json list_spec(const nlohmann::json& more = nlohmann::json::array()) const {
    return {{"sheets", {{{"title", "Lijst"}, {"cells", list_cells(more)}}}}};
  }

  // The list as kbix's own writer (libxlsxwriter: shared strings) makes it, with a status column
  // the employee filled in: "referentie, naam, status", rows 2 and 3 good (marker in the name).
  fs::path kbix_list(const std::string& name = "kbix-list.xlsx") {
    office::Table table;
    table.header = {"referentie", "naam", "status"};
    table.rows = {{ref[0], std::string(kWorkbookMarker) + " Een", "gestart"},
                  {ref[1], std::string(kWorkbookMarker) + " Twee", "afgerond"}};
    const fs::path file = dir / name;
    const auto written = office::write_workbook(table, file);
    EXPECT_TRUE(written) << written.error().describe();
    return file;
  }

  TempDir dir;
  municipal::RowReferences references;
  std::vector<std::string> insz;
  std::vector<std::string> ref;
};

}  // namespace kbix::test
