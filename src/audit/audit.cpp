#include "kbix/audit/audit.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <sstream>

#include "internal/audit_internal.hpp"
#include "internal/checkpoint.hpp"
#include "kbix/core/digest.hpp"
#include "kbix/core/file_safety.hpp"
#include "kbix/core/untrusted_text.hpp"
#include "kbix/core/utc_time.hpp"
#include "kbix/domain/output_scan.hpp"
#include "kbix/envelope/keys.hpp"

namespace kbix {

namespace fs = std::filesystem;

AuditActor scheduler_actor() {
  return AuditActor{"scheduler", std::nullopt};
}

std::string audit_canonical(const nlohmann::json& entry_without_hash) {
  return dump_json(entry_without_hash);
}

std::string audit_entry_hash(const nlohmann::json& entry_without_hash) {
  return sha256_hex(audit_canonical(entry_without_hash));
}

std::string audit_checkpoint_message(std::uint64_t seq, std::string_view head,
                                     std::string_view time, std::string_view prev) {
  std::string message = "kbix-audit-checkpoint\nseq=" + std::to_string(seq) +
                        "\nhead=" + std::string(head) + "\ntime=" + std::string(time) + "\n";
  if (!prev.empty()) message += "prev=" + std::string(prev) + "\n";
  return message;
}

namespace detail {

std::string audit_time_now() {
  return utc_timestamp_millis(std::chrono::system_clock::now());
}

Status check_details(const nlohmann::json& value, const std::string& path) {
  if (value.is_number_float()) {
    return fail("audit.float", "audit detail " + path + " is a float (not canonical)");
  }
  if (value.is_string() && contains_insz_like_number(value.get_ref<const std::string&>())) {
    return fail("audit.personal_value",
                "audit detail " + path + " looks like it holds an INSZ; refused");
  }
  if (value.is_object()) {
    for (const auto& [key, inner] : value.items()) {
      if (contains_insz_like_number(key)) {
        return fail("audit.personal_value", "an audit detail key looks like an INSZ; refused");
      }
      KBIX_TRY(check_details(inner, path + "." + key));
    }
  }
  if (value.is_array()) {
    for (const auto& inner : value) KBIX_TRY(check_details(inner, path + "[]"));
  }
  return ok();
}

}  // namespace detail

struct AuditLog::State {
  AuditSettings options;
  std::mutex mutex;
  int fd = -1;
  std::uint64_t next_seq = 1;
  std::string head = std::string(64, '0');
  std::int64_t file_bytes = 0;
  int since_checkpoint = 0;
  std::optional<PrivateKey> key;
  std::string signer_sha256;
  std::string last_checkpoint_hash = detail::kNoCheckpoint;
  bool journal_warned = false;
  bool closed = false;

  fs::path log_path() const { return options.directory / "audit.jsonl"; }
  fs::path checkpoint_path() const { return options.directory / "checkpoints.jsonl"; }

  ~State() {
    if (fd >= 0) ::close(fd);
  }

