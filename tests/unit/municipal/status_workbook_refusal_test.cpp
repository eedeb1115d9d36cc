// Status-return workbooks that are refused as a whole: each with its code, the file, the sheet
// row and column where there is one, and never a value from the file (a marker planted in the
// workbook, and the row references, are looked for in the message). The workbooks are written
// by openpyxl or kbix's own writer and then damaged on purpose (status_workbook_writer.py).
#include <gtest/gtest.h>

#include <functional>

#include "kbix/office/password.hpp"
#include "kbix/office/protected_file.hpp"
#include "unit/municipal/status_workbook_support.hpp"

namespace kbix::test {
namespace {

using municipal::read_status_return;
using municipal::StatusReturnOptions;
using nlohmann::json;

constexpr const char* kSheet = "xl/worksheets/sheet1.xml";
const std::string kMarker = kWorkbookMarker;

json edit(std::string_view part, std::string_view old_text, std::string_view new_text,
          bool latin1 = false) {
  return {{"part", part}, {"old", old_text}, {"new", new_text}, {"latin1", latin1}};
}
json regex_edit(std::string_view part, std::string_view pattern, std::string_view replacement) {
  return {{"part", part}, {"old", pattern}, {"new", replacement}, {"regex", true}};
}

struct WorkbookRefusal {
  std::string name;
  std::string code;
  std::string place;  // "row 4, column B", "row 3", or "" (the message names only the file)
  std::function<json(StatusWorkbookTest&)> spec;
  std::function<void(StatusReturnOptions&)> tune = [](StatusReturnOptions&) {};
};

void PrintTo(const WorkbookRefusal& value, std::ostream* out) {
  *out << value.name;
}

class StatusWorkbookRefusalTest : public StatusWorkbookTest,
                                  public testing::WithParamInterface<WorkbookRefusal> {};

TEST_P(StatusWorkbookRefusalTest, WholeWorkbookIsRefusedWithoutEchoingIt) {
  const WorkbookRefusal& refusal = GetParam();
  StatusReturnOptions options;
  refusal.tune(options);
  auto result = read_status_return(workbook(refusal.spec(*this)), references, options);
  ASSERT_FALSE(result) << "imported " << result->statuses.size() << " statuses";
  EXPECT_EQ(result.error().code, refusal.code) << result.error().describe();
  const std::string& message = result.error().message;
  const std::string place =
      "status-2026.xlsx: " + (refusal.place.empty() ? std::string() : refusal.place + ": ");
  EXPECT_EQ(message.rfind(place, 0), 0U) << message;
  EXPECT_EQ(message.find(kMarker), std::string::npos) << message;
  EXPECT_EQ(message.find("R-"), std::string::npos) << message;
  EXPECT_NE(message.find("nothing was imported"), std::string::npos) << message;
}

json with(StatusWorkbookTest& t, const json& more) {
  return t.list_spec(more);
}
// `edits`: one edit or a list of them (a braced single edit is the edit itself, not a list).
json edit_list(const json& edits) {
  return edits.is_object() ? json::array({edits}) : edits;
}
json edited(StatusWorkbookTest& t, const json& edits, const json& more = json::array()) {
  json spec = t.list_spec(more);
  spec["edits"] = edit_list(edits);
  return spec;
}
json kbix_edited(StatusWorkbookTest& t, const json& edits) {
  return {{"base", t.kbix_list().string()}, {"edits", edit_list(edits)}};
}
std::string nested(int depth) {
  std::string open;
  std::string close;
  for (int i = 0; i < depth; ++i) {
    open += "<x>";
    close += "</x>";
  }
  return open + "<t>" + kMarker + "</t>" + close;
}

const WorkbookRefusal kRefusals[] = {
    // The shared rules, with places in sheet terms.
    {"UnknownReference", "status.unknown_reference", "row 4, column B",
     [](auto& t) {
       return with(t, {{4, 1, kMarker}, {4, 2, "R-ZZZZZ-ZZZZZ-ZZZZZ-ZZZZZ"}, {4, 4, "gestart"}});
     }},
    {"StatusOutsideTheList", "status.unknown_status", "row 4, column D",
     [](auto& t) {
       return with(t, {{4, 2, t.ref[2]}, {4, 4, kMarker}});
     }},
    {"DuplicatedReference", "status.duplicate_reference", "row 4, column B",
     [](auto& t) {
       return with(t, {{4, 2, t.ref[0]}, {4, 4, "gestopt"}});
     }},
    {"StatusWithoutReference", "status.missing_reference", "row 4, column B",
     [](auto& t) {
       return with(t, {{4, 1, kMarker}, {4, 4, "gestart"}});
     }},
    {"ValueRightOfTheHeader", "status.column_count", "row 4, column F",
     [](auto& t) {
       return with(t, {{4, 2, t.ref[2]}, {4, 6, kMarker}});
     }},
    {"DeleteCharacter", "status.control_character", "row 4, column A",
     [](auto& t) {
       return with(t, {{4, 1, kMarker + "\x7f"}, {4, 2, t.ref[2]}});
     }},
    {"CellOverExcelsLength", "status.too_large", "row 3, column A",
     [](auto& t) {  // openpyxl cuts a longer text to 32,767 characters: planted in the XML
       return edited(t, edit(kSheet, kMarker + " Twee", kMarker + std::string(32'768, 'Z')));
     }},
    {"TooManyRows", "status.too_large", "row 3", [](auto& t) { return with(t, {}); },
     [](StatusReturnOptions& o) { o.max_rows = 1; }},
    {"EmptySheet", "status.empty", "",
     [](auto&) {
       return json{{"sheets", {{{"title", "Lijst"}, {"cells", json::array()}}}}};
     }},
    // Bytes in the XML.
    {"InvalidUtf8InACell", "status.invalid_utf8", "row 3, column A",
     [](auto& t) {
       return edited(t, {edit(kSheet, kMarker + " Twee", kMarker + " \u00c3( Twee", true)});
     }},
    {"ControlCharacterInACell", "status.control_character", "row 3, column A",
     [](auto& t) {
       return edited(t, {edit(kSheet, kMarker + " Twee", kMarker + " \u0001 Twee", true)});
     }},
    {"InvalidUtf8InASharedStringACellUses", "status.invalid_utf8", "row 3, column B",
     [](auto& t) {
       return kbix_edited(
           t, {edit("xl/sharedStrings.xml", kMarker + " Twee", kMarker + " \u00ff Twee", true)});
     }},
    // The sheet's structure.
    {"SecondOccurrenceOfACell", "status.workbook_damaged", "row 3, column B",
     [](auto& t) { return edited(t, {edit(kSheet, "<c r=\"D3\"", "<c r=\"B3\"")}); }},
    {"CellOfAnotherRow", "status.workbook_damaged", "row 3",
     [](auto& t) { return edited(t, {edit(kSheet, "<c r=\"D3\"", "<c r=\"D9\"")}); }},
    {"RowsOutOfOrder", "status.workbook_damaged", "row 2",
     [](auto& t) { return edited(t, {edit(kSheet, "<row r=\"3\"", "<row r=\"2\"")}); }},
    {"CellBeyondColumnXFD", "status.too_deep", "row 3",
     [](auto& t) { return edited(t, {edit(kSheet, "<c r=\"D3\"", "<c r=\"XFE3\"")}); }},
    {"XmlNestedTooDeep", "status.too_deep", "row 3, column A",
     [](auto& t) { return edited(t, {edit(kSheet, "<t>" + kMarker + " Twee</t>", nested(40))}); }},
    {"SharedStringIndexOutOfRange", "status.workbook_damaged", "row 3, column B",
     [](auto& t) {
       return kbix_edited(t, {regex_edit(kSheet, "(<c r=\"B3\"[^>]*><v>)[0-9]+", "\\g<1>999")});
     }},
    {"DamagedXml", "status.workbook_damaged", "",
     [](auto& t) { return edited(t, {edit(kSheet, "</sheetData>", "</sheetDat>")}); }},
    // DTDs and entities: billion laughs in the sheet, an external entity in the strings.
    {"DoctypeWithEntities", "status.workbook_damaged", "",
     [](auto& t) {
       return edited(t, {edit(kSheet, "<worksheet",
                              "<!DOCTYPE worksheet [<!ENTITY a \"" + kMarker +
                                  "\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;\">]><worksheet"),
                         edit(kSheet, "<t>" + kMarker + " Twee</t>", "<t>&b;</t>")});
     }},
    {"ExternalEntityInSharedStrings", "status.workbook_damaged", "",
     [](auto& t) {
       return kbix_edited(t, {regex_edit("xl/sharedStrings.xml", "<sst",
                                         "<!DOCTYPE sst [<!ENTITY x SYSTEM "
                                         "\"file:///etc/hostname\">]><sst")});
     }},
    // The package.
    {"SheetPartOutsideXl", "status.workbook_damaged", "",
     [](auto& t) {
       json spec = edited(t, {edit("xl/_rels/workbook.xml.rels", "/xl/worksheets/sheet1.xml",
                                   "../evil/sheet1.xml")});
       spec["add"] = {{{"name", "evil/sheet1.xml"}, {"text", "<worksheet/>"}}};
       return spec;
     }},
    {"SheetPartMissing", "status.not_workbook", "",
     [](auto& t) {
       return edited(t, {edit("xl/_rels/workbook.xml.rels", "sheet1.xml", "absent.xml")});
     }},
    {"ZipWithoutWorkbook", "status.not_workbook", "",
     [](auto&) {
       return json{{"base", "empty"}, {"add", {{{"name", "notes.txt"}, {"text", kMarker}}}}};
     }},
    {"ZipBomb", "status.too_large", "",
     [](auto& t) {
       json spec = t.list_spec();
       spec["add"] = {{{"name", "xl/media/image1.png"}, {"zeros", 60 << 20}}};
       return spec;
     }},
    {"DamagedCompressedData", "status.workbook_damaged", "",
     [](auto& t) {
       json spec = t.list_spec();
       spec["corrupt"] = kSheet;
       return spec;
     }},
    // Bounds lowered to what a small workbook exceeds.
    {"TooManyEntries", "status.too_large", "", [](auto& t) { return t.list_spec(); },
     [](StatusReturnOptions& o) { o.workbook.max_entries = 3; }},
    {"EntryTooLarge", "status.too_large", "", [](auto& t) { return t.list_spec(); },
     [](StatusReturnOptions& o) { o.workbook.max_entry_bytes = 600; }},
    {"AllEntriesTooLarge", "status.too_large", "", [](auto& t) { return t.list_spec(); },
     [](StatusReturnOptions& o) { o.workbook.max_total_bytes = 4000; }},
    {"TooManySharedStrings", "status.too_large", "",
     [](auto& t) { return kbix_edited(t, json::array()); },
     [](StatusReturnOptions& o) { o.workbook.max_shared_strings = 4; }},
    {"FileTooLarge", "status.too_large", "", [](auto& t) { return t.list_spec(); },
     [](StatusReturnOptions& o) { o.max_bytes = 2000; }},
};

INSTANTIATE_TEST_SUITE_P(Cases, StatusWorkbookRefusalTest, testing::ValuesIn(kRefusals),
                         [](const auto& param_info) { return param_info.param.name; });

TEST_F(StatusWorkbookTest, KbixsOwnProtectedFilesAreRefusedAsEncrypted) {
  // What a municipality might send back unchanged: the list still password-protected (Excel's
  // agile encryption, a compound file) or in kbix's AES-256 ZIP profile (encrypted entries).
  // Debian's msoffcrypto-tool 5.0 only decrypts; its reading of kbix's agile files is checked by
  // the office tests.
  office::Table table;
  table.header = {"referentie", "status"};
  table.rows = {{ref[0], "gestart"}};
  auto password = office::FilePassword::generate();
  ASSERT_TRUE(password);
  const fs::path work = dir / "work";
  fs::create_directory(work);
  for (const auto profile : {office::FileProfile::xlsx_agile, office::FileProfile::zip_aes256}) {
    const fs::path file = dir / ("protected" + std::string(office::profile_extension(profile)));
    ASSERT_TRUE(office::write_protected_file(table, profile, *password, work, file));
    auto result = read_status_return(file, references);
    ASSERT_FALSE(result) << office::profile_name(profile);
    EXPECT_EQ(result.error().code, "status.encrypted_workbook") << result.error().describe();
    EXPECT_EQ(result.error().message.find(password->reveal()), std::string::npos);
  }
}

TEST_F(StatusWorkbookTest, AnOldCompoundFileIsNotAWorkbook) {
  const std::string xls = std::string("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8) + kMarker;
  auto result = municipal::read_status_return_bytes(xls, "oud.xls", references);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, "status.not_workbook");
  EXPECT_EQ(result.error().message.find(kMarker), std::string::npos);
}

TEST_F(StatusWorkbookTest, AZipSignatureWithoutAnArchiveIsNotAWorkbook) {
  auto result = municipal::read_status_return_bytes("PK\x03\x04" + kMarker, "x.xlsx", references);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, "status.not_workbook") << result.error().describe();
}

}  // namespace
}  // namespace kbix::test
