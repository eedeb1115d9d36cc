// The status coming back (template protocol, art. 5: the flow is one-way "met uitzondering van
// de status van de activiteit"): the municipality returns, per row of the list, the status of
// the activity the person was guided to. docs/municipal-exchange-spec.md "Sending the status
// back" is the partner-facing text of the rules below.
//
// Formats, chosen by content (never by the file's name): a ZIP archive ("PK") is read as an Excel
// workbook (.xlsx), an OLE compound file (D0 CF 11 E0: a password-protected workbook or an old
// .xls) is refused, anything else is read as CSV. The same rules below run over the records of
// either reader (internal/status_records.hpp): there is one set of rules, not one per format.
//
// CSV: UTF-8 (a byte-order mark is allowed), ';' as separator (what Excel writes in the
// Dutch (Belgium) locale for "CSV UTF-8"), RFC 4180 quoting, LF or CRLF line ends (the reader is
// kbix/domain/csv.hpp). A record is a line; every record has as many fields as the header.
// Messages say "file:line:column: ".
//
// Workbook (.xlsx, as Excel, LibreOffice, openpyxl or kbix's own list writer save it): the
// first worksheet in workbook order (found through xl/workbook.xml and its relationships; any
// other sheet is ignored). A record is a sheet row that holds a value (rows without one are not
// records), its line is Excel's row number, its missing cells are empty; a value right of the
// header's last column is refused (status.column_count). A cell's text is the shared or inline
// string (rich-text runs concatenated), a number as stored ("12", never reformatted), a boolean
// as TRUE/FALSE; a formula cell gives the value Excel cached when it saved, and is NEVER
// evaluated. Messages say "file: row 7, column C: ". Read with libzip and libxml2's streaming
// reader, without network access, without substituting entities, refusing any DTD.
//
// The first record is the header: it must hold the reference column
// (default "referentie") and a "status" column, each exactly once (names compared without
// surrounding spaces and without regard to ASCII case); every other column (the list's own
// columns, kept as exported) is ignored: it is checked for UTF-8 and control characters as part
// of its record, and never kept beyond that record.
// A data row:
//  - reference and status both empty: a blank row, skipped (counted);
//  - a reference and an empty status: no news for that person (counted, not published);
//  - a reference and a status: imported. The reference must be one kbix issued in this
//    exchange (RowReferences), the status one of the closed list (case-insensitive; published in
//    the list's spelling). Surrounding spaces and tabs of both cells are ignored; a reference is
//    also accepted in lower case.
//
// The whole file is refused (nothing is imported) on the first of: not a regular file or a
// symbolic link (status.not_regular), larger than max_bytes or more than max_rows data rows
// (status.too_large), invalid UTF-8 (status.invalid_utf8), a control character other than tab,
// LF and CR, or a NUL (status.control_character), a quote left open at the end of the file
// (status.truncated), other CSV damage (status.malformed), a header without the reference or
// status column or with one twice (status.missing_column, status.duplicate_column), a record
// with another number of fields than the header (status.column_count), a status without a
// reference (status.missing_reference), a reference kbix did not issue in this exchange
// (status.unknown_reference), a reference listed twice (status.duplicate_reference), a status
// outside the closed list (status.unknown_status), an empty file or sheet (status.empty), a read
// error (io.read). A workbook is also refused when it is a ZIP archive without a workbook and
// sheet part, an .xls, or its first sheet is no worksheet (status.not_workbook); password-
// protected, or an encrypted ZIP entry (status.encrypted_workbook); its ZIP or XML damaged, a
// DTD or entity, a part outside xl/, a shared-string index out of range, a cell or row
// reference that occurs twice or out of order (status.workbook_damaged); XML nested deeper than
// WorkbookLimits::max_depth or a cell beyond column XFD (status.too_deep); too many ZIP
// entries, an entry or all entries uncompressing beyond their limit, a compression ratio of a
// zip bomb, too many shared strings, a cell over 32,767 characters (status.too_large). Every
// message names the file, the line or row and, where there is one, the column, and NEVER a
// value from the file (not even a reference: it is untrusted text).
//
// publish_statuses writes what was imported for AgII's counsellors, with the INSZ, for the
// client-tracking system: the one place where an INSZ leaves kbix in plaintext, by design, to
// AgII's own system. Format: CSV as above without BOM, header "insz;status;datum_ontvangen",
// one row per imported status in file order, the date the return was received (YYYY-MM-DD).
// The file appears atomically (temporary name, fsync, rename), mode 0640, and an existing file
// is never replaced (io.exists).
// Does NOT guarantee: that the INSZ in a StatusImport is wiped from memory; that the
// municipality's status is true; that the file was sent by the municipality (neither a CSV nor
// a workbook carries a signature: the operator takes it from the SharePoint); that a workbook's
// values are what Excel shows (number formats are not applied, formulas not recalculated: a
// formula's cached value is taken as Excel saved it).
#pragma once

