#include "internal/workbook_xml.hpp"

#include <climits>
#include <mutex>

#include "kbix/domain/csv.hpp"

namespace kbix::municipal::internal {
namespace {

bool is_control(unsigned char byte) {
  return byte < 0x20 && byte != '\t' && byte != '\n' && byte != '\r';
}

// The length of the UTF-8 sequence that starts at `at` when it is valid, else 0.
std::size_t valid_sequence(std::string_view text, std::size_t at) {
  const auto lead = static_cast<unsigned char>(text[at]);
  const std::size_t length = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
  if (at + length > text.size()) return 0;
  return is_valid_utf8(text.substr(at, length)) ? length : 0;
}

// Replaces each byte that is not part of valid UTF-8, and each control character, by its mark.
PartDefect mark_defects(std::string& bytes) {
  bool clean = is_valid_utf8(bytes);
  for (std::size_t i = 0; clean && i < bytes.size(); ++i) {
    if (is_control(static_cast<unsigned char>(bytes[i]))) clean = false;
  }
  if (clean) return PartDefect::none;
  PartDefect first = PartDefect::none;
  std::string marked;
  marked.reserve(bytes.size() + 16);
  for (std::size_t i = 0; i < bytes.size();) {
    const std::size_t length = valid_sequence(bytes, i);
    const bool control = length == 1 && is_control(static_cast<unsigned char>(bytes[i]));
    if (length == 0 || control) {
      if (first == PartDefect::none) {
        first = control ? PartDefect::control_character : PartDefect::invalid_utf8;
      }
      marked.append(control ? kControlMark : kInvalidUtf8Mark);
      ++i;
      continue;
    }
    marked.append(bytes, i, length);
    i += length;
  }
  bytes = std::move(marked);
  return first;
}

void silent(void*, xmlErrorPtr) {}

}  // namespace

PartDefect defect_in(std::string_view text) {
  if (text.find(kInvalidUtf8Mark) != std::string_view::npos) return PartDefect::invalid_utf8;
  if (text.find(kControlMark) != std::string_view::npos) return PartDefect::control_character;
  return PartDefect::none;
}

XmlPart::XmlPart(std::string bytes, std::uint64_t max_depth)
    : bytes_(std::move(bytes)), max_depth_(max_depth) {
  static std::once_flag initialised;
  std::call_once(initialised, [] { xmlInitParser(); });
  defect_ = mark_defects(bytes_);
  // A DTD is never needed in SpreadsheetML; refusing its text up front keeps libxml2 from even
  // parsing an internal subset (billion laughs, external entities).
  dtd_ =
      bytes_.find("<!DOCTYPE") != std::string::npos || bytes_.find("<!ENTITY") != std::string::npos;
  if (dtd_ || bytes_.size() > static_cast<std::size_t>(INT_MAX)) return;
  reader_ = xmlReaderForMemory(bytes_.data(), static_cast<int>(bytes_.size()), nullptr, "UTF-8",
                               XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
  if (reader_ != nullptr) xmlTextReaderSetStructuredErrorHandler(reader_, silent, nullptr);
}

XmlPart::~XmlPart() {
  if (reader_ != nullptr) xmlFreeTextReader(reader_);
}

XmlPart::Step XmlPart::read() {
  if (dtd_) return Step::dtd;
  if (reader_ == nullptr) return Step::damaged;
  const int got = xmlTextReaderRead(reader_);
  if (got == 0) return Step::end;
  if (got < 0) return Step::damaged;
  const int type = xmlTextReaderNodeType(reader_);
  if (type == XML_READER_TYPE_DOCUMENT_TYPE || type == XML_READER_TYPE_ENTITY_REFERENCE ||
      type == XML_READER_TYPE_ENTITY || type == XML_READER_TYPE_NOTATION) {
    return Step::dtd;
  }
  if (static_cast<std::uint64_t>(xmlTextReaderDepth(reader_)) > max_depth_) return Step::too_deep;
  return Step::node;
}

bool XmlPart::is_start() const {
  return xmlTextReaderNodeType(reader_) == XML_READER_TYPE_ELEMENT;
}
bool XmlPart::is_end() const {
  return xmlTextReaderNodeType(reader_) == XML_READER_TYPE_END_ELEMENT;
}
bool XmlPart::is_text() const {
  const int type = xmlTextReaderNodeType(reader_);
  return type == XML_READER_TYPE_TEXT || type == XML_READER_TYPE_CDATA ||
         type == XML_READER_TYPE_WHITESPACE || type == XML_READER_TYPE_SIGNIFICANT_WHITESPACE;
}
bool XmlPart::is_empty_element() const {
  return xmlTextReaderIsEmptyElement(reader_) == 1;
}
int XmlPart::depth() const {
  return xmlTextReaderDepth(reader_);
}

namespace {
std::string_view view(const xmlChar* text) {
  return text == nullptr ? std::string_view()
                         : std::string_view(reinterpret_cast<const char*>(text));
}
}  // namespace

std::string_view XmlPart::name() const {
  return view(xmlTextReaderConstLocalName(reader_));
}
std::string_view XmlPart::value() const {
  return view(xmlTextReaderConstValue(reader_));
}

std::optional<std::string> XmlPart::attribute(const char* name) const {
  xmlChar* value = xmlTextReaderGetAttribute(reader_, reinterpret_cast<const xmlChar*>(name));
  if (value == nullptr) return std::nullopt;
  std::string copy(view(value));
  xmlFree(value);
  return copy;
}

std::optional<std::string> XmlPart::attribute_in(std::string_view name,
                                                 std::string_view namespace_tail) const {
  std::optional<std::string> found;
  for (int more = xmlTextReaderMoveToFirstAttribute(reader_); more == 1 && !found;
       more = xmlTextReaderMoveToNextAttribute(reader_)) {
    if (view(xmlTextReaderConstLocalName(reader_)) == name &&
        view(xmlTextReaderConstNamespaceUri(reader_)).ends_with(namespace_tail)) {
      found = std::string(view(xmlTextReaderConstValue(reader_)));
    }
  }
  xmlTextReaderMoveToElement(reader_);
  return found;
}

}  // namespace kbix::municipal::internal
