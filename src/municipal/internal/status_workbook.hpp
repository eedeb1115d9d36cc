// The workbook reader of the status return: the first worksheet (in workbook order) of an .xlsx
// as records of cells for the status rules (internal/status_records.hpp). The record's line is
// Excel's row number; messages name the file, the row and the column letter, never a value.
//
// The container is read with libzip from memory, the XML with libxml2's streaming reader
// (xmlReaderForMemory, XML_PARSE_NONET, entities never substituted, a DOCTYPE refused before
// and while parsing). The sheet is found through xl/workbook.xml (its first <sheet>) and
// xl/_rels/workbook.xml.rels; a part outside xl/ is refused. Cells are placed by their r
// reference (a cell without one follows the previous; a row without one follows the previous);
// rows without a value are not records. Cell text: a shared string (t="s", rich-text runs
// concatenated, phonetic runs left out), an inline string, t="str"/"e"/"d" and numbers as their
// stored text, booleans as TRUE/FALSE. A formula cell gives its cached value; the formula is
// never evaluated (no cached value: an empty cell). "_xHHHH_" escapes are kept as text (as
// openpyxl reads them).
// Does NOT guarantee: that the values are what Excel shows (number formats are not applied:
// 5 formatted as "005" reads "5"); that a sheet the employee hid is not the first one.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "internal/status_records.hpp"
#include "kbix/core/result.hpp"
#include "kbix/municipal/status_return.hpp"

namespace kbix::municipal::internal {

// The first bytes of an OLE compound file (an .xls, or a password-protected .xlsx).
inline constexpr std::string_view kCompoundFileSignature{"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8};

// Opens the workbook in `bytes` (which must outlive the source). Refusals: status.not_workbook,
// status.encrypted_workbook (an encrypted ZIP entry), status.workbook_damaged, status.too_deep,
// status.too_large, status.invalid_utf8, status.control_character; later ones from next().
Result<std::unique_ptr<RecordSource>> open_status_workbook(std::string_view bytes,
                                                           const std::string& source,
                                                           const StatusReturnOptions& options);

// The refusal of a compound file: status.encrypted_workbook when it holds an EncryptionInfo
// stream (Excel's password protection), else status.not_workbook (an Excel 97-2003 file).
Unexpected<Error> compound_file_refusal(std::string_view bytes, const std::string& source);

}  // namespace kbix::municipal::internal
