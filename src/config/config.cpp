#include "kbix/config/config.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdlib>
#include <limits>
#include <string_view>

#include "internal/config_sections.hpp"
#include "kbix/core/file_safety.hpp"

namespace kbix {
namespace detail {

// A private key setting: a path, or "credential:NAME" (see config.hpp).
std::optional<std::filesystem::path> secret_path(TableReader& table, std::string_view key,
                                                 bool required, const std::filesystem::path& dir) {
  const auto value = table.text(key, required);
  if (!value) return std::nullopt;
  if (!value->starts_with(kCredentialPrefix)) return table.path(key, required, dir);
  auto resolved = credential_path(std::string_view(*value).substr(kCredentialPrefix.size()));
  if (!resolved) {
    table.reject(key, resolved.error().message);
    return std::nullopt;
  }
  return *resolved;
}

namespace {
std::chrono::seconds seconds(TableReader& reader, std::string_view key, std::int64_t fallback,
                             std::int64_t max) {
  return std::chrono::seconds(reader.integer(key, false, 1, max).value_or(fallback));
}
}  // namespace

void read_daemon(TableReader& table, const std::filesystem::path& dir, DaemonConfig& out) {
  out.state_dir = table.path("state_dir", true, dir).value_or("");
  out.output_dir = table.path("output_dir", true, dir).value_or("");
  out.inbox_dir = table.path("inbox_dir", true, dir).value_or("");
  out.control_socket = table.path("control_socket", true, dir).value_or("");
  out.control_group = table.text("control_group", false).value_or("");
  out.log_level = table.text("log_level", false).value_or("info");
  out.exchanges_dir = table.path("exchanges_dir", false, dir).value_or(dir / "exchanges.d");
  out.max_parallel_exchanges =
      static_cast<int>(table.integer("max_parallel_exchanges", false, 1, 64).value_or(4));
  out.outbox_dir = table.path("outbox_dir", false, dir).value_or("");
  static constexpr std::array<std::string_view, 7> kLevels = {"trace", "debug",    "info", "warn",
                                                              "error", "critical", "off"};
  if (std::find(kLevels.begin(), kLevels.end(), out.log_level) == kLevels.end()) {
    table.reject("log_level", "must be one of trace, debug, info, warn, error, critical, off");
  }
}

void read_schedule(TableReader& table, ScheduleConfig& out) {
  out.run_dates = table.text_list("run_dates", true).value_or(std::vector<std::string>{});
  for (const auto& date : out.run_dates) {
    if (!detail::is_month_day(date)) {
      table.reject("run_dates", "'" + date + "' is not MM-DD with a day from 01 to 28");
      break;
    }
  }
  if (out.run_dates.empty()) table.reject("run_dates", "needs at least one date");
  out.return_deadline =
      std::chrono::hours(24 * table.integer("return_deadline_days", false, 1, 365).value_or(30));
}

void read_keys(TableReader& table, const std::filesystem::path& dir, KeysConfig& out) {
  out.signing_certificate = table.path("signing_certificate", true, dir).value_or("");
  out.signing_key = secret_path(table, "signing_key", true, dir).value_or("");
  out.decryption_certificate = table.path("decryption_certificate", true, dir).value_or("");
  out.decryption_key = secret_path(table, "decryption_key", true, dir).value_or("");
  out.key_passphrase_file = secret_path(table, "key_passphrase_file", false, dir);
  out.pseudonym_key_file = secret_path(table, "pseudonym_key_file", false, dir);
  out.expiry_warning_days =
      static_cast<int>(table.integer("expiry_warning_days", false, 0, 3650).value_or(60));
  // Rollover: earlier keys, each a certificate and its private key (checked like the others).
  for (auto& entry :
       table.table_list("previous_decryption_keys", false).value_or(std::vector<TableReader>{})) {
    out.previous_decryption_keys.push_back({entry.path("certificate", true, dir).value_or(""),
                                            secret_path(entry, "key", true, dir).value_or("")});
    table.absorb(entry.finish());
  }
  out.previous_signing_certificates = table.path_list("previous_signing_certificates", false, dir)
                                          .value_or(std::vector<std::filesystem::path>{});
}

void read_partner(TableReader& table, const std::filesystem::path& dir, PartnerConfig& out) {
  out.name = table.text("name", true).value_or("");
  // Each certificate is a one-element list or a list (rollover with overlap), never both.
  const auto certificates = [&](const char* single, const char* list) {
    auto listed = table.path_list(list, false, dir);
    auto one = table.path(single, false, dir);
    if (listed && one) {
      table.reject(list, std::string("give either ") + single + " or " + list + ", not both");
    } else if (!listed && !one) {
      table.reject(single, std::string("needs ") + single + " (or a list " + list + ")",
                   "config.missing_key");
    }
    if (listed) return *listed;
    return one ? std::vector<std::filesystem::path>{*one} : std::vector<std::filesystem::path>{};
  };
  out.encryption_certificates = certificates("encryption_certificate", "encryption_certificates");
  out.signing_certificates = certificates("signing_certificate", "signing_certificates");
  out.encryption_certificate =
      out.encryption_certificates.empty() ? "" : out.encryption_certificates.back();
  out.signing_certificate = out.signing_certificates.empty() ? "" : out.signing_certificates.back();
  out.envelope_profile = table.text("envelope_profile", false).value_or("gcm");
  if (out.envelope_profile != "gcm" && out.envelope_profile != "cbc") {
    table.reject("envelope_profile", "must be \"gcm\" (default) or \"cbc\"");
  }
  out.signing_time_skew = std::chrono::seconds(
      table.integer("signing_time_skew_seconds", false, 0, 86400).value_or(600));
}

void read_sftp(TableReader& table, const std::filesystem::path& dir, SftpConfig& out, SftpUse use) {
  const bool drop = use == SftpUse::drop;
  SftpSettings& connection = out.connection;
  connection.host = table.text("host", true).value_or("");
  connection.port = static_cast<std::uint16_t>(table.integer("port", false, 1, 65535).value_or(22));
  connection.user = table.text("user", true).value_or("");
  connection.identity_file = secret_path(table, "identity_file", true, dir).value_or("");
  connection.known_hosts_file = table.path("known_hosts_file", true, dir).value_or("");
  out.outbound_dir = table.text("outbound_dir", true).value_or("");
  if (!drop) out.return_dir = table.text("return_dir", true).value_or("");
  connection.connect_timeout = seconds(table, "connect_timeout_seconds", 20, 600);
  connection.operation_deadline = seconds(table, "operation_deadline_seconds", 600, 86400);
  connection.keepalive_interval = seconds(table, "keepalive_seconds", 30, 3600);
  if (!drop) {
    out.poll_interval = seconds(table, "poll_interval_seconds", 300, 86400);
    connection.min_age = seconds(table, "min_file_age_seconds", 60, 86400);
    if (auto cap = table.integer("max_download_bytes", false, 1024, 1LL << 50)) {
      out.max_download_bytes = static_cast<std::uint64_t>(*cap);
    }
    out.quarantine_max_files = static_cast<std::uint64_t>(
        table.integer("quarantine_max_files", false, 0, 100000).value_or(100));
    out.quarantine_max_bytes = static_cast<std::uint64_t>(
        table.integer("quarantine_max_bytes", false, 0, 1LL << 50).value_or(1LL << 30));
    out.quarantine_max_age = std::chrono::hours(
        24 * table.integer("quarantine_max_age_days", false, 1, 3650).value_or(90));
  }
  if (!connection.user.empty() && !detail::is_user_name(connection.user)) {
    table.reject("user", "is not a valid user name");
  }
  // A drop to a municipality is one-way: what is about returns has no meaning there.
  for (const auto* key :
       {"return_dir", "poll_interval_seconds", "min_file_age_seconds", "max_download_bytes",
        "quarantine_max_files", "quarantine_max_bytes", "quarantine_max_age_days"}) {
    if (drop && table.has(key)) {
      const bool poll = std::string_view(key) == "poll_interval_seconds";
      table.reject(key, std::string("has no place in an export's SFTP drop: nothing comes back "
                                    "that way (outbound_dir is the municipality's drop "
                                    "directory") +
                            (poll ? "; the exchange's poll interval is [export] "
                                    "poll_interval_seconds)"
                                  : ")"));
    }
  }
  for (const auto* key : {"outbound_dir", "return_dir"}) {
    const bool outbound = std::string_view(key) == "outbound_dir";
    if (drop && !outbound) continue;
    const auto& value = outbound ? out.outbound_dir : out.return_dir;
    if (value.empty() || value.find("..") != std::string::npos) {
      table.reject(key, "must be a non-empty remote directory without '..'");
    }
  }
}

void read_audit(TableReader& table, const std::filesystem::path& dir, const DaemonConfig& daemon,
                const KeysConfig& keys, AuditSettings& out) {
  const std::filesystem::path& state_dir = daemon.state_dir;
  out.directory = state_dir / "audit";
  out.signing_key = keys.signing_key;
  out.signing_certificate = keys.signing_certificate;
  out.key_passphrase_file = keys.key_passphrase_file;
  out.checkpoint_every =
      static_cast<int>(table.integer("checkpoint_every", false, 1, 1000000).value_or(100));
  out.rotate_bytes =
      table.integer("rotate_bytes", false, 4096, 1LL << 40).value_or(64LL * 1024 * 1024);
  out.checkpoint_copy = table.path("checkpoint_copy", false, dir);
  out.checkpoint_journal = table.boolean("checkpoint_journal", false).value_or(true);
  // A copy someone who can write the state directory can also cut proves nothing (inv. 9).
  const auto inside = [&](const std::filesystem::path& file) {
    const auto relative = file.lexically_normal().lexically_relative(state_dir.lexically_normal());
    return !state_dir.empty() && !relative.empty() && *relative.begin() != "..";
  };
  if (out.checkpoint_copy && inside(*out.checkpoint_copy)) {
    table.reject("checkpoint_copy", "must lie outside the state directory " + state_dir.string());
  }
}

}  // namespace detail

std::filesystem::path credentials_directory() {
  const char* given = std::getenv("CREDENTIALS_DIRECTORY");
  return given != nullptr && *given != '\0'
             ? std::filesystem::path(given)
             : std::filesystem::path("/run/credentials/kbix.service");
}

Result<std::filesystem::path> credential_path(std::string_view name) {
  const bool well_formed =
      !name.empty() && name != "." && name != ".." && name.size() <= 255 &&
      std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '-' || c == '_';
      });
  if (!well_formed) {
    return fail("config.value",
                "credential name must be letters, digits, '.', '-' or '_' (credential:NAME)");
  }
  return credentials_directory() / std::string(name);
}

