#include "kbix/exchange/instance.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>

#include "kbix/core/digest.hpp"
#include "kbix/core/file_safety.hpp"
#include "kbix/envelope/keys.hpp"
#include "kbix/exchange/exchange.hpp"
#include "kbix/exchange/exchange_keys.hpp"

namespace kbix {

namespace fs = std::filesystem;

AuditActor current_user_actor() {
  const uid_t uid = ::getuid();
  std::string name = "uid-" + std::to_string(uid);
  std::vector<char> buffer(16384);
  passwd entry{};
  passwd* found = nullptr;
  if (::getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &found) == 0 && found != nullptr) {
    name = found->pw_name;
  }
  return AuditActor{name, static_cast<std::uint32_t>(uid)};
}

Status check_secret_files(const Config& config) {
  std::vector<fs::path> secrets = {config.keys.signing_key, config.keys.decryption_key};
  if (!config.sftp.connection.identity_file.empty())
    secrets.push_back(config.sftp.connection.identity_file);
  if (config.keys.key_passphrase_file) secrets.push_back(*config.keys.key_passphrase_file);
  if (config.keys.pseudonym_key_file) secrets.push_back(*config.keys.pseudonym_key_file);
  for (const auto& pair : config.keys.previous_decryption_keys) secrets.push_back(pair.key);
  for (const auto& secret : secrets) {
    std::error_code missing;
    if (!fs::exists(secret, missing)) {
      return fail("keys.unreadable",
                  secret.string() + ": no such file (see " + config.file.string() + ")");
    }
    KBIX_TRY(check_private_file(secret));
  }
  return ok();
}

namespace {

// Exchanges whose own secret (the SSH identity) fails the check join the refused ones.
void refuse_unsafe_exchanges(SiteConfig& site) {
  std::vector<Config> safe;
  for (auto& exchange : site.exchanges) {
    if (auto checked = check_secret_files(exchange); !checked) {
      site.refused.push_back({exchange.exchange.file, checked.error()});
    } else {
      safe.push_back(std::move(exchange));
    }
  }
  site.exchanges = std::move(safe);
}

// What the audit log keeps of a configuration: each file with its SHA-256, refusals by code.
nlohmann::json describe_site(const SiteConfig& site) {
  nlohmann::json exchanges = nlohmann::json::array();
  for (const auto& exchange : site.exchanges) {
    auto file_sha = sha256_file_hex(exchange.exchange.file);
    auto protocol_sha = sha256_file_hex(exchange.protocol_file);
    exchanges.push_back({{"name", exchange.exchange.name},
                         {"file", exchange.exchange.file.string()},
                         {"sha256", file_sha ? *file_sha : ""},
                         {"protocol_id", exchange.protocol.id},
                         {"protocol_sha256", protocol_sha ? *protocol_sha : ""}});
  }
  nlohmann::json refused = nlohmann::json::array();
  for (const auto& problem : site.refused) {
    refused.push_back({{"file", problem.file.string()}, {"code", problem.error.code}});
  }
  auto config_sha = sha256_file_hex(site.base.file);
  nlohmann::json described = {{"config_file", site.base.file.string()},
                              {"config_sha256", config_sha ? *config_sha : ""},
                              {"exchanges", exchanges},
                              {"refused", refused}};
  if (site.exchanges.size() == 1) {  // the fields of a single-exchange kbix, kept for readers
    described["protocol_id"] = exchanges[0]["protocol_id"];
    described["protocol_sha256"] = exchanges[0]["protocol_sha256"];
  }
  return described;
}

void log_refusals(const SiteConfig& site) {
  for (const auto& problem : site.refused) {
    spdlog::error("exchange file refused, the other exchanges run without it: {}",
                  problem.error.describe());
  }
}

}  // namespace

