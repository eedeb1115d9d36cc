// The readers of kbix.toml's sections, shared by the single-exchange form (kbix.toml) and the
// exchange files of exchanges.d (internal to the config module).
#pragma once

#include <filesystem>
#include <optional>
#include <string_view>

#include "internal/ops_config_reader.hpp"
#include "kbix/config/config.hpp"
#include "kbix/core/toml_reader.hpp"

namespace kbix::detail {

// A private key setting: a path, or "credential:NAME" (see config.hpp).
std::optional<std::filesystem::path> secret_path(TableReader& table, std::string_view key,
                                                 bool required, const std::filesystem::path& dir);

void read_daemon(TableReader& table, const std::filesystem::path& dir, DaemonConfig& out);
void read_schedule(TableReader& table, ScheduleConfig& out);
void read_keys(TableReader& table, const std::filesystem::path& dir, KeysConfig& out);
void read_partner(TableReader& table, const std::filesystem::path& dir, PartnerConfig& out);
// What an [sftp] section serves: a round trip's partner server (outbound and return directory),
// or an export's drop to a municipality (outbound_dir only; the keys about returns are refused,
// nothing comes back that way, and the poll interval stays [export]'s).
enum class SftpUse { round_trip, drop };
void read_sftp(TableReader& table, const std::filesystem::path& dir, SftpConfig& out,
               SftpUse use = SftpUse::round_trip);
// [audit], and the audit log's directory (<state_dir>/audit) and signing key from [daemon] and
// [keys], read before it.
void read_audit(TableReader& table, const std::filesystem::path& dir, const DaemonConfig& daemon,
                const KeysConfig& keys, AuditSettings& out);

// Reads one required section with `read`, then checks it for unknown keys.
template <class Read>
Status section(TableReader& root, const std::filesystem::path& file, const char* name,
               Read&& read) {
  const toml::table* table = root.table(name, true);
  if (table == nullptr) return ok();  // root reports it
  TableReader reader(*table, file, std::string("[") + name + "]");
  read(reader);
  return reader.finish();
}

}  // namespace kbix::detail
