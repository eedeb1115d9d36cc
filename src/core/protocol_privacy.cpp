#include "internal/protocol_privacy.hpp"

#include <algorithm>
#include <set>

namespace kbix::detail {

namespace {

bool contains(const std::vector<std::string>& list, const std::string& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

Status read_domain(const toml::table& table, const std::filesystem::path& file,
                   const std::string& column, ColumnDomain& domain) {
  TableReader reader(table, file, "[domains] " + column);
  const auto kind = reader.text("kind", true).value_or("");
  if (kind == "date") {
    domain.kind = ColumnDomain::Kind::date;
    domain.earliest = reader.date("from", true).value_or(std::chrono::sys_days{});
    domain.latest = reader.date("until", false);
    if (domain.latest && *domain.latest < domain.earliest) {
      reader.reject("until", "must not be before 'from'");
    }
  } else if (kind == "codes") {
    domain.kind = ColumnDomain::Kind::codes;
    domain.codes = reader.text_list("codes", true).value_or(std::vector<std::string>{});
    domain.separator = reader.text("separator", false).value_or("");
    if (domain.codes.empty()) reader.reject("codes", "must list at least one code");
  } else if (!kind.empty()) {
    reader.reject("kind", "must be \"date\" or \"codes\"");
  }
  return reader.finish();
}

Status read_domains(TableReader& top, const std::filesystem::path& file, Protocol& protocol) {
  const toml::table* domains = top.table("domains", false);
  if (domains == nullptr) return ok();
  TableReader reader(*domains, file, "[domains]");
  for (const auto& [key, node] : *domains) {
    const std::string column(key.str());
    const toml::table* table = reader.table(column, true);
    if (table == nullptr) continue;
    if (column == protocol.key_column || (!contains(protocol.extract_columns, column) &&
                                          !contains(protocol.return_columns, column))) {
      reader.reject(column, "'" + column + "' is not a profile column of the extract or return");
      continue;
    }
    ColumnDomain domain;
    KBIX_TRY(read_domain(*table, file, column, domain));
    protocol.domains.emplace(column, std::move(domain));
  }
  return reader.finish();
}

Status read_disclosure(TableReader& top, const std::filesystem::path& file, Protocol& protocol) {
  const toml::table* table = top.table("disclosure", false);
  if (table == nullptr) return ok();
  TableReader reader(*table, file, "[disclosure]");
  auto& policy = protocol.disclosure;
  policy.quasi_identifiers =
      reader.text_list("quasi_identifiers", true).value_or(std::vector<std::string>{});
  policy.k = static_cast<int>(reader.integer("k", false, 2, 1000).value_or(5));
  const auto action = reader.text("action", false).value_or("report");
  if (action == "report") {
    policy.action = DisclosureAction::report;
  } else if (action == "suppress") {
    policy.action = DisclosureAction::suppress;
  } else if (action == "block") {
    policy.action = DisclosureAction::block;
  } else {
    reader.reject("action", "must be \"report\", \"suppress\" or \"block\"");
  }
  const auto output = protocol.output_columns();
  std::set<std::string> seen;
  for (const auto& column : policy.quasi_identifiers) {
    if (!contains(output, column)) {
      reader.reject("quasi_identifiers", "'" + column + "' is not a column of the output");
      break;
    }
    if (!seen.insert(column).second) {
      reader.reject("quasi_identifiers", "'" + column + "' appears twice");
      break;
    }
  }
  if (policy.quasi_identifiers.empty()) {
    reader.reject("quasi_identifiers", "must name at least one output column");
  }
  if (policy.quasi_identifiers.size() > 16) {
    reader.reject("quasi_identifiers", "may name at most 16 columns");
  }
  return reader.finish();
}

}  // namespace

Status read_privacy_sections(TableReader& top, const std::filesystem::path& file,
                             Protocol& protocol) {
  KBIX_TRY(read_domains(top, file, protocol));
  return read_disclosure(top, file, protocol);
}

}  // namespace kbix::detail

namespace kbix {

namespace {

// Whether every part of `value` (split on the domain's separator, when it has one) is in the list.
template <class InList>
bool every_part(const ColumnDomain& domain, std::string_view value, const InList& in_list) {
  if (domain.separator.empty()) return in_list(value);
  std::size_t start = 0;
  for (;;) {
    const std::size_t end = value.find(domain.separator, start);
    if (!in_list(value.substr(start, end == std::string_view::npos ? end : end - start))) {
      return false;
    }
    if (end == std::string_view::npos) return true;
    start = end + domain.separator.size();
  }
}

constexpr std::size_t kWordBytes = sizeof(std::uint64_t);

std::uint64_t word_of(std::string_view text) {  // text.size() <= kWordBytes
  std::uint64_t word = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    word |= std::uint64_t{static_cast<unsigned char>(text[i])} << (8 * i);
  }
  return word;
}

}  // namespace

bool codes_allow(const ColumnDomain& domain, std::string_view value) {
  return every_part(domain, value, [&](std::string_view code) {
    return std::find(domain.codes.begin(), domain.codes.end(), code) != domain.codes.end();
  });
}

CodeList::CodeList(const ColumnDomain& domain) : domain_(domain) {
  short_codes_ = std::all_of(domain.codes.begin(), domain.codes.end(),
                             [](const std::string& code) { return code.size() <= kWordBytes; });
  if (!short_codes_) return;  // allows() asks codes_allow
  for (const auto& code : domain.codes) {
    words_.push_back(word_of(code));
    sizes_.push_back(code.size());
  }
}

bool CodeList::contains(std::string_view part) const {
  if (part.size() > kWordBytes) return false;  // longer than every code
  const std::uint64_t word = word_of(part);
  for (std::size_t i = 0; i < words_.size(); ++i) {
    if (words_[i] == word && sizes_[i] == part.size()) return true;
  }
  return false;
}

bool CodeList::allows(std::string_view value) const {
  if (!short_codes_) return codes_allow(domain_, value);
  return every_part(domain_, value, [&](std::string_view part) { return contains(part); });
}

}  // namespace kbix