Result<std::unique_ptr<Instance>> Instance::open(const fs::path& config_file, std::string role,
                                                 AuditActor actor) {
  auto site = load_site_config(config_file);
  if (!site) return fail(std::move(site).error());
  KBIX_TRY(check_secret_files(site->base));
  refuse_unsafe_exchanges(*site);
  if (site->exchanges.empty()) {
    if (!site->refused.empty()) return fail(site->refused.front().error);
    return fail("config.no_exchange",
                site->base.daemon.exchanges_dir.string() +
                    " holds no exchange file (*.toml); see docs/operator-guide.md");
  }

  std::unique_ptr<Instance> instance(new Instance());
  instance->role_ = std::move(role);
  instance->actor_ = std::move(actor);
  instance->site_ = std::move(*site);
  const Config& cfg = instance->site_.base;

  std::error_code error;
  for (const auto& dir :
       {cfg.daemon.state_dir, cfg.daemon.state_dir / "runs", cfg.daemon.output_dir}) {
    fs::create_directories(dir, error);
    if (error) return fail("io.create", "cannot create " + dir.string() + ": " + error.message());
  }
  // Nobody else may list or change the state directory; passing through (x) is left as set, so
  // the installed layout (0711, inbox/ and output/ group directories inside) keeps working.
  fs::permissions(cfg.daemon.state_dir,
                  fs::perms::group_read | fs::perms::group_write | fs::perms::others_read |
                      fs::perms::others_write,
                  fs::perm_options::remove, error);

  const fs::path lock_file = cfg.daemon.state_dir / "kbix.lock";
  instance->lock_fd_ = ::open(lock_file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (instance->lock_fd_ < 0) return fail("io.create", "cannot open " + lock_file.string());
  if (::flock(instance->lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    return fail("instance.locked",
                "another kbix process (the daemon or `kbix run once`) is "
                "using " +
                    cfg.daemon.state_dir.string());
  }

  // A crash during publication can leave a hidden temporary copy in the output directory; only
  // the process holding the lock may remove it.
  fs::directory_iterator entry(cfg.daemon.output_dir, error);
  for (; !error && entry != fs::directory_iterator(); entry.increment(error)) {
    const std::string name = entry->path().filename().string();
    if (name.starts_with(".") && name.find(".tmp-") != std::string::npos) {
      std::error_code ignored;
      fs::remove(entry->path(), ignored);
      spdlog::warn("removed an unfinished publication {}", entry->path().string());
    }
  }
  auto store = RunStore::open(cfg.daemon.state_dir / "runs.sqlite3");
  if (!store) return fail(std::move(store).error());
  instance->store_ = std::make_unique<RunStore>(std::move(*store));
  auto audit = AuditLog::open(cfg.audit);
  if (!audit) return fail(std::move(audit).error());
  instance->audit_ = std::make_unique<AuditLog>(std::move(*audit));
  AuditLog& log = *instance->audit_;

  nlohmann::json started = describe_site(instance->site_);
  started["pid"] = ::getpid();
  KBIX_TRY(log.append(AuditEvent{"", instance->actor_, instance->role_ + ".start", started}));
  log_refusals(instance->site_);
  for (const auto& problem : instance->site_.refused) {
    KBIX_TRY(log.append(AuditEvent{"",
                                   instance->actor_,
                                   "config.exchange_refused",
                                   {{"file", problem.file.string()},
                                    {"code", problem.error.code},
                                    {"message", problem.error.message}}}));
  }
  for (const auto& exchange : instance->site_.exchanges) {
    const auto report = check_keys(key_check_items(exchange), exchange.keys.key_passphrase_file,
                                   exchange.keys.expiry_warning_days);
    nlohmann::json keys = nlohmann::json::array();
    for (const auto& line : report.lines) {
      keys.push_back({{"label", line.label}, {"ok", line.ok}, {"detail", line.text}});
      if (!line.ok)
        spdlog::warn("key check ({}): {}: {}", exchange.exchange.name, line.label, line.text);
    }
    AuditEvent checked{"", instance->actor_, "keys.check", {{"ok", report.ok()}, {"keys", keys}}};
    checked.exchange = exchange.exchange.name;
    KBIX_TRY(log.append(checked));
    // Runs made before runs named their exchange belong to the exchange of their protocol.
    auto claimed = instance->store_->claim_unassigned(exchange.exchange.name, exchange.protocol.id);
    if (!claimed) return fail(std::move(claimed).error());
    if (*claimed > 0) {
      AuditEvent claim{"", instance->actor_, "runs.claimed", {{"runs", *claimed}}};
      claim.exchange = exchange.exchange.name;
      KBIX_TRY(log.append(claim));
    }
  }
  // No run executes yet: plaintext a crash left behind goes now (inv. 10).
  auto wiped = wipe_idle_plaintext(cfg, *instance->store_);
  if (!wiped) return fail(std::move(wiped).error());
  if (*wiped > 0) {
    spdlog::warn("removed the plaintext an interrupted step left in {} run(s)", *wiped);
    KBIX_TRY(log.append(AuditEvent{
        "", instance->actor_, "plaintext.wiped", {{"runs", *wiped}, {"at", "start-up"}}}));
  }
  // Operator actions a crash cut off between their audit entry and their effect (inv. 12).
  for (const auto& exchange : instance->site_.exchanges) {
    Exchange reconciler(exchange, *instance->store_, log);
    KBIX_TRY(reconciler.reconcile_actions());
  }
  return instance;
}

Status Instance::reload() {
  auto fresh = load_site_config(site_.base.file);
  if (fresh) {
    if (fresh->base.daemon.state_dir != site_.base.daemon.state_dir) {
      fresh = fail("config.reload", "state_dir cannot change while kbix runs; restart it");
    } else if (auto checked = check_secret_files(fresh->base); !checked) {
      fresh = fail(checked.error());
    }
  }
  if (!fresh) {
    (void)audit_->append(
        AuditEvent{"",
                   actor_,
                   "config.reload_failed",
                   {{"code", fresh.error().code}, {"message", fresh.error().message}}});
    return fail(std::move(fresh).error());
  }
  refuse_unsafe_exchanges(*fresh);
  // An exchange whose file is broken now keeps running as it was: a typo in one file never
  // stops an exchange that worked.
  for (const auto& problem : fresh->refused) {
    for (const auto& running : site_.exchanges) {
      if (running.exchange.file == problem.file && !fresh->find(running.exchange.name)) {
        fresh->exchanges.push_back(running);
      }
    }
  }
  std::sort(fresh->exchanges.begin(), fresh->exchanges.end(),
            [](const Config& a, const Config& b) { return a.exchange.name < b.exchange.name; });
  site_ = std::move(*fresh);
  log_refusals(site_);
  for (const auto& problem : site_.refused) {
    KBIX_TRY(audit_->append(AuditEvent{"",
                                       actor_,
                                       "config.exchange_refused",
                                       {{"file", problem.file.string()},
                                        {"code", problem.error.code},
                                        {"message", problem.error.message}}}));
  }
  return audit_->append(AuditEvent{"", actor_, "config.reload", describe_site(site_)});
}

Status Instance::close(std::string_view reason) {
  if (closed_) return ok();
  closed_ = true;
  KBIX_TRY(
      audit_->append(AuditEvent{"", actor_, role_ + ".stop", {{"reason", std::string(reason)}}}));
  return audit_->close();
}

Instance::~Instance() {
  if (!closed_ && audit_) (void)close("process ended");
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

}  // namespace kbix
