// One XML part of a status workbook, read with libxml2's streaming reader (xmlReaderForMemory):
// no network (XML_PARSE_NONET), entities never substituted, a DOCTYPE or an entity declaration
// refused before parsing and any DTD or entity-reference node refused while parsing, nesting
// bounded, libxml2's own limits kept (no XML_PARSE_HUGE), its messages silenced (they could
// quote the file). Bytes that are not UTF-8, or a control character, are first replaced by a
// mark of their own (a noncharacter, never a name character) so that the caller can say which
// cell held them; a part that had one says so (defect()).
// Does NOT guarantee: validation against the SpreadsheetML schema (the caller reads what it needs).
#pragma once

#include <libxml/xmlreader.h>

#include <optional>
#include <string>
#include <string_view>

namespace kbix::municipal::internal {

// The marks that replace a byte that is not UTF-8 (U+FDD0) and a control character (U+FDD1).
inline constexpr std::string_view kInvalidUtf8Mark = "\xEF\xB7\x90";
inline constexpr std::string_view kControlMark = "\xEF\xB7\x91";

enum class PartDefect { none, invalid_utf8, control_character };

// The defect `text` shows by its marks (none when it holds none).
PartDefect defect_in(std::string_view text);

class XmlPart {
 public:
  enum class Step { node, end, damaged, dtd, too_deep };

  // Marks the defects of `bytes` (kept by this object) and starts reading it.
  XmlPart(std::string bytes, std::uint64_t max_depth);
  XmlPart(const XmlPart&) = delete;
  XmlPart& operator=(const XmlPart&) = delete;
  ~XmlPart();

  PartDefect defect() const { return defect_; }
  Step read();
  bool is_start() const;  // an element's start tag (or an empty element)
  bool is_end() const;    // an element's end tag
  bool is_text() const;   // text, CDATA or white space
  bool is_empty_element() const;
  int depth() const;
  std::string_view name() const;   // local name
  std::string_view value() const;  // of a text node
  std::optional<std::string> attribute(const char* name) const;
  // The attribute with local name `name` in a namespace whose URI ends with `namespace_tail`.
  std::optional<std::string> attribute_in(std::string_view name,
                                          std::string_view namespace_tail) const;

 private:
  std::string bytes_;
  std::uint64_t max_depth_;
  PartDefect defect_ = PartDefect::none;
  bool dtd_ = false;
  xmlTextReaderPtr reader_ = nullptr;
};

}  // namespace kbix::municipal::internal
