// Config: the daemon's configuration (config/kbix.toml and /etc/kbix/exchanges.d/*.toml), read
// strictly.
//
// kbix.toml holds what belongs to AgII and the daemon ([daemon], [keys], [audit], [notify],
// [metrics]); each exchange is a file of its own in [daemon] exchanges_dir ([exchange], [schedule],
// [partner], [sftp]; an export: [exchange], [export], [schedule] when scheduled, and [sftp] only
// when it delivers by SFTP). A `Config` is the view one exchange runs with: the daemon-wide
// settings plus that exchange's own; `SiteConfig` holds them all. A kbix.toml of the
// single-exchange form (its own [protocol], [schedule], [partner], [sftp]) is still read as one
// exchange; `kbix config migrate` moves it into exchanges.d.
//
// Every key is known: an unknown key, a wrong type, a missing file or a relative path that leaves
// the configuration directory is an error "FILE:LINE:COL: message" (code "config.*"). Relative
// paths are resolved against the directory of the configuration file. Loading checks the form of
// the file and loads the protocol it names; it does NOT open keys or connect anywhere (`kbix keys
// check` and the run itself do that), so a fresh config can be checked before keys are installed.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "kbix/audit/audit_settings.hpp"
#include "kbix/config/ops_config.hpp"
#include "kbix/core/export_delivery.hpp"
#include "kbix/core/protocol.hpp"
#include "kbix/core/result.hpp"
#include "kbix/sftp/sftp_settings.hpp"

namespace kbix {

struct DaemonConfig {
  std::filesystem::path state_dir;   // run database, audit log, sealed snapshots
  std::filesystem::path output_dir;  // pseudonymised outputs for the monitoring team
  std::filesystem::path inbox_dir;   // where operators place the KBI extract
  std::filesystem::path control_socket;
  std::string control_group;  // members may use the control socket; empty = root/daemon only
  std::string log_level = "info";
  std::filesystem::path exchanges_dir;  // default: <configuration directory>/exchanges.d
  int max_parallel_exchanges = 4;       // exchanges whose steps may run at the same time
  // Municipal lists wait here (<outbox_dir>/<exchange>/, group control_group, no other access)
  // until an operator delivers them; needed when an export exchange is configured.
  std::filesystem::path outbox_dir;
};

// Which exchange a Config is: its name (in run records, audit entries, metrics and status), the
// file it came from and the inbox source it reads.
struct ExchangeSettings {
  std::string name;
  std::filesystem::path file;  // exchanges.d/<name>.toml, or kbix.toml in the single-exchange form
  std::string source;          // reads <inbox_dir>/<source>/; "" = <inbox_dir> itself (old form)
  // Every running exchange that reads the same source, this one included (sorted): an extract
  // leaves the inbox only when each of them has sealed its own snapshot of it.
  std::vector<std::string> source_readers;
};

// An export exchange's own part ([export] in its exchange file): the municipality it serves, how
// its list is protected, and the dates of the instance it signed (the template protocol).
struct ExportSettings {
  std::string municipality;            // for people: "Stad Genk"
  std::string residence_nis;           // residence scope: the municipality's NIS code ("71016")
  std::string profile = "xlsx-agile";  // one of the protocol's profiles
  std::filesystem::path recipient_certificate;  // profile "cms": the municipality's certificate
  std::filesystem::path status_dir;             // status return: published for AgII's counsellors
  // "outbox" (an operator delivers) or "sftp": kbix drops the list itself into the [sftp]
  // section's outbound_dir, the municipality's drop directory (no return_dir: nothing comes back
  // that way). The password never goes with it.
  ExportDelivery delivery = ExportDelivery::outbox;
};

struct ScheduleConfig {
  std::vector<std::string> run_dates;  // "MM-DD" in UTC, e.g. {"03-15", "09-15"}
  std::chrono::hours return_deadline{24 * 30};
};

// A certificate with its private key (the key may be "credential:NAME", see below).
struct CertificateKeyPair {
  std::filesystem::path certificate;
  std::filesystem::path key;
};

struct KeysConfig {
  std::filesystem::path signing_certificate;  // AgII signs outbound files and audit checkpoints
  std::filesystem::path signing_key;
  std::filesystem::path decryption_certificate;  // AgII opens returns and its own snapshots
  std::filesystem::path decryption_key;
  // Rollover: AgII's earlier decryption keys, tried after the current one (returns of runs under
  // way, snapshots kept for the retention period), and its earlier signing certificates, which
  // still verify checkpoints and snapshots signed before the rotation.
  std::vector<CertificateKeyPair> previous_decryption_keys;
  std::vector<std::filesystem::path> previous_signing_certificates;
  std::optional<std::filesystem::path> key_passphrase_file;
  std::optional<std::filesystem::path> pseudonym_key_file;
  int expiry_warning_days = 60;
};

struct PartnerConfig {
  std::string name;
  // Rollover: `encryption_certificates` / `signing_certificates` in the file, or the single
  // `encryption_certificate` / `signing_certificate` (a one-element list). Outbound files are
  // sealed to the newest valid encryption certificate; a return may be signed by any listed
  // signing certificate inside its own validity period.
  std::vector<std::filesystem::path> encryption_certificates;
  std::vector<std::filesystem::path> signing_certificates;
  std::filesystem::path encryption_certificate;  // the last listed (for one-certificate views)
  std::filesystem::path signing_certificate;     // the last listed (for one-certificate views)
  std::string envelope_profile = "gcm";          // "gcm" (default) or "cbc"
  // A return's signingTime may precede this run's upload, or follow now, by at most this.
  std::chrono::seconds signing_time_skew{600};
};

// An exchange's [sftp] section: how to reach the server (the sftp module's own settings) and what
// the exchange does there.
struct SftpConfig {
  SftpSettings connection;  // host, port, user, keys, timeouts, min_file_age_seconds (min_age)
  std::string outbound_dir;
  std::string return_dir;
  std::chrono::seconds poll_interval{300};
  // A hostile server cannot fill the disk: the largest return downloaded (unset: 50 times the
  // run's outbound file plus 64 MiB), and the quarantine's caps and age.
  std::optional<std::uint64_t> max_download_bytes;
  std::uint64_t quarantine_max_files = 100;
  std::uint64_t quarantine_max_bytes = 1ULL << 30;
  std::chrono::hours quarantine_max_age{24 * 90};
};

// The download cap for a return to an outbound file of `outbound_bytes` (see SftpConfig).
std::uint64_t return_download_cap(const SftpConfig& config, std::uint64_t outbound_bytes);

struct Config {
  std::filesystem::path file;  // kbix.toml
  ExchangeSettings exchange;
  std::filesystem::path protocol_file;
  Protocol protocol;
  DaemonConfig daemon;
  ScheduleConfig schedule;
  KeysConfig keys;
  PartnerConfig partner;
  SftpConfig sftp;
  AuditSettings audit;             // [audit], its directory and key from [daemon] and [keys]
  NotifyConfig notify;             // optional [notify]
  MetricsConfig metrics;           // optional [metrics]
  ExportSettings export_settings;  // [export]: export exchanges only

