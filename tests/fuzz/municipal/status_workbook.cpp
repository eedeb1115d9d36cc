// Fuzzes the status return as an Excel workbook: read_status_return_bytes (a ZIP archive is read
// by the workbook reader: libzip and libxml2's streaming reader under their bounds) against a
// fixed map of three row references. First byte: 0 mod 3, the rest is the file as it is (seeds:
// small workbooks written by openpyxl and kbix's writer); 1 mod 3, the rest is the sheet's XML
// and 2 mod 3 the shared strings' XML, each put into a fixed workbook here (stored entries, so
// that mutations reach the XML reader instead of failing the ZIP checksum).
// Nothing may crash or balloon; the outcome passes fuzz/municipal/status_fuzz_support.hpp's
// checks, every accepted line a sheet row (1..1,048,576).
#include <zip.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>

#include "fuzz/municipal/status_fuzz_support.hpp"
#include "kbix/municipal/status_return.hpp"

namespace {

constexpr std::string_view kWorkbook =
    "<workbook xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" "
    "xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\"><sheets>"
    "<sheet name=\"Lijst\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>";
constexpr std::string_view kRelationships =
    "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
    "<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/"
    "relationships/worksheet\" Target=\"worksheets/sheet1.xml\"/>"
    "<Relationship Id=\"rId2\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/"
    "relationships/sharedStrings\" Target=\"sharedStrings.xml\"/></Relationships>";
constexpr std::string_view kSheet =
    "<worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><sheetData>"
    "<row r=\"1\"><c r=\"A1\" t=\"s\"><v>0</v></c><c r=\"B1\" t=\"s\"><v>1</v></c></row>"
    "<row r=\"2\"><c r=\"A2\" t=\"s\"><v>2</v></c><c r=\"B2\" t=\"s\"><v>3</v></c></row>"
    "</sheetData></worksheet>";
constexpr std::string_view kStrings =
    "<sst xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><si><t>referentie"
    "</t></si><si><t>status</t></si><si><t>R-22222-33333-44444-55555</t></si><si><r><t>ges</t></r>"
    "<r><t>tart</t></r></si></sst>";

// A workbook of the fixed parts with `sheet` and `strings`, every entry stored.
std::string package(std::string_view sheet, std::string_view strings) {
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* target = zip_source_buffer_create(nullptr, 0, 0, &error);
  zip_t* archive = zip_open_from_source(target, ZIP_TRUNCATE, &error);
  if (archive == nullptr) std::abort();
  zip_source_keep(target);
  const std::pair<const char*, std::string_view> parts[] = {
      {"xl/workbook.xml", kWorkbook},
      {"xl/_rels/workbook.xml.rels", kRelationships},
      {"xl/worksheets/sheet1.xml", sheet},
      {"xl/sharedStrings.xml", strings}};
  for (const auto& [name, content] : parts) {
    zip_source_t* entry = zip_source_buffer(archive, content.data(), content.size(), 0);
    const zip_int64_t index = zip_file_add(archive, name, entry, 0);
    if (index < 0) std::abort();
    zip_set_file_compression(archive, static_cast<zip_uint64_t>(index), ZIP_CM_STORE, 0);
  }
  if (zip_close(archive) != 0) std::abort();
  zip_stat_t stat;
  zip_stat_init(&stat);
  if (zip_source_stat(target, &stat) != 0 || zip_source_open(target) != 0) std::abort();
  std::string bytes(static_cast<std::size_t>(stat.size), '\0');
  if (zip_source_read(target, bytes.data(), stat.size) != static_cast<zip_int64_t>(stat.size)) {
    std::abort();
  }
  zip_source_close(target);
  zip_source_free(target);
  return bytes;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  kbix::municipal::StatusReturnOptions options;
  options.max_bytes = 1 << 20;
  options.max_rows = 4096;
  // Small enough that a mutated size field cannot make one input take seconds.
  options.workbook.max_entry_bytes = 4 << 20;
  options.workbook.max_total_bytes = 8 << 20;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::string built;
  if (data[0] % 3 == 1) built = package(rest, kStrings);
  if (data[0] % 3 == 2) built = package(kSheet, rest);
  const std::string_view bytes = data[0] % 3 == 0 ? rest : std::string_view(built);
  kbix::fuzz::check_status_outcome(kbix::municipal::read_status_return_bytes(
                                       bytes, "fuzz.xlsx", kbix::fuzz::fixed_map(), options),
                                   1'048'576);
  return 0;
}
