#include "kbix/core/protocol.hpp"

#include <algorithm>
#include <cstdio>
#include <set>

#include "internal/protocol_export.hpp"
#include "internal/protocol_privacy.hpp"
#include "kbix/core/toml_reader.hpp"

namespace kbix {

const char* to_string(PseudonymMode mode) {
  return mode == PseudonymMode::hmac_sha256 ? "hmac-sha256" : "none";
}

const char* to_string(DisclosureAction action) {
  switch (action) {
    case DisclosureAction::suppress:
      return "suppress";
    case DisclosureAction::block:
      return "block";
    default:
      return "report";
  }
}

std::string format_date(std::chrono::sys_days day) {
  const std::chrono::year_month_day ymd{day};
  char text[16];
  std::snprintf(text, sizeof text, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return text;
}

std::optional<std::chrono::year_month_day> parse_calendar_date(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  int parts[3] = {0, 0, 0};
  const std::size_t starts[3] = {0, 5, 8};
  const std::size_t lengths[3] = {4, 2, 2};
  for (int i = 0; i < 3; ++i) {
    for (std::size_t j = 0; j < lengths[i]; ++j) {
      const char c = text[starts[i] + j];
      if (c < '0' || c > '9') return std::nullopt;
      parts[i] = parts[i] * 10 + (c - '0');
    }
  }
  const std::chrono::year_month_day day{std::chrono::year{parts[0]},
                                        std::chrono::month{static_cast<unsigned>(parts[1])},
                                        std::chrono::day{static_cast<unsigned>(parts[2])}};
  if (!day.ok()) return std::nullopt;
  return day;
}

std::optional<std::chrono::sys_days> parse_date(std::string_view text) {
  const auto day = parse_calendar_date(text);
  if (!day) return std::nullopt;
  return std::chrono::sys_days{*day};
}

const char* to_string(ExportTrigger trigger) {
  return trigger == ExportTrigger::on_request ? "on_request" : "schedule";
}

const char* to_string(ExportScope::Kind kind) {
  switch (kind) {
    case ExportScope::Kind::participation:
      return "participation";
    case ExportScope::Kind::consent:
      return "consent";
    default:
      return "residence";
  }
}

std::vector<std::string> Protocol::output_columns() const {
  std::vector<std::string> columns;
  if (pseudonym == PseudonymMode::hmac_sha256) columns.emplace_back("pseudo_id");
  for (const auto* list : {&extract_columns, &return_columns}) {
    for (const auto& column : *list) {
      if (column != key_column) columns.push_back(column);
    }
  }
  return columns;
}

namespace {

// A column list must be non-empty, hold the key, and have no duplicates or odd names.
void check_columns(detail::TableReader& reader, std::string_view key,
                   const std::vector<std::string>& columns, const std::string& key_column) {
  std::set<std::string> seen;
  for (const auto& column : columns) {
    if (!detail::is_column_name(column)) {
      reader.reject(key, "column '" + column + "' is not a lower-case name of letters, digits, _");
      return;
    }
    if (!seen.insert(column).second) {
      reader.reject(key, "column '" + column + "' appears twice");
      return;
    }
  }
  if (!seen.contains(key_column))
    reader.reject(key, "must hold the key column '" + key_column + "'");
}

// valid_from, then either valid_until or open_end = true with a review_date (not both).
void read_validity(detail::TableReader& top, Protocol& protocol) {
  protocol.valid_from = top.date("valid_from", true).value_or(std::chrono::sys_days{});
  const bool open_end = top.boolean("open_end", false).value_or(false);
  protocol.valid_until = top.date("valid_until", !open_end);
  protocol.review_date = top.date("review_date", open_end);
  if (open_end && protocol.valid_until) {
    top.reject("valid_until", "and open_end = true exclude each other; keep one");
  } else if (!open_end && protocol.review_date) {
    top.reject("review_date", "belongs to an open-ended protocol (open_end = true)");
  }
  if (protocol.valid_until && *protocol.valid_until <= protocol.valid_from) {
    top.reject("valid_until", "must be after valid_from");
  }
  if (protocol.review_date && *protocol.review_date <= protocol.valid_from) {
    top.reject("review_date", "must be after valid_from");
  }
}

// A round trip's [datasets]: what leaves (exactly the key) and what comes back.
void read_roundtrip_datasets(detail::TableReader& sets, Protocol& protocol) {
  protocol.outbound_columns = sets.text_list("outbound", true).value_or(std::vector<std::string>{});
  protocol.return_columns = sets.text_list("return", true).value_or(std::vector<std::string>{});
  check_columns(sets, "return", protocol.return_columns, protocol.key_column);
  // Invariant 1: only the key ever leaves.
  if (protocol.outbound_columns != std::vector<std::string>{protocol.key_column}) {
    sets.reject("outbound", "must be exactly [\"" + protocol.key_column +
                                "\"]: only the key column may leave AgII");
  }
  for (const auto& column : protocol.return_columns) {
    if (column != protocol.key_column &&
        std::find(protocol.extract_columns.begin(), protocol.extract_columns.end(), column) !=
            protocol.extract_columns.end()) {
      sets.reject("return", "column '" + column + "' is also in extract; names must differ");
      break;
    }
  }
}

// An export's [datasets] holds the extract only: what leaves is [export] fields, nothing returns
// but the status (status_return).
void read_export_datasets(detail::TableReader& sets, const toml::table& datasets) {
  for (const char* key : {"outbound", "return"}) {
    if (datasets.contains(key)) {
      sets.reject(key, "belongs to a round trip; an export's columns are [export] fields");
    }
  }
}

}  // namespace

bool protocol_ended(const Protocol& protocol, std::chrono::sys_days today) {
  return protocol.valid_until && today >= *protocol.valid_until;
}

const char* to_string(ProtocolKind kind) {
  return kind == ProtocolKind::roundtrip ? "roundtrip" : "export";
}

Result<Protocol> load_protocol(const std::filesystem::path& file) {
  auto parsed = detail::parse_toml_file(file);
  if (!parsed) return fail(std::move(parsed).error());
  const toml::table& root = *parsed;

  Protocol protocol;
  detail::TableReader top(root, file, "the protocol");
  protocol.id = top.text("id", true).value_or("");
  protocol.title = top.text("title", true).value_or("");
  protocol.partner = top.text("partner", true).value_or("");
  if (!protocol.id.empty() && !detail::is_protocol_id(protocol.id)) {
    top.reject("id", "must be lower-case letters, digits and '-' (it is part of file names)");
  }
  const auto kind = top.text("kind", false).value_or("roundtrip");
  if (kind == "export") {
    protocol.kind = ProtocolKind::export_;
  } else if (kind != "roundtrip") {
    top.reject("kind", "must be \"roundtrip\" (send, return, merge) or \"export\" (one-way)");
  }
  read_validity(top, protocol);
  protocol.cadence_months =
      static_cast<int>(top.integer("cadence_months", true, 1, 120).value_or(6));
  protocol.retention_years =
      static_cast<int>(top.integer("retention_years", true, 1, 30).value_or(5));
  const bool exports = protocol.kind == ProtocolKind::export_;
  const auto mode = top.text("pseudonym", !exports).value_or("none");
  if (mode == "none") {
    protocol.pseudonym = PseudonymMode::none;
  } else if (mode == "hmac-sha256" && !exports) {
    protocol.pseudonym = PseudonymMode::hmac_sha256;
  } else {
    top.reject("pseudonym", exports ? "must be \"none\": an export list is not pseudonymised"
                                    : "must be \"none\" or \"hmac-sha256\"");
  }

  // The sections of the other kind, before the sections themselves: the more useful message.
  if (exports && root.contains("disclosure")) {
    return fail("config.value", top.position_of("disclosure") +
                                    ": [disclosure] belongs to a round trip; an export list is "
                                    "identifying by design");
  }
  if (!exports && root.contains("export")) {
    return fail("config.value",
                top.position_of("export") + ": [export] belongs to kind = \"export\"");
  }

  if (const toml::table* datasets = top.table("datasets", true)) {
    detail::TableReader sets(*datasets, file, "[datasets]");
    protocol.key_column = sets.text("key", true).value_or("insz");
    protocol.extract_columns = sets.text_list("extract", true).value_or(std::vector<std::string>{});
    check_columns(sets, "extract", protocol.extract_columns, protocol.key_column);
    if (exports) {
      read_export_datasets(sets, *datasets);
    } else {
      read_roundtrip_datasets(sets, protocol);
    }
    KBIX_TRY(sets.finish());
  }
  KBIX_TRY(detail::read_privacy_sections(top, file, protocol));
  if (exports) KBIX_TRY(detail::read_export_section(top, file, protocol));
  KBIX_TRY(top.finish());
  return protocol;
}

}  // namespace kbix