  [[nodiscard]] bool is_export() const { return protocol.kind == ProtocolKind::export_; }
  // An export whose lists kbix drops on the municipality's SFTP server itself ([sftp] is then
  // the drop's server; otherwise an export has none).
  [[nodiscard]] bool delivers_by_sftp() const {
    return is_export() && export_settings.delivery == ExportDelivery::sftp;
  }
  // Where this export exchange's lists wait for an operator to deliver them.
  [[nodiscard]] std::filesystem::path outbox() const { return daemon.outbox_dir / exchange.name; }

  // Where this exchange's operators place the extract it reads.
  [[nodiscard]] std::filesystem::path inbox() const {
    return exchange.source.empty() ? daemon.inbox_dir : daemon.inbox_dir / exchange.source;
  }
  // Where returns that match no waiting run of this exchange are kept (still sealed).
  [[nodiscard]] std::filesystem::path quarantine_dir() const {
    return exchange.file == file ? daemon.state_dir / "quarantine"
                                 : daemon.state_dir / "quarantine" / exchange.name;
  }
};

// An exchange file that was refused; the other exchanges run without it.
struct RefusedExchange {
  std::filesystem::path file;
  Error error;  // "FILE:LINE:COL: message"
};

struct SiteConfig {
  // The daemon-wide settings; its exchange parts (protocol, schedule, partner, sftp) are empty.
  Config base;
  bool single_exchange_form = false;  // kbix.toml of the old form (see `kbix config migrate`)
  std::vector<Config> exchanges;      // sorted by name
  std::vector<RefusedExchange> refused;

  [[nodiscard]] const Config* find(std::string_view name) const;
};

// Reads kbix.toml and every *.toml in its exchanges directory. Errors in kbix.toml itself (and an
// exchanges directory that cannot be read, or both forms at once) fail the whole load; a broken
// or conflicting exchange file lands in `refused` (duplicate name: config.duplicate_exchange;
// shared inbox source with other extract columns or a shared return directory:
// config.overlapping_exchange).
Result<SiteConfig> load_site_config(const std::filesystem::path& file);

// An exchange or source name: lower-case letters, digits and '-', up to 63, not starting with '-'.
bool is_exchange_name(std::string_view text);

// The Config of exchange `name`; "" picks the only exchange (error config.exchange_required
// naming them when there are several). An unknown or refused name is config.unknown_exchange.
Result<Config> select_exchange(const SiteConfig& site, std::string_view name);

// load_site_config + select_exchange(name): what a command about one exchange reads.
Result<Config> load_config(const std::filesystem::path& file, std::string_view exchange = {});

// A private key setting may name a systemd credential, "credential:NAME": the file NAME in
// $CREDENTIALS_DIRECTORY (set by systemd for kbix.service's processes), or, outside the service,
// in /run/credentials/kbix.service (where systemd keeps the service's credentials: readable by
// root and the service user, so an operator's `kbix keys check` skips those keys). NAME is a file
// name of letters, digits, '.', '-' and '_'. Error code "config.value" for a bad NAME.
inline constexpr std::string_view kCredentialPrefix = "credential:";
std::filesystem::path credentials_directory();
Result<std::filesystem::path> credential_path(std::string_view name);
// Whether `path` is a credential of kbix.service seen from outside it ($CREDENTIALS_DIRECTORY
// unset): such a file is the service's, not the caller's.
bool is_service_credential(const std::filesystem::path& path);

// Problems that do not stop the configuration from loading but that an operator should see
// (key files not there yet, a private key readable by others). One line each, file named.
std::vector<std::string> config_warnings(const Config& config);

}  // namespace kbix