  Status open_file() {
    fd = ::open(log_path().c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return fail("audit.io", "cannot open " + log_path().string());
    struct stat info {};
    ::fstat(fd, &info);
    file_bytes = info.st_size;
    return ok();
  }

  static Status append_line(int file, const std::string& line, const fs::path& path) {
    std::size_t written = 0;
    while (written < line.size()) {
      const ssize_t n = ::write(file, line.data() + written, line.size() - written);
      if (n <= 0) return fail("audit.io", "cannot write " + path.string() + " (disk full?)");
      written += static_cast<std::size_t>(n);
    }
    if (::fsync(file) != 0) return fail("audit.io", "cannot fsync " + path.string());
    return ok();
  }

  Status rotate() {
    ::close(fd);
    fd = -1;
    char name[64];
    std::snprintf(name, sizeof name, "audit-%012llu.jsonl",
                  static_cast<unsigned long long>(next_seq));
    std::error_code error;
    fs::rename(log_path(), options.directory / name, error);
    if (error) return fail("audit.io", "cannot rotate " + log_path().string());
    KBIX_TRY(sync_directory(options.directory));
    return open_file();
  }

  Status write_entry(const AuditEvent& event) {
    KBIX_TRY(detail::check_details(event.details, "details"));
    if (file_bytes >= options.rotate_bytes) KBIX_TRY(rotate());
    nlohmann::json entry = {
        {"seq", next_seq},
        {"time", detail::audit_time_now()},
        {"run_id", event.run_id},
        {"actor",
         {{"name", event.actor.name},
          {"uid", event.actor.uid ? nlohmann::json(*event.actor.uid) : nlohmann::json()}}},
        {"event", event.event},
        {"details", event.details.is_null() ? nlohmann::json::object() : event.details},
        {"prev", head}};
    if (!event.exchange.empty()) entry["exchange"] = event.exchange;
    std::string hash;
    try {
      hash = audit_entry_hash(entry);
    } catch (const nlohmann::json::exception&) {
      return fail("audit.encoding", "audit entry " + event.event + " holds invalid UTF-8");
    }
    entry["hash"] = hash;
    const std::string line = audit_canonical(entry) + "\n";
    KBIX_TRY(append_line(fd, line, log_path()));
    file_bytes += static_cast<std::int64_t>(line.size());
    head = hash;
    ++next_seq;
    ++since_checkpoint;
    return ok();
  }

  Status write_checkpoint(std::string_view reason) {
    if (!key) return ok();
    const std::uint64_t seq = next_seq - 1;
    const std::string time = detail::audit_time_now();
    const std::string message = audit_checkpoint_message(seq, head, time, last_checkpoint_hash);
    auto signature = detail::sign_checkpoint(*key, message);
    if (!signature) return fail(std::move(signature).error());
    const nlohmann::json checkpoint = {{"seq", seq},
                                       {"head", head},
                                       {"time", time},
                                       {"reason", std::string(reason)},
                                       {"algorithm", signature->algorithm},
                                       {"signer_sha256", signer_sha256},
                                       {"signature", signature->base64},
                                       {"prev_checkpoint", last_checkpoint_hash}};
    const std::string line = dump_json(checkpoint);
    KBIX_TRY(append_to(checkpoint_path(), line));
    last_checkpoint_hash = detail::checkpoint_line_hash(line);
    since_checkpoint = 0;
    // The copies outside the state directory are what a consistent local cut cannot reach.
    if (options.checkpoint_journal &&
        !detail::send_checkpoint_to_journal(line, options.directory, seq) && !journal_warned) {
      spdlog::warn("audit: no system journal to copy checkpoints to (checkpoint_journal)");
      journal_warned = true;
    }
    if (options.checkpoint_copy) KBIX_TRY(append_to(*options.checkpoint_copy, line));
    return ok();
  }

  static Status append_to(const fs::path& path, const std::string& line) {
    const int file = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (file < 0) return fail("audit.io", "cannot open " + path.string());
    auto written = append_line(file, line + "\n", path);
    ::close(file);
    return written;
  }

  // Refuses to write on a log that lost entries its last signed checkpoint covers (inv. 9).
  Status check_against_checkpoints(const detail::AuditTail& tail) {
    const auto lines = detail::read_checkpoint_lines(checkpoint_path());
    if (!lines || lines->empty()) {
      if (tail.last_seq == 0) return ok();
      spdlog::critical("audit: {} has {} entries but {} is missing or empty", log_path().string(),
                       tail.last_seq, checkpoint_path().string());
      return fail("audit.checkpoints_missing",
                  checkpoint_path().string() + " is missing or empty while the log holds " +
                      std::to_string(tail.last_seq) +
                      " entries: checkpoints were deleted; kbix will not write on (run `kbix "
                      "audit verify --against FILE` and investigate)");
    }
    const auto last = detail::parse_checkpoint(lines->back());
    if (!last) {
      return fail("audit.malformed", checkpoint_path().string() +
                                         ": the last line is not a "
                                         "checkpoint; kbix will not "
                                         "write on");
    }
    if (last->seq > tail.last_seq) {
      spdlog::critical("audit: the log ends at entry {} but its last signed checkpoint covers {}",
                       tail.last_seq, last->seq);
      return fail("audit.truncated",
                  log_path().string() + " ends at entry " + std::to_string(tail.last_seq) +
                      " but the last signed checkpoint covers entry " + std::to_string(last->seq) +
                      ": entries were cut off; kbix will not write on (run `kbix audit verify`)");
    }
    if (last->seq == tail.last_seq && last->seq > 0 && last->head != tail.last_hash) {
      return fail("audit.checkpoint_mismatch",
                  log_path().string() + ": entry " + std::to_string(last->seq) +
                      " differs from the last signed checkpoint; kbix will not write on");
    }
    last_checkpoint_hash = detail::checkpoint_line_hash(lines->back());
    return ok();
  }
};

AuditLog::AuditLog(std::unique_ptr<State> state) : state_(std::move(state)) {}
AuditLog::AuditLog(AuditLog&&) noexcept = default;
AuditLog& AuditLog::operator=(AuditLog&&) noexcept = default;
AuditLog::~AuditLog() = default;

Result<AuditLog> AuditLog::open(const AuditSettings& options) {
  auto state = std::make_unique<State>();
  state->options = options;
  std::error_code error;
  fs::create_directories(options.directory, error);
  if (error) return fail("audit.io", "cannot create " + options.directory.string());
  fs::permissions(options.directory, fs::perms::owner_all, error);
  if (!options.signing_key.empty()) {
    auto key = PrivateKey::load(options.signing_key, options.key_passphrase_file);
    if (!key) return fail(std::move(key).error());
    KBIX_ASSIGN_OR_RETURN(auto certificate, Certificate::load(options.signing_certificate));
    if (!key->matches(certificate)) {
      return fail("audit.key_mismatch", options.signing_key.string() + " does not belong to " +
                                            options.signing_certificate.string());
    }
    state->key.emplace(std::move(*key));
    state->signer_sha256 = certificate.fingerprint_sha256();
  }
  KBIX_ASSIGN_OR_RETURN(auto tail, detail::recover_tail(state->log_path()));
  if (tail.last_seq > 0) {
    state->next_seq = tail.last_seq + 1;
    state->head = tail.last_hash;
  } else {
    // a fresh audit.jsonl after rotation continues from the newest rotated file
    KBIX_ASSIGN_OR_RETURN(auto rotated, detail::last_rotated_tail(options.directory));
    if (rotated.last_seq > 0) {
      state->next_seq = rotated.last_seq + 1;
      state->head = rotated.last_hash;
    }
  }
  if (state->key) {
    detail::AuditTail last = tail;
    last.last_seq = state->next_seq - 1;
    last.last_hash = state->head;
    KBIX_TRY(state->check_against_checkpoints(last));
  }
  KBIX_TRY(state->open_file());
  AuditLog log(std::move(state));
  if (!tail.torn_file.empty()) {
    KBIX_TRY(log.append(AuditEvent{"",
                                   scheduler_actor(),
                                   "audit.torn_tail",
                                   {{"moved_to", tail.torn_file},
                                    {"bytes", tail.torn_bytes},
                                    {"note", "a crash interrupted the last write"}}}));
  }
  KBIX_TRY(log.checkpoint("open"));
  return log;
}

Status AuditLog::append(const AuditEvent& event) {
  std::lock_guard lock(state_->mutex);
  if (state_->closed) return fail("audit.closed", "the audit log is closed");
  KBIX_TRY(state_->write_entry(event));
  if (state_->since_checkpoint >= state_->options.checkpoint_every) {
    return state_->write_checkpoint("every " + std::to_string(state_->options.checkpoint_every));
  }
  return ok();
}

Status AuditLog::checkpoint(std::string_view reason) {
  std::lock_guard lock(state_->mutex);
  return state_->write_checkpoint(reason);
}

Status AuditLog::close() {
  std::lock_guard lock(state_->mutex);
  if (state_->closed) return ok();
  auto written = state_->write_checkpoint("close");
  state_->closed = true;
  return written;
}

std::uint64_t AuditLog::next_sequence() const {
  std::lock_guard lock(state_->mutex);
  return state_->next_seq;
}

std::string AuditLog::head_hash() const {
  std::lock_guard lock(state_->mutex);
  return state_->head;
}

}  // namespace kbix