#include <cstdint>
#include <filesystem>
#include <istream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kbix/core/result.hpp"
#include "kbix/municipal/row_references.hpp"

namespace kbix::municipal {

// The closed list of activity statuses when the protocol file names none (the template leaves
// the values to the agreement with each municipality). Lower case, no spaces.
inline constexpr std::string_view kDefaultActivityStatuses[] = {
    "toegeleid",       // guided to an activity, not started yet
    "gestart",         // started the activity
    "afgerond",        // completed it
    "gestopt",         // stopped before the end
    "niet_bereikt",    // the municipality could not reach the person
    "geen_interesse",  // the person declined
};

// Bounds of the workbook reader beyond max_bytes (the file) and max_rows (data rows); Excel's
// own limits (16,384 columns, 1,048,576 rows, 32,767 characters in a cell) are fixed.
struct WorkbookLimits {
  std::uint64_t max_entries = 10'000;            // ZIP entries
  std::uint64_t max_entry_bytes = 100ULL << 20;  // each entry, uncompressed
  std::uint64_t max_total_bytes = 200ULL << 20;  // all entries, uncompressed
  std::uint64_t max_ratio = 200;                 // uncompressed : compressed, entries over 1 MiB
  std::uint64_t max_shared_strings = 2'000'000;  // <si> in xl/sharedStrings.xml
  std::uint64_t max_depth = 32;                  // XML element nesting (a sheet needs 7)
};

struct StatusReturnOptions {
  std::string reference_column = std::string(kReferenceColumn);
  std::string status_column = "status";
  // The closed list; empty means kDefaultActivityStatuses.
  std::vector<std::string> allowed_statuses;
  std::uint64_t max_bytes = 16ULL << 20;  // 16 MiB
  std::uint64_t max_rows = 1'048'576;     // Excel's sheet
  WorkbookLimits workbook;
};

struct ReturnedStatus {
  std::string insz;        // resolved through RowReferences
  std::string reference;   // as kbix issued it
  std::string status;      // as spelled in the closed list
  std::uint64_t line = 0;  // the CSV line, or the sheet row (Excel's number)
};

struct StatusImport {
  std::vector<ReturnedStatus> statuses;  // in file order
  std::uint64_t data_rows = 0;           // records after the header
  std::uint64_t blank_rows = 0;          // reference and status empty
  std::uint64_t without_status = 0;      // a reference, no status
  std::string sha256;                    // of the whole file (file variant only)
};

// Reads a status return file (opened once, through kbix/core/input_file.hpp, and read whole
// into memory: at most max_bytes); sha256 is of exactly the bytes read.
Result<StatusImport> read_status_return(const std::filesystem::path& file,
                                        const RowReferences& references,
                                        const StatusReturnOptions& options = {});
// The same from a stream (read to at most max_bytes + 1 bytes); `source_name` names it in
// messages. sha256 stays empty.
Result<StatusImport> read_status_return(std::istream& in, std::string_view source_name,
                                        const RowReferences& references,
                                        const StatusReturnOptions& options = {});
// The same from bytes in memory. sha256 stays empty.
Result<StatusImport> read_status_return_bytes(std::string_view bytes, std::string_view source_name,
                                              const RowReferences& references,
                                              const StatusReturnOptions& options = {});

struct PublishReport {
  std::uint64_t rows = 0;
  std::filesystem::path file;
};

// Writes `statuses` to `output` as described above; `received_on` is "YYYY-MM-DD".
// Errors: status.bad_date, io.exists, io.create, io.write, io.commit.
Result<PublishReport> publish_statuses(std::span<const ReturnedStatus> statuses,
                                       std::string_view received_on,
                                       const std::filesystem::path& output);

}  // namespace kbix::municipal
