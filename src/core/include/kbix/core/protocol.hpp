// Protocol: one signed data-exchange protocol, as data (config/protocols/*.toml).
//
// Field lists, the validity window, cadence and retention come from the protocol file, never from
// code, so a new protocol version is a config change. Loading checks the file strictly (unknown
// keys, wrong types) and reports FILE:LINE:COL.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kbix/core/result.hpp"

namespace kbix {

enum class PseudonymMode { none, hmac_sha256 };

// What a column is expected to hold (protocol [domains], for the article 7 quality report).
// Empty always passes: it means unknown (article 7). A value outside its domain is counted,
// never rejected: data is not cleaned at the source.
struct ColumnDomain {
  enum class Kind { date, codes };
  Kind kind = Kind::codes;
  std::chrono::sys_days earliest{};             // date: the first plausible day
  std::optional<std::chrono::sys_days> latest;  // date: the last; none = the day of the report
  std::vector<std::string> codes;               // codes: the closed list
  std::string separator;                        // codes: a cell may hold several, split on this
};

// The disclosure-risk check on the pseudonymised output (protocol [disclosure]).
enum class DisclosureAction { report, suppress, block };
struct DisclosurePolicy {
  std::vector<std::string> quasi_identifiers;  // output columns; empty = no check
  int k = 5;                                   // classes smaller than this are at risk
  DisclosureAction action = DisclosureAction::report;
};

// What an exchange of this protocol does (protocol `kind`). A round trip sends the key column to
// the partner, takes back an enriched return and publishes the merged, pseudonymised result; an
// export is one-way: selected columns, encrypted, delivered (municipal exports).
enum class ProtocolKind { roundtrip, export_ };

// What an export protocol allows (protocol [export], docs/municipal-protocols.md): which columns
// leave, for whom, how often and in which file. The loader refuses a file that breaks its own
// article 3 (a field outside the extract, a field beyond the legal cap the protocol cites, a
// filter or retention column that does not exist); the list selection (kbix/municipal) applies
// the scope, the closed lists and the per-person retention; the engine the trigger, the request
// reference, the profiles and the status return.
enum class ExportTrigger { on_request, schedule };
struct ExportScope {
  enum class Kind { residence, participation, consent };
  Kind kind = Kind::residence;
  std::string column;  // the extract column the filter reads (never exported unless it is a field)
  // participation / consent: the list is for one municipality, so it is also limited to the
  // people whose residence (this column, a NIS code) is the requesting municipality's; empty =
  // not limited. Unused (empty) for kind residence, where `column` is the residence.
  std::string residence_column;
};
struct PersonRetention {    // leave out a person whose date in `date_column` is more than
  std::string date_column;  // `months` months before the day of the list (empty date = keep)
  int months = 6;
};
struct ExportRules {
  std::vector<std::string> fields;     // art. 3: exactly the list's columns, in this order
  std::vector<std::string> legal_cap;  // the legal article's maximum; empty = none cited
  std::string legal_basis;  // e.g. "decreet 7 juni 2013, art. 20 §1 7°" (for docs/status)
  ExportScope scope;
  std::optional<PersonRetention> person_retention;
  ExportTrigger trigger = ExportTrigger::schedule;
  bool request_reference_required =
      false;  // Genk: a run needs the municipality's request reference
  std::vector<std::string>
      profiles;                // allowed office file profiles: "xlsx-agile", "zip-aes256", "cms"
  bool status_return = false;  // template: the municipality sends back the activity status
  std::vector<std::string> status_codes;  // closed list of that status
  std::string reference_column;  // column added to each row when status_return ("referentie")
  // Fields whose [domains] codes are the only values that may leave ("en enkel deze"): a row
  // holding another value there is left out of the list and counted, never echoed.
  std::vector<std::string> closed_lists;
};

struct Protocol {
  std::string id;     // "vdab-derde-pijler-2023"
  std::string title;  // for people
  std::string partner;

  ProtocolKind kind = ProtocolKind::roundtrip;

  std::chrono::sys_days valid_from;  // first day a run may happen
  // First day a run may no longer happen; none = an open end (`open_end = true`), which then
  // needs a review date by which the parties look at the protocol again.
  std::optional<std::chrono::sys_days> valid_until;
  std::optional<std::chrono::sys_days> review_date;
  int cadence_months = 6;   // minimum months between two runs
  int retention_years = 5;  // outputs and run data older than this are purged

  PseudonymMode pseudonym = PseudonymMode::none;

  std::string key_column = "insz";
  std::vector<std::string> extract_columns;   // KBI extract: insz + profile fields
  std::vector<std::string> outbound_columns;  // what leaves: exactly {insz}
  std::vector<std::string> return_columns;    // partner's return: insz + enriched fields
  // Output = extract_columns + return_columns without the key (plus pseudo_id when asked),
  // in this order; see output_columns().

  std::map<std::string, ColumnDomain> domains;  // column -> domain, extract or return columns
  DisclosurePolicy disclosure;
  std::optional<ExportRules> export_rules;  // set iff kind == export_

  [[nodiscard]] std::vector<std::string> output_columns() const;
};

// Reads and checks a protocol file. Errors are "FILE:LINE:COL: message" with code "config.*".
Result<Protocol> load_protocol(const std::filesystem::path& file);

// Whether the protocol's validity has ended on `today` (valid_until reached): such a protocol
// never runs again, not even forced; its runs' data stay until retention purges them.
bool protocol_ended(const Protocol& protocol, std::chrono::sys_days today);

const char* to_string(PseudonymMode mode);
const char* to_string(ProtocolKind kind);
const char* to_string(DisclosureAction action);

const char* to_string(ExportTrigger trigger);
const char* to_string(ExportScope::Kind kind);

// "2023-03-03"
std::string format_date(std::chrono::sys_days day);
// The reverse, strict: YYYY-MM-DD of a day that exists; nullopt otherwise.
std::optional<std::chrono::sys_days> parse_date(std::string_view text);
// The same as a calendar date, for comparisons (which need no day number).
std::optional<std::chrono::year_month_day> parse_calendar_date(std::string_view text);
// Whether a non-empty `value` is allowed by a codes domain: every part (split on the separator,
// when the domain has one) is one of the codes.
bool codes_allow(const ColumnDomain& domain, std::string_view value);

// A codes domain made ready for checking many cells (the quality report checks millions):
// allows() answers exactly as codes_allow. Codes of at most 8 bytes, as in every protocol, are
// compared as one machine word each instead of as strings.
class CodeList {
 public:
  explicit CodeList(const ColumnDomain& domain);
  bool allows(std::string_view value) const;

 private:
  bool contains(std::string_view part) const;
  ColumnDomain domain_;
  bool short_codes_ = false;
  std::vector<std::uint64_t> words_;  // the codes' bytes, zero-padded
  std::vector<std::size_t> sizes_;
};

}  // namespace kbix