bool is_service_credential(const std::filesystem::path& path) {
  const char* given = std::getenv("CREDENTIALS_DIRECTORY");
  return (given == nullptr || *given == '\0') && path.parent_path() == credentials_directory();
}

std::uint64_t return_download_cap(const SftpConfig& config, std::uint64_t outbound_bytes) {
  if (config.max_download_bytes) return *config.max_download_bytes;
  constexpr std::uint64_t kFactor = 50;
  constexpr std::uint64_t kMargin = 64ULL << 20;
  const std::uint64_t limit = std::numeric_limits<std::uint64_t>::max();
  if (outbound_bytes > (limit - kMargin) / kFactor) return limit;
  return outbound_bytes * kFactor + kMargin;
}

std::vector<std::string> config_warnings(const Config& config) {
  std::vector<std::string> warnings;
  const auto& keys = config.keys;
  std::vector<std::filesystem::path> public_files = {keys.signing_certificate,
                                                     keys.decryption_certificate,
                                                     config.sftp.connection.known_hosts_file};
  for (const auto* list :
       {&config.partner.encryption_certificates, &config.partner.signing_certificates,
        &keys.previous_signing_certificates}) {
    public_files.insert(public_files.end(), list->begin(), list->end());
  }
  for (const auto& pair : keys.previous_decryption_keys) public_files.push_back(pair.certificate);
  for (const auto& path : public_files) {
    if (!std::filesystem::exists(path)) warnings.push_back(path.string() + ": file not found");
  }
  std::vector<std::filesystem::path> secret_files = {keys.signing_key, keys.decryption_key,
                                                     config.sftp.connection.identity_file};
  if (keys.key_passphrase_file) secret_files.push_back(*keys.key_passphrase_file);
  if (keys.pseudonym_key_file) secret_files.push_back(*keys.pseudonym_key_file);
  for (const auto& pair : keys.previous_decryption_keys) secret_files.push_back(pair.key);
  for (const auto& path : secret_files) {
    if (is_service_credential(path)) continue;  // kbix.service's own; it checks them at start
    if (auto checked = check_private_file(path); !checked) {
      warnings.push_back(checked.error().message);
    }
  }
  return warnings;
}

}  // namespace kbix
