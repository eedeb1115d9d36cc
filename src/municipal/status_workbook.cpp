#include "internal/status_workbook.hpp"

#include <algorithm>
#include <charconv>
#include <map>
#include <vector>

#include "internal/workbook_container.hpp"
#include "internal/workbook_xml.hpp"

namespace kbix::municipal::internal {
namespace {

constexpr std::size_t kMaxColumns = 16'384;         // XFD
constexpr std::uint64_t kMaxRowNumber = 1'048'576;  // Excel's last row
constexpr std::size_t kMaxCellCharacters = 32'767;
// Cells handed to the rules, empty ones included: a bound on the work of a sheet whose every row
// reaches column XFD.
constexpr std::uint64_t kMaxCellSlots = 64ULL << 20;
constexpr std::string_view kRelationshipsTail = "/relationships";

// "A" for 1, "Z" for 26, "AA" for 27.
std::string column_letters(std::size_t column) {
  std::string letters;
  for (; column > 0; column = (column - 1) / 26) {
    letters.insert(letters.begin(), static_cast<char>('A' + (column - 1) % 26));
  }
  return letters;
}

std::optional<std::uint64_t> decimal(std::string_view text) {
  std::uint64_t value = 0;
  if (text.empty() || text.size() > 18) return std::nullopt;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::size_t characters(std::string_view utf8) {
  return static_cast<std::size_t>(std::count_if(utf8.begin(), utf8.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

ErrorCode defect_code(PartDefect defect) {
  return defect == PartDefect::invalid_utf8 ? ErrorCode("status.invalid_utf8")
                                            : ErrorCode("status.control_character");
}
std::string defect_text(PartDefect defect) {
  return defect == PartDefect::invalid_utf8 ? "bytes that are not UTF-8" : "a control character";
}

// The refusal of a failed read step of `part`; `at` names the place.
Unexpected<Error> step_refusal(XmlPart::Step step, const XmlPart& part, const std::string& at) {
  if (step == XmlPart::Step::too_deep) {
    return refusal("status.too_deep", at + "the XML nests deeper than kbix reads");
  }
  if (step == XmlPart::Step::dtd) {
    return refusal("status.workbook_damaged",
                   at + "the XML holds a DTD or an entity, which kbix refuses");
  }
  if (part.defect() != PartDefect::none) {
    return refusal(defect_code(part.defect()), at + defect_text(part.defect()));
  }
  return refusal("status.workbook_damaged", at + "the XML is damaged");
}

// The part name `target` (of a relationship of xl/workbook.xml) points at, when inside xl/.
std::optional<std::string> resolve_part(std::string_view target) {
  if (target.empty() || target.find('\\') != std::string_view::npos) return std::nullopt;
  std::vector<std::string_view> segments;
  std::string_view rest = target;
  if (rest.front() == '/') {
    rest.remove_prefix(1);
  } else {
    segments.push_back("xl");
  }
  while (!rest.empty()) {
    const auto slash = rest.find('/');
    const std::string_view segment = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
    if (segment == "..") {
      if (segments.empty()) return std::nullopt;
      segments.pop_back();
    } else if (!segment.empty() && segment != ".") {
      segments.push_back(segment);
    }
  }
  if (segments.size() < 2 || segments.front() != "xl") return std::nullopt;
  std::string part;
  for (const auto segment : segments) part += (part.empty() ? "" : "/") + std::string(segment);
  return part;
}

struct Relationship {
  std::string type;
  std::string target;
  bool external = false;
};

// `label`: how messages name the part (never a name taken from the file).
Result<std::string> required_part(const WorkbookContainer& container, const std::string& name,
                                  std::string_view label, const std::string& source) {
  auto part = container.read(name, label);
  if (!part) return fail(std::move(part).error());
  if (!*part) {
    return refusal("status.not_workbook", source + ": no " + std::string(label) +
                                              ", so not an .xlsx workbook kbix can read");
  }
  return std::move(**part);
}

// The r:id of the first <sheet> of xl/workbook.xml.
Result<std::string> first_sheet_id(std::string bytes, const std::string& source,
                                   const WorkbookLimits& limits) {
  const std::string at = source + ": xl/workbook.xml: ";
  XmlPart xml(std::move(bytes), limits.max_depth);
  for (;;) {
    const auto step = xml.read();
    if (step == XmlPart::Step::end) break;
    if (step != XmlPart::Step::node) return step_refusal(step, xml, at);
    if (xml.is_start() && xml.name() == "sheet") {
      auto id = xml.attribute_in("id", kRelationshipsTail);
      if (!id) return refusal("status.workbook_damaged", at + "the first sheet has no r:id");
      if (xml.defect() != PartDefect::none) return step_refusal(XmlPart::Step::damaged, xml, at);
      return std::move(*id);
    }
  }
  if (xml.defect() != PartDefect::none) return step_refusal(XmlPart::Step::damaged, xml, at);
  return refusal("status.not_workbook", at + "the workbook has no sheet");
}

Result<std::map<std::string, Relationship>> relationships(std::string bytes,
                                                          const std::string& source,
                                                          const WorkbookLimits& limits) {
  const std::string at = source + ": xl/_rels/workbook.xml.rels: ";
  XmlPart xml(std::move(bytes), limits.max_depth);
  std::map<std::string, Relationship> found;
  for (;;) {
    const auto step = xml.read();
    if (step == XmlPart::Step::end) break;
    if (step != XmlPart::Step::node) return step_refusal(step, xml, at);
    if (!xml.is_start() || xml.name() != "Relationship") continue;
    auto id = xml.attribute("Id");
    auto type = xml.attribute("Type");
    auto target = xml.attribute("Target");
    if (!id || !type || !target) {
      return refusal("status.workbook_damaged", at + "a relationship lacks Id, Type or Target");
    }
    const auto mode = xml.attribute("TargetMode");
    found[*id] = Relationship{*type, *target, mode && *mode == "External"};
  }
  if (xml.defect() != PartDefect::none) return step_refusal(XmlPart::Step::damaged, xml, at);
  return found;
}

struct SharedStrings {
  std::vector<std::string> strings;
  PartDefect defect = PartDefect::none;  // of the part, reported by a cell that uses the string
};

// Each <si>: its <t> text, rich-text runs concatenated, phonetic runs (<rPh>) left out.
Result<SharedStrings> shared_strings(std::string bytes, const std::string& source,
                                     const WorkbookLimits& limits) {
  const std::string at = source + ": the shared strings: ";
  XmlPart xml(std::move(bytes), limits.max_depth);
  SharedStrings shared;
  std::vector<std::string> stack;  // element names by depth
  for (;;) {
    const auto step = xml.read();
    if (step == XmlPart::Step::end) break;
    if (step != XmlPart::Step::node) {
      return step_refusal(step, xml,
                          at + "shared string " + std::to_string(shared.strings.size()) + ": ");
    }
    const auto depth = static_cast<std::size_t>(xml.depth());
    if (xml.is_start()) {
      stack.resize(depth);
      stack.emplace_back(xml.name());
      if (depth == 1 && xml.name() == "si") {
        if (shared.strings.size() == limits.max_shared_strings) {
          return refusal(
              "status.too_large",
              at + "more than " + std::to_string(limits.max_shared_strings) + " shared strings");
        }
        shared.strings.emplace_back();
      }
      if (xml.is_empty_element()) stack.resize(depth);
    } else if (xml.is_end()) {
      stack.resize(depth);
    } else if (xml.is_text() && depth >= 2 && stack.size() >= depth && stack[depth - 1] == "t" &&
               stack[1] == "si" && std::find(stack.begin(), stack.end(), "rPh") == stack.end() &&
               !shared.strings.empty()) {
      shared.strings.back().append(xml.value());
    }
  }
  shared.defect = xml.defect();
  return shared;
}

}  // namespace

namespace {

// The rows of the first worksheet as records; the cells' text as described in the header.
class SheetRecords final : public RecordSource {
 public:
  SheetRecords(std::string sheet, SharedStrings shared, std::string source,
               const WorkbookLimits& limits)
      : xml_(std::move(sheet), limits.max_depth),
        shared_(std::move(shared)),
        source_(std::move(source)) {}

  Result<bool> next(std::vector<std::string_view>& fields) override;
  std::uint64_t line() const override { return line_; }
  std::string where(std::uint64_t line, std::size_t column) const override {
    if (line == 0) return source_ + ": ";
    return source_ + ": row " + std::to_string(line) +
           (column == 0 ? std::string() : ", column " + column_letters(column)) + ": ";
  }
  bool fixed_width() const override { return false; }
  std::string_view empty_what() const override { return "the first sheet"; }

 private:
  // Where the reader is: the cell, the row, or the sheet.
  std::string here() const {
    if (row_ == 0) return source_ + ": the sheet: ";
    return where(row_, in_cell_ ? column_ : 0);
  }
  Status start_row();
  Status start_cell();
  Status end_cell();
  bool inside(std::string_view name) const {
    return std::find(stack_.begin(), stack_.end(), name) != stack_.end();
  }

  XmlPart xml_;
  SharedStrings shared_;
  std::string source_;
  std::vector<std::string> stack_;  // element names by depth
  std::uint64_t line_ = 0;          // the row of the last record
  std::uint64_t row_ = 0;           // the row being read (0: none yet)
  bool in_cell_ = false;
  std::size_t column_ = 0;           // the cell being read, or the last one of the row
  std::string type_;                 // its t attribute
  std::string value_text_;           // its <v>
  std::string inline_text_;          // its <is>
  std::vector<std::string> cells_;   // the row's values by column - 1
  std::vector<std::size_t> filled_;  // the columns (1-based) of cells_ that hold a value
  std::uint64_t slots_ = 0;
};

Status SheetRecords::start_row() {
  std::uint64_t number = row_ + 1;
  if (const auto r = xml_.attribute("r")) {
    const auto parsed = decimal(*r);
    if (!parsed || *parsed == 0) {
      return refusal("status.workbook_damaged", here() + "a row with a damaged row number");
    }
    if (*parsed <= row_) {
      return refusal("status.workbook_damaged", where(*parsed, 0) +
                                                    "a second occurrence of the "
                                                    "row, or rows out of order");
    }
    number = *parsed;
  }
  if (number > kMaxRowNumber) {
    return refusal("status.workbook_damaged",
                   source_ + ": the sheet: a row beyond Excel's last row (1,048,576)");
  }
  row_ = number;
  column_ = 0;
  for (const std::size_t column : filled_) cells_[column - 1].clear();
  filled_.clear();
  return ok();
}

Status SheetRecords::start_cell() {
  std::size_t column = column_ + 1;
  if (const auto r = xml_.attribute("r")) {
    // Letters then the row's number, as "C7".
    const auto digits = r->find_first_of("0123456789");
    const std::string_view letters = std::string_view(*r).substr(0, digits);
    std::size_t parsed = 0;
    bool good = !letters.empty() && letters.size() <= 3 && digits != std::string::npos;
    for (const char c : letters) {
      good = good && c >= 'A' && c <= 'Z';
      parsed = parsed * 26 + static_cast<std::size_t>(c - 'A' + 1);
    }
    const auto number = good ? decimal(std::string_view(*r).substr(digits)) : std::nullopt;
    if (!number) {
      return refusal("status.workbook_damaged", here() + "a cell with a damaged reference");
    }
    if (*number != row_) {
      return refusal("status.workbook_damaged",
                     here() + "a cell whose reference names row " + std::to_string(*number));
    }
    if (parsed > kMaxColumns) {
      return refusal("status.too_deep", where(row_, 0) + "a cell beyond column XFD (16,384)");
    }
    if (parsed <= column_) {
      return refusal(
          "status.workbook_damaged",
          where(row_, parsed) + "a second occurrence of the cell, or cells out of order");
    }
    column = parsed;
  }
  if (column > kMaxColumns) {
    return refusal("status.too_deep", where(row_, 0) + "more than 16,384 cells in the row");
  }
  in_cell_ = true;
  column_ = column;
  type_ = xml_.attribute("t").value_or("");
  value_text_.clear();
  inline_text_.clear();
  return ok();
}

Status SheetRecords::end_cell() {
  in_cell_ = false;
  const std::string at = where(row_, column_);
  std::string value;
  if (type_ == "s") {
    const auto index = value_text_.empty() ? std::nullopt : decimal(value_text_);
    if (!index || *index >= shared_.strings.size()) {
      return refusal("status.workbook_damaged", at + "a shared-string index out of range");
    }
    value = shared_.strings[static_cast<std::size_t>(*index)];
  } else if (type_ == "inlineStr") {
    value = std::move(inline_text_);
  } else if (type_ == "b") {
    if (value_text_ != "0" && value_text_ != "1" && !value_text_.empty()) {
      return refusal("status.workbook_damaged", at + "a boolean cell that is neither 0 nor 1");
    }
    value = value_text_.empty() ? "" : value_text_ == "1" ? "TRUE" : "FALSE";
  } else if (type_.empty() || type_ == "n" || type_ == "str" || type_ == "e" || type_ == "d") {
    value = std::move(value_text_);
  } else {
    return refusal("status.workbook_damaged", at + "a cell of an unknown type");
  }
  if (const auto defect = defect_in(value); defect != PartDefect::none) {
    return refusal(defect_code(defect), at + defect_text(defect));
  }
  if (characters(value) > kMaxCellCharacters) {
    return refusal("status.too_large", at + "more than 32,767 characters in the cell");
  }
  if (value.empty()) return ok();
  if (cells_.size() < column_) cells_.resize(column_);
  cells_[column_ - 1] = std::move(value);
  filled_.push_back(column_);
  return ok();
}

Result<bool> SheetRecords::next(std::vector<std::string_view>& fields) {
  for (;;) {
    const auto step = xml_.read();
    if (step == XmlPart::Step::end) break;
    if (step != XmlPart::Step::node) return step_refusal(step, xml_, here());
    const auto depth = static_cast<std::size_t>(xml_.depth());
    if (xml_.is_start()) {
      stack_.resize(depth);
      stack_.emplace_back(xml_.name());
      const bool empty = xml_.is_empty_element();
      const std::string_view parent = depth >= 1 ? std::string_view(stack_[depth - 1]) : "";
      if (xml_.name() == "row" && parent == "sheetData") {
        KBIX_TRY(start_row());
      } else if (xml_.name() == "c" && parent == "row") {
        KBIX_TRY(start_cell());
        if (empty) KBIX_TRY(end_cell());
      }
      if (empty) stack_.resize(depth);
      if (!(empty && xml_.name() == "row")) continue;
    } else if (xml_.is_text()) {
      if (!in_cell_ || depth < 1 || stack_.size() < depth) continue;
      const std::string_view parent = stack_[depth - 1];
      if (parent == "v" && depth >= 2 && stack_[depth - 2] == "c") {
        value_text_.append(xml_.value());
      } else if (parent == "t" && inside("is") && !inside("rPh")) {
        inline_text_.append(xml_.value());
      }
      continue;
    } else if (xml_.is_end()) {
      stack_.resize(depth);
      if (xml_.name() == "c" && in_cell_) KBIX_TRY(end_cell());
      if (xml_.name() != "row") continue;
    } else {
      continue;
    }
    // The end of a row: a record when it holds a value.
    if (filled_.empty()) continue;
    const std::size_t width = *std::max_element(filled_.begin(), filled_.end());
    slots_ += width;
    if (slots_ > kMaxCellSlots) {
      return refusal("status.too_large", where(row_, 0) + "more cells than kbix reads in a sheet");
    }
    fields.assign(width, std::string_view());
    for (const std::size_t column : filled_) fields[column - 1] = cells_[column - 1];
    line_ = row_;
    return true;
  }
  // Marks outside every cell (in a formula, a header, or a string no cell uses) refuse as well.
  for (const PartDefect defect : {xml_.defect(), shared_.defect}) {
    if (defect != PartDefect::none) {
      return refusal(defect_code(defect),
                     source_ + ": " + defect_text(defect) + " outside the cells of the sheet");
    }
  }
  return false;
}

}  // namespace

Result<std::unique_ptr<RecordSource>> open_status_workbook(std::string_view bytes,
                                                           const std::string& source,
                                                           const StatusReturnOptions& options) {
  const WorkbookLimits& limits = options.workbook;
  auto container = WorkbookContainer::open(bytes, source, limits);
  if (!container) return fail(std::move(container).error());
  auto workbook = required_part(*container, "xl/workbook.xml", "xl/workbook.xml", source);
  if (!workbook) return fail(std::move(workbook).error());
  auto rels =
      required_part(*container, "xl/_rels/workbook.xml.rels", "xl/_rels/workbook.xml.rels", source);
  if (!rels) return fail(std::move(rels).error());
  auto id = first_sheet_id(std::move(*workbook), source, limits);
  if (!id) return fail(std::move(id).error());
  auto links = relationships(std::move(*rels), source, limits);
  if (!links) return fail(std::move(links).error());

  const std::string at = source + ": xl/_rels/workbook.xml.rels: ";
  const auto sheet_link = links->find(*id);
  if (sheet_link == links->end()) {
    return refusal("status.workbook_damaged", at + "no relationship for the first sheet");
  }
  if (!sheet_link->second.type.ends_with("/worksheet")) {
    return refusal("status.not_workbook", source + ": the first sheet is not a worksheet");
  }
  const auto sheet_name = resolve_part(sheet_link->second.target);
  if (sheet_link->second.external || !sheet_name) {
    return refusal("status.workbook_damaged", at + "the first sheet's part is outside xl/");
  }
  auto sheet = required_part(*container, *sheet_name, "part of the first sheet", source);
  if (!sheet) return fail(std::move(sheet).error());

  // The shared-string table: through its relationship, else where Excel puts it.
  std::optional<std::string> strings_name = "xl/sharedStrings.xml";
  for (const auto& [unused, link] : *links) {
    if (link.type.ends_with("/sharedStrings")) strings_name = resolve_part(link.target);
  }
  SharedStrings shared;
  if (strings_name) {
    auto strings = container->read(*strings_name, "the shared strings");
    if (!strings) return fail(std::move(strings).error());
    if (*strings) {
      auto parsed = shared_strings(std::move(**strings), source, limits);
      if (!parsed) return fail(std::move(parsed).error());
      shared = std::move(*parsed);
    }
  }
  return std::unique_ptr<RecordSource>(
      std::make_unique<SheetRecords>(std::move(*sheet), std::move(shared), source, limits));
}

Unexpected<Error> compound_file_refusal(std::string_view bytes, const std::string& source) {
  // The stream's name as the compound file's directory holds it (UTF-16LE).
  static const std::string kEncryptionInfo = [] {
    std::string name;
    for (const char c : std::string_view("EncryptionInfo")) name += {c, '\0'};
    return name;
  }();
  if (bytes.find(kEncryptionInfo) != std::string_view::npos) {
    return refusal("status.encrypted_workbook",
                   source +
                       ": a password-protected workbook; save it without a password (the "
                       "list's password protects only the list sent to the municipality)");
  }
  return refusal("status.not_workbook",
                 source +
                     ": an Office 97-2003 file (a compound file), not an .xlsx workbook; "
                     "save it as an Excel workbook (.xlsx) or as CSV UTF-8");
}

}  // namespace kbix::municipal::internal
