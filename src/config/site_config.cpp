// Loading kbix.toml and the exchange files of exchanges.d (see config.hpp).
#include <algorithm>
#include <cctype>
#include <map>
#include <system_error>

#include "internal/config_sections.hpp"
#include "kbix/config/config.hpp"

namespace kbix {
namespace {

namespace fs = std::filesystem;
using detail::TableReader;

// The sections an exchange owns: in an exchange file, or in kbix.toml of the single-exchange form.
constexpr const char* kExchangeSections[] = {"protocol", "schedule", "partner", "sftp"};

// "VDAB" -> "vdab": the exchange name of a kbix.toml of the single-exchange form.
std::string name_from_partner(std::string_view partner) {
  std::string name;
  for (const char c : partner) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) != 0) {
      name += static_cast<char>(std::tolower(u));
    } else if (!name.empty() && name.back() != '-') {
      name += '-';
    }
  }
  while (!name.empty() && name.back() == '-') name.pop_back();
  return is_exchange_name(name) ? name : "default";
}

// Loads the protocol an exchange names and checks what depends on the daemon-wide part.
Status finish_exchange(Config& config, const std::string& protocol_at) {
  if (config.protocol.id.empty()) {
    auto protocol = load_protocol(config.protocol_file);
    if (!protocol) return fail(std::move(protocol).error());
    config.protocol = std::move(protocol).value();
  }
  if (config.protocol.pseudonym == PseudonymMode::hmac_sha256 && !config.keys.pseudonym_key_file) {
    return fail("config.missing_key", protocol_at + ": protocol " + config.protocol.id +
                                          " asks for keyed pseudonyms; set [keys] "
                                          "pseudonym_key_file in " +
                                          config.file.string());
  }
  return ok();
}

// The protocol file setting: `file` in [protocol] (single-exchange form) or `protocol` in
// [exchange]. Relative paths resolve against the configuration directory.
void read_protocol_path(TableReader& table, std::string_view key, const fs::path& dir,
                        fs::path& out) {
  out = table.path(key, true, dir).value_or("");
  if (!out.empty() && !fs::is_regular_file(out)) {
    table.reject(key,
                 "protocol file " + out.string() +
                     " not found (an exchange must name one of the protocols AgII signed)",
                 "config.missing_file");
  }
}

// Where an exchange file sets what may conflict with another exchange ("FILE:LINE:COL").
struct ExchangePositions {
  std::string protocol, name, source, return_dir;
};

// [export] of an export exchange: the municipality, the file profile the protocol allows, and
// the dates of the instance the municipality signed (they narrow the protocol's own window).
void read_export(TableReader& t, const fs::path& dir, Config& config) {
  ExportSettings& out = config.export_settings;
  const ExportRules& rules = *config.protocol.export_rules;
  out.municipality = t.text("municipality", true).value_or("");
  const bool residence = rules.scope.kind == ExportScope::Kind::residence;
  out.residence_nis = t.text("residence_nis", residence).value_or("");
  if (!out.residence_nis.empty() &&
      (out.residence_nis.size() != 5 ||
       !std::all_of(out.residence_nis.begin(), out.residence_nis.end(),
                    [](char c) { return c >= '0' && c <= '9'; }))) {
    t.reject("residence_nis", "must be the municipality's five-digit NIS code (Genk: 71016)");
  }
  out.profile = t.text("profile", false)
                    .value_or(rules.profiles.empty() ? "xlsx-agile" : rules.profiles.front());
  if (!rules.profiles.empty() && std::find(rules.profiles.begin(), rules.profiles.end(),
                                           out.profile) == rules.profiles.end()) {
    std::string allowed;
    for (const auto& name : rules.profiles) allowed += (allowed.empty() ? "" : ", ") + name;
    t.reject("profile", "protocol " + config.protocol.id + " allows the profiles " + allowed);
  }
  out.recipient_certificate =
      t.path("recipient_certificate", out.profile == "cms", dir).value_or("");
  out.status_dir = t.path("status_dir", rules.status_return, dir).value_or("");
  const std::string delivery = t.text("delivery", false).value_or("outbox");
  if (const auto parsed = parse_export_delivery(delivery)) {
    out.delivery = *parsed;
  } else {
    t.reject("delivery",
             "must be \"outbox\" (an operator delivers the list) or \"sftp\" (kbix drops it "
             "on the municipality's SFTP server, set in [sftp])");
  }
  // How often the daemon looks at this exchange (status returns, the protocol's end, work left).
  config.sftp.poll_interval =
      std::chrono::seconds(t.integer("poll_interval_seconds", false, 1, 86400).value_or(300));
  // A signed instance of a template protocol: its own dates, inside the template's window.
  if (const auto from = t.date("signed_from", false)) {
    if (*from < config.protocol.valid_from) {
      t.reject("signed_from",
               "lies before the protocol's valid_from " + format_date(config.protocol.valid_from));
    }
    config.protocol.valid_from = *from;
  }
  if (const auto until = t.date("signed_until", false)) {
    if (config.protocol.valid_until && *until > *config.protocol.valid_until) {
      t.reject("signed_until", "lies after the protocol's valid_until " +
                                   format_date(*config.protocol.valid_until));
    }
    if (*until <= config.protocol.valid_from) {
      t.reject("signed_until", "must lie after signed_from (or the protocol's valid_from)");
    }
    config.protocol.valid_until = *until;
  }
}

