#include "internal/protocol_export.hpp"

#include <algorithm>
#include <set>

namespace kbix::detail {

namespace {

bool contains(const std::vector<std::string>& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

// A list of extract columns: non-empty (unless `may_be_empty`), no repeats, each in the extract.
// `what` names the list in messages ("field", "legal cap column").
void check_extract_list(TableReader& reader, std::string_view key,
                        const std::vector<std::string>& list, const Protocol& protocol,
                        std::string_view what, bool may_be_empty) {
  if (list.empty() && !may_be_empty) {
    reader.reject(key, "must name at least one column");
    return;
  }
  std::set<std::string> seen;
  for (const auto& column : list) {
    if (!contains(protocol.extract_columns, column)) {
      reader.reject(key,
                    std::string(what) + " '" + column +
                        "' is not a column of the extract ([datasets] extract)",
                    "config.unknown_column");
      return;
    }
    if (!seen.insert(column).second) {
      reader.reject(key, std::string(what) + " '" + column + "' appears twice");
      return;
    }
  }
}

// One filter column (scope or retention): an extract column other than the key.
void check_filter_column(TableReader& reader, std::string_view key, const std::string& column,
                         const Protocol& protocol) {
  if (column.empty()) {
    reader.reject(key, "must name an extract column");
  } else if (!contains(protocol.extract_columns, column)) {
    reader.reject(key, "'" + column + "' is not a column of the extract ([datasets] extract)",
                  "config.unknown_column");
  } else if (column == protocol.key_column) {
    reader.reject(key, "'" + column + "' is the key; a filter reads another column");
  }
}

void read_scope(TableReader& reader, const Protocol& protocol, ExportScope& scope) {
  const auto kind = reader.text("kind", true).value_or("");
  if (kind == "residence") {
    scope.kind = ExportScope::Kind::residence;
  } else if (kind == "participation") {
    scope.kind = ExportScope::Kind::participation;
  } else if (kind == "consent") {
    scope.kind = ExportScope::Kind::consent;
  } else if (!kind.empty()) {
    reader.reject("kind",
                  "must be \"residence\" (NIS code of the residence), \"participation\" (in the "
                  "participation and network track) or \"consent\" (recorded consent)");
  }
  scope.column = reader.text("column", true).value_or("");
  check_filter_column(reader, "column", scope.column, protocol);
  scope.residence_column = reader.text("residence_column", false).value_or("");
  if (scope.kind == ExportScope::Kind::residence && !scope.residence_column.empty()) {
    reader.reject("residence_column",
                  "belongs to a participation or consent scope; a residence scope reads 'column'");
  } else if (!scope.residence_column.empty()) {
    check_filter_column(reader, "residence_column", scope.residence_column, protocol);
    if (scope.residence_column == scope.column) {
      reader.reject("residence_column", "must differ from 'column'");
    }
  }
}

void read_retention(TableReader& reader, const Protocol& protocol, PersonRetention& retention) {
  retention.date_column = reader.text("date_column", true).value_or("");
  retention.months = static_cast<int>(reader.integer("months", true, 1, 120).value_or(6));
  check_filter_column(reader, "date_column", retention.date_column, protocol);
  const auto domain = protocol.domains.find(retention.date_column);
  if (!retention.date_column.empty() &&
      (domain == protocol.domains.end() || domain->second.kind != ColumnDomain::Kind::date)) {
    reader.reject("date_column", "'" + retention.date_column +
                                     "' needs a date domain in [domains] (kind = \"date\"): the "
                                     "retention compares its dates");
  }
}

void read_trigger(TableReader& reader, ExportRules& rules) {
  const auto trigger = reader.text("trigger", true).value_or("");
  if (trigger == "on_request") {
    rules.trigger = ExportTrigger::on_request;
  } else if (trigger == "schedule") {
    rules.trigger = ExportTrigger::schedule;
  } else if (!trigger.empty()) {
    reader.reject("trigger",
                  "must be \"on_request\" (a list when the municipality asks) or \"schedule\"");
  }
  rules.request_reference_required =
      reader.boolean("request_reference_required", false).value_or(false);
  if (rules.request_reference_required && rules.trigger != ExportTrigger::on_request) {
    reader.reject("request_reference_required", "needs trigger = \"on_request\"");
  }
}

void read_profiles(TableReader& reader, ExportRules& rules) {
  rules.profiles = reader.text_list("profiles", true).value_or(std::vector<std::string>{});
  static const std::vector<std::string> known = {"xlsx-agile", "zip-aes256", "cms"};
  std::set<std::string> seen;
  for (const auto& profile : rules.profiles) {
    if (!contains(known, profile)) {
      reader.reject("profiles", "'" + profile +
                                    "' is not a file profile; use \"xlsx-agile\", \"zip-aes256\" "
                                    "or \"cms\" (never ZipCrypto or RC4)");
      return;
    }
    if (!seen.insert(profile).second) {
      reader.reject("profiles", "'" + profile + "' appears twice");
      return;
    }
  }
  if (rules.profiles.empty()) reader.reject("profiles", "must name at least one file profile");
}

void read_status_return(TableReader& reader, const Protocol& protocol, ExportRules& rules) {
  rules.status_return = reader.boolean("status_return", false).value_or(false);
  auto codes = reader.text_list("status_codes", rules.status_return);
  auto column = reader.text("reference_column", rules.status_return);
  if (!rules.status_return) {
    if (codes) reader.reject("status_codes", "belongs to status_return = true");
    if (column) reader.reject("reference_column", "belongs to status_return = true");
    return;
  }
  rules.status_codes = codes.value_or(std::vector<std::string>{});
  rules.reference_column = column.value_or("");
  std::set<std::string> seen;
  for (const auto& code : rules.status_codes) {
    if (code.empty() || !seen.insert(code).second) {
      reader.reject("status_codes", "codes must be non-empty and appear once each");
      break;
    }
  }
  if (rules.status_codes.empty() && codes) {
    reader.reject("status_codes", "must list the status codes (a closed list)");
  }
  if (column && !is_column_name(rules.reference_column)) {
    reader.reject("reference_column", "must be a lower-case name of letters, digits, _");
  } else if (column && contains(protocol.extract_columns, rules.reference_column)) {
    reader.reject("reference_column", "'" + rules.reference_column +
                                          "' is an extract column; the reference is a column "
                                          "of its own, added by kbix");
  }
}

void read_closed_lists(TableReader& reader, const Protocol& protocol, ExportRules& rules) {
  rules.closed_lists = reader.text_list("closed_lists", false).value_or(std::vector<std::string>{});
  check_extract_list(reader, "closed_lists", rules.closed_lists, protocol, "closed-list column",
                     true);
  for (const auto& column : rules.closed_lists) {
    const auto domain = protocol.domains.find(column);
    if (!contains(rules.fields, column)) {
      reader.reject("closed_lists", "'" + column + "' is not one of the fields");
    } else if (domain == protocol.domains.end() ||
               domain->second.kind != ColumnDomain::Kind::codes) {
      reader.reject("closed_lists", "'" + column +
                                        "' needs a codes domain in [domains] (kind = \"codes\"): "
                                        "it is the closed list");
    } else {
      continue;
    }
    return;
  }
}

}  // namespace

Status read_export_section(TableReader& top, const std::filesystem::path& file,
                           Protocol& protocol) {
  const toml::table* table = top.table("export", true);
  if (table == nullptr) return ok();
  TableReader reader(*table, file, "[export]");
  ExportRules rules;
  rules.legal_basis = reader.text("legal_basis", true).value_or("");
  if (rules.legal_basis.empty() && table->contains("legal_basis")) {
    reader.reject("legal_basis", "must cite the article the export rests on");
  }
  rules.fields = reader.text_list("fields", true).value_or(std::vector<std::string>{});
  check_extract_list(reader, "fields", rules.fields, protocol, "field", false);
  rules.legal_cap = reader.text_list("legal_cap", false).value_or(std::vector<std::string>{});
  check_extract_list(reader, "legal_cap", rules.legal_cap, protocol, "legal cap column", true);
  if (!rules.legal_cap.empty()) {
    for (const auto& field : rules.fields) {
      if (!contains(rules.legal_cap, field)) {
        reader.reject("fields",
                      "field '" + field + "' exceeds the legal cap (" + rules.legal_basis +
                          " allows only the legal_cap columns); remove it",
                      "config.exceeds_legal_cap");
        break;
      }
    }
  }
  if (const toml::table* scope = reader.table("scope", true)) {
    TableReader scope_reader(*scope, file, "[export.scope]");
    read_scope(scope_reader, protocol, rules.scope);
    reader.absorb(scope_reader.finish());
  }
  if (const toml::table* retention = reader.table("person_retention", false)) {
    TableReader retention_reader(*retention, file, "[export.person_retention]");
    read_retention(retention_reader, protocol, rules.person_retention.emplace());
    reader.absorb(retention_reader.finish());
  }
  read_trigger(reader, rules);
  read_profiles(reader, rules);
  read_status_return(reader, protocol, rules);
  read_closed_lists(reader, protocol, rules);
  KBIX_TRY(reader.finish());
  protocol.export_rules = std::move(rules);
  return ok();
}

}  // namespace kbix::detail
