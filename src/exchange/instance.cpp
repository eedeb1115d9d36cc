#include "kbix/exchange/instance.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <unistd.h>

#include "kbix/core/digest.hpp"
#include "kbix/core/file_safety.hpp"
#include "kbix/envelope/keys.hpp"
#include "kbix/exchange/exchange.hpp"

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
  std::vector<fs::path> secrets = {config.keys.signing_key, config.keys.decryption_key,
                                   config.sftp.identity_file};
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

AuditOptions audit_options(const Config& config) {
  AuditOptions options;
  options.directory = config.daemon.state_dir / "audit";
  options.checkpoint_every = config.audit.checkpoint_every;
  options.rotate_bytes = config.audit.rotate_bytes;
  options.signing_key = config.keys.signing_key;
  options.signing_certificate = config.keys.signing_certificate;
  options.key_passphrase_file = config.keys.key_passphrase_file;
  options.checkpoint_copy = config.audit.checkpoint_copy;
  options.checkpoint_journal = config.audit.checkpoint_journal;
  return options;
}

Result<std::unique_ptr<Instance>> Instance::open(const fs::path& config_file, std::string role,
                                                 AuditActor actor) {
  auto config = load_config(config_file);
  if (!config) return fail(std::move(config).error());
  KBIX_TRY(check_secret_files(*config));

  std::unique_ptr<Instance> instance(new Instance());
  instance->role_ = std::move(role);
  instance->actor_ = std::move(actor);
  instance->config_ = std::move(*config);
  const Config& cfg = instance->config_;

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
  auto audit = AuditLog::open(audit_options(cfg));
  if (!audit) return fail(std::move(audit).error());
  instance->audit_ = std::make_unique<AuditLog>(std::move(*audit));

  auto config_sha = sha256_file_hex(cfg.file);
  auto protocol_sha = sha256_file_hex(cfg.protocol_file);
  const auto report =
      check_keys(key_check_items(cfg), cfg.keys.key_passphrase_file, cfg.keys.expiry_warning_days);
  nlohmann::json keys = nlohmann::json::array();
  for (const auto& line : report.lines) {
    keys.push_back({{"label", line.label}, {"ok", line.ok}, {"detail", line.text}});
    if (!line.ok) spdlog::warn("key check: {}: {}", line.label, line.text);
  }
  AuditEvent start{"",
                   instance->actor_,
                   instance->role_ + ".start",
                   {{"config_file", cfg.file.string()},
                    {"config_sha256", config_sha ? *config_sha : ""},
                    {"protocol_id", cfg.protocol.id},
                    {"protocol_sha256", protocol_sha ? *protocol_sha : ""},
                    {"pid", ::getpid()}}};
  KBIX_TRY(instance->audit_->append(start));
  KBIX_TRY(instance->audit_->append(
      AuditEvent{"", instance->actor_, "keys.check", {{"ok", report.ok()}, {"keys", keys}}}));
  // No run executes yet: plaintext a crash left behind goes now (inv. 10).
  auto wiped = wipe_idle_plaintext(cfg, *instance->store_);
  if (!wiped) return fail(std::move(wiped).error());
  if (*wiped > 0) {
    spdlog::warn("removed the plaintext an interrupted step left in {} run(s)", *wiped);
    KBIX_TRY(instance->audit_->append(AuditEvent{
        "", instance->actor_, "plaintext.wiped", {{"runs", *wiped}, {"at", "start-up"}}}));
  }
  // Operator actions a crash cut off between their audit entry and their effect (inv. 12).
  Exchange reconciler(cfg, *instance->store_, *instance->audit_);
  KBIX_TRY(reconciler.reconcile_actions());
  return instance;
}

Status Instance::reload() {
  auto fresh = load_config(config_.file);
  if (!fresh) {
    (void)audit_->append(
        AuditEvent{"",
                   actor_,
                   "config.reload_failed",
                   {{"code", fresh.error().code}, {"message", fresh.error().message}}});
    return fail(std::move(fresh).error());
  }
  if (fresh->daemon.state_dir != config_.daemon.state_dir) {
    return fail("config.reload", "state_dir cannot change while kbix runs; restart it");
  }
  KBIX_TRY(check_secret_files(*fresh));
  auto sha = sha256_file_hex(fresh->file);
  config_ = std::move(*fresh);
  return audit_->append(
      AuditEvent{"",
                 actor_,
                 "config.reload",
                 {{"config_file", config_.file.string()}, {"config_sha256", sha ? *sha : ""}}});
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