// The sections of an export exchange file after [exchange]: [export], [schedule] when the
// protocol runs on a schedule (a list on request has none), and [sftp] when kbix drops the list
// on the municipality's server itself ([export] delivery = "sftp"). It has no partner.
void read_export_sections(TableReader& root, const fs::path& file, Config& config) {
  const fs::path dir = config.file.parent_path();
  const bool scheduled = config.protocol.export_rules->trigger == ExportTrigger::schedule;
  root.absorb(
      detail::section(root, file, "export", [&](TableReader& t) { read_export(t, dir, config); }));
  if (root.table("partner", false) != nullptr) {
    root.reject("partner",
                "an export exchange has no [partner]: its list goes to the municipality named "
                "in [export]");
  }
  if (config.delivers_by_sftp()) {
    root.absorb(detail::section(root, file, "sftp", [&](TableReader& t) {
      detail::read_sftp(t, dir, config.sftp, detail::SftpUse::drop);
    }));
  } else if (root.table("sftp", false) != nullptr) {
    root.reject("sftp",
                "an export exchange has no [sftp] unless [export] delivery = \"sftp\": its "
                "list waits in [daemon] outbox_dir for an operator");
  }
  if (!scheduled && root.table("schedule", false) != nullptr) {
    root.reject("schedule", "protocol " + config.protocol.id +
                                " gives lists on request only (`kbix run start " +
                                config.exchange.name + " --request-ref TEXT`); remove [schedule]");
  }
  if (scheduled) {
    root.absorb(detail::section(root, file, "schedule", [&](TableReader& t) {
      detail::read_schedule(t, config.schedule);
    }));
  }
  if (config.daemon.outbox_dir.empty()) {
    root.reject("exchange",
                "an export exchange needs [daemon] outbox_dir in " + config.file.string() +
                    " (where its lists wait for an operator)",
                "config.missing_key");
  }
}

// One exchange file of exchanges.d. `base` holds the daemon-wide settings.
Result<Config> load_exchange_file(const fs::path& file, const Config& base, ExchangePositions& at) {
  auto parsed = detail::parse_toml_file(file);
  if (!parsed) return fail(std::move(parsed).error());
  Config config = base;
  const fs::path dir = base.file.parent_path();
  config.exchange.file = file;
  TableReader root(*parsed, file, "the exchange file");
  KBIX_TRY(detail::section(root, file, "exchange", [&](TableReader& t) {
    const std::string stem = file.stem().string();
    config.exchange.name = t.text("name", false).value_or(stem);
    if (!is_exchange_name(config.exchange.name)) {
      t.reject("name",
               "must be lower-case letters, digits and '-' (up to 63); it names runs, "
               "files and metrics");
    }
    config.exchange.source = t.text("source", true).value_or("");
    if (!config.exchange.source.empty() && !is_exchange_name(config.exchange.source)) {
      t.reject("source",
               "must be lower-case letters, digits and '-' (a folder of the inbox, e.g. kbi-vdab)");
    }
    at.protocol = t.position_of("protocol");
    at.name = t.position_of("name");
    at.source = t.position_of("source");
    read_protocol_path(t, "protocol", dir, config.protocol_file);
  }));
  // The protocol's kind decides which sections the file has.
  auto protocol = load_protocol(config.protocol_file);
  if (!protocol) return fail(std::move(protocol).error());
  config.protocol = std::move(protocol).value();
  if (config.is_export()) {
    if (!config.protocol.export_rules) {
      return fail("config.value", at.protocol + ": protocol " + config.protocol.id +
                                      " is of kind export but has no [export] rules");
    }
    read_export_sections(root, file, config);
    KBIX_TRY(root.finish());
    return config;
  }
  KBIX_TRY(detail::section(root, file, "schedule",
                           [&](TableReader& t) { detail::read_schedule(t, config.schedule); }));
  KBIX_TRY(detail::section(root, file, "partner",
                           [&](TableReader& t) { detail::read_partner(t, dir, config.partner); }));
  KBIX_TRY(detail::section(root, file, "sftp", [&](TableReader& t) {
    at.return_dir = t.position_of("return_dir");
    detail::read_sftp(t, dir, config.sftp);
  }));
  KBIX_TRY(root.finish());
  KBIX_TRY(finish_exchange(config, at.protocol));
  return config;
}

