// Instance: what a kbix process that acts on the state directory holds while it runs (the daemon
// or `kbix run once`): the configuration, an exclusive lock on the state directory, the run store
// and the audit log.
//
// It runs every exchange of the configuration that loads (a broken exchange file, or one whose SSH
// identity is readable by others, is refused, logged and audited as config.exchange_refused, and
// the others run), and refuses to start when no exchange is left.
// Opening refuses to start (invariant 7) when a private key, the SSH identity or the passphrase
// file is readable by group or others, and when another kbix process holds the state directory
// ("instance.locked": two writers would fork the audit chain). It records the start, the
// configuration's SHA-256 and the key check in the audit log.
//
// Does NOT guarantee: anything about processes that bypass the lock (editing files by hand).
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "kbix/audit/audit.hpp"
#include "kbix/config/config.hpp"
#include "kbix/core/result.hpp"
#include "kbix/runs/run_store.hpp"

namespace kbix {

class Instance {
 public:
  // `role` is "daemon" or "run-once"; audited as "<role>.start".
  static Result<std::unique_ptr<Instance>> open(const std::filesystem::path& config_file,
                                                std::string role, AuditActor actor);
  ~Instance();
  Instance(const Instance&) = delete;
  Instance& operator=(const Instance&) = delete;

  // The daemon-wide settings (its exchange parts are empty) and every exchange that runs.
  const Config& daemon_config() const { return site_.base; }
  const SiteConfig& site() const { return site_; }
  const std::vector<Config>& exchanges() const { return site_.exchanges; }
  RunStore& store() { return *store_; }
  AuditLog& audit() { return *audit_; }
  const AuditActor& actor() const { return actor_; }

  // Re-reads the configuration (SIGHUP); audited with each file's SHA-256. The old one stays when
  // kbix.toml fails; an exchange file that fails now is refused and, if that exchange ran, its
  // previous version keeps running.
  Status reload();
  // Audits "<role>.stop" and closes the audit log with a final checkpoint.
  Status close(std::string_view reason);

 private:
  Instance() = default;
  std::string role_;
  AuditActor actor_;
  SiteConfig site_;
  int lock_fd_ = -1;
  std::unique_ptr<RunStore> store_;
  std::unique_ptr<AuditLog> audit_;
  bool closed_ = false;
};

// The user running this process, as an audit actor (name from the password database, uid).
AuditActor current_user_actor();

// Checks every private-key-like file of the configuration (inv. 7). "security.key_file_mode".
Status check_secret_files(const Config& config);

}  // namespace kbix