// The *.toml files of the exchanges directory, sorted (others, like vdab.toml.dpkg-old or an
// editor's backup, are not exchanges).
Result<std::vector<fs::path>> exchange_files(const fs::path& dir) {
  std::vector<fs::path> files;
  std::error_code error;
  if (!fs::exists(dir, error)) return files;
  fs::directory_iterator entry(dir, error);
  for (; !error && entry != fs::directory_iterator(); entry.increment(error)) {
    const fs::path& path = entry->path();
    const std::string name = path.filename().string();
    if (path.extension() == ".toml" && !name.starts_with(".")) files.push_back(path);
  }
  if (error)
    return fail("config.exchanges_dir", dir.string() + ": cannot be read: " + error.message());
  std::sort(files.begin(), files.end());
  return files;
}

std::string lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// A conflict with an exchange loaded before: the same name, or a shared source whose extract
// differs, or the same return directory on the same server (both would claim its returns).
std::optional<Error> conflict(const Config& candidate, const std::vector<Config>& accepted,
                              const ExchangePositions& at) {
  for (const auto& other : accepted) {
    const std::string other_file = other.exchange.file.string();
    if (lower(other.exchange.name) == lower(candidate.exchange.name)) {
      return Error{"config.duplicate_exchange",
                   at.name + ": exchange name '" + candidate.exchange.name +
                       "' is already used by " + other_file +
                       "; give this file another name (or [exchange] name)"};
    }
    if (other.exchange.source == candidate.exchange.source &&
        other.protocol.extract_columns != candidate.protocol.extract_columns) {
      return Error{"config.overlapping_exchange",
                   at.source + ": source '" + candidate.exchange.source + "' is read by exchange " +
                       other.exchange.name + " (" + other_file +
                       ") with other extract columns; exchanges of one source read the same "
                       "extract, so give this one a source of its own"};
    }
    const auto& a = other.sftp;
    const auto& b = candidate.sftp;
    if (candidate.is_export() || other.is_export()) continue;  // no partner server
    const auto& server = b.connection;
    if (a.connection.host == server.host && a.connection.port == server.port &&
        a.connection.user == server.user && a.return_dir == b.return_dir) {
      return Error{"config.overlapping_exchange",
                   at.return_dir + ": exchange " + other.exchange.name + " (" + other_file +
                       ") already reads returns from " + server.user + "@" + server.host + ":" +
                       b.return_dir + "; each exchange needs a return directory of its own"};
    }
  }
  return std::nullopt;
}

// An exchange whose protocol has ended never runs again, so it never seals an extract: it is not
// a reader the others wait for.
void set_source_readers(std::vector<Config>& exchanges) {
  const auto today = std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now());
  std::map<std::string, std::vector<std::string>> readers;
  for (const auto& config : exchanges) {
    if (!protocol_ended(config.protocol, today)) {
      readers[config.exchange.source].push_back(config.exchange.name);
    }
  }
  for (auto& config : exchanges) {
    auto names = readers[config.exchange.source];
    std::sort(names.begin(), names.end());
    config.exchange.source_readers = std::move(names);
  }
}

}  // namespace

bool is_exchange_name(std::string_view text) {
  if (text.empty() || text.size() > 63 || text.front() == '-') return false;
  return std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

const Config* SiteConfig::find(std::string_view name) const {
  for (const auto& config : exchanges) {
    if (config.exchange.name == name) return &config;
  }
  return nullptr;
}

Result<SiteConfig> load_site_config(const fs::path& file) {
  auto parsed = detail::parse_toml_file(file);
  if (!parsed) return fail(std::move(parsed).error());
  SiteConfig site;
  Config& base = site.base;
  base.file = fs::absolute(file).lexically_normal();
  const auto dir = base.file.parent_path();

  TableReader root(*parsed, file, "the configuration");
  KBIX_TRY(detail::section(root, file, "daemon",
                           [&](TableReader& t) { detail::read_daemon(t, dir, base.daemon); }));
  KBIX_TRY(detail::section(root, file, "keys",
                           [&](TableReader& t) { detail::read_keys(t, dir, base.keys); }));
  KBIX_TRY(detail::section(root, file, "audit", [&](TableReader& t) {
    detail::read_audit(t, dir, base.daemon, base.keys, base.audit);
  }));
  KBIX_TRY(detail::read_operations_sections(root, file, dir, base.notify, base.metrics));

  // The single-exchange form: kbix.toml has the exchange's sections itself.
  const bool single = std::any_of(std::begin(kExchangeSections), std::end(kExchangeSections),
                                  [&](const char* name) { return parsed->contains(name); });
  auto files = exchange_files(base.daemon.exchanges_dir);
  if (!files) return fail(std::move(files).error());
  if (single && !files->empty()) {  // before the sections: the more useful message
    return fail("config.mixed_forms",
                base.file.string() +
                    " holds an exchange itself ([protocol], [schedule], [partner], [sftp]) and " +
                    base.daemon.exchanges_dir.string() +
                    " holds exchange files: keep one form (`kbix config migrate` moves the "
                    "exchange of kbix.toml into exchanges.d)");
  }
  std::string protocol_at;
  Config only = base;
  if (single) {
    KBIX_TRY(detail::section(root, file, "protocol", [&](TableReader& t) {
      protocol_at = t.position_of("file");
      read_protocol_path(t, "file", dir, only.protocol_file);
    }));
    KBIX_TRY(detail::section(root, file, "schedule",
                             [&](TableReader& t) { detail::read_schedule(t, only.schedule); }));
    KBIX_TRY(detail::section(root, file, "partner",
                             [&](TableReader& t) { detail::read_partner(t, dir, only.partner); }));
    KBIX_TRY(detail::section(root, file, "sftp",
                             [&](TableReader& t) { detail::read_sftp(t, dir, only.sftp); }));
  }
  KBIX_TRY(root.finish());

  if (single) {
    KBIX_TRY(finish_exchange(only, protocol_at));
    if (only.is_export()) {
      return fail("config.mixed_forms",
                  protocol_at + ": an export exchange is a file of its own in " +
                      base.daemon.exchanges_dir.string() + " (run `kbix config migrate` first)");
    }
    only.exchange.name = name_from_partner(only.partner.name);
    only.exchange.file = base.file;
    site.single_exchange_form = true;
    site.exchanges.push_back(std::move(only));
    set_source_readers(site.exchanges);
    return site;
  }

  for (const auto& exchange_file : *files) {
    ExchangePositions at;
    auto loaded = load_exchange_file(exchange_file, base, at);
    if (!loaded) {
      site.refused.push_back({exchange_file, std::move(loaded).error()});
      continue;
    }
    if (auto clash = conflict(*loaded, site.exchanges, at)) {
      site.refused.push_back({exchange_file, *clash});
      continue;
    }
    site.exchanges.push_back(std::move(loaded).value());
  }
  std::sort(site.exchanges.begin(), site.exchanges.end(),
            [](const Config& a, const Config& b) { return a.exchange.name < b.exchange.name; });
  set_source_readers(site.exchanges);
  return site;
}

Result<Config> select_exchange(const SiteConfig& site, std::string_view name) {
  std::string known;
  for (const auto& config : site.exchanges)
    known += (known.empty() ? "" : ", ") + config.exchange.name;
  if (name.empty()) {
    if (site.exchanges.size() == 1) return site.exchanges.front();
    if (site.exchanges.empty()) {
      if (!site.refused.empty()) return fail(site.refused.front().error);
      return fail("config.no_exchange", site.base.daemon.exchanges_dir.string() +
                                            " holds no exchange file (*.toml); see "
                                            "docs/operator-guide.md \"Adding an exchange\"");
    }
    return fail("config.exchange_required",
                "several exchanges are configured (" + known + "); name one");
  }
  if (const Config* found = site.find(name)) return *found;
  for (const auto& refused : site.refused) {
    if (refused.file.stem() == name) return fail(refused.error);
  }
  return fail("config.unknown_exchange",
              "no exchange '" + std::string(name) +
                  "' is configured (known: " + (known.empty() ? "none" : known) + ")");
}

Result<Config> load_config(const fs::path& file, std::string_view exchange) {
  auto site = load_site_config(file);
  if (!site) return fail(std::move(site).error());
  return select_exchange(*site, exchange);
}

}  // namespace kbix
