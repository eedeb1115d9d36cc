// Operator actions of a municipal export, audited before they take effect (inv. 12, 15):
// releasing a list's password to the operator who sends it, and recording the delivery.
#include <spdlog/spdlog.h>

#include "kbix/core/logging.hpp"
#include "kbix/core/untrusted_text.hpp"
#include "kbix/domain/output_scan.hpp"
#include "kbix/envelope/sealed_bytes.hpp"
#include "kbix/exchange/exchange.hpp"
#include "kbix/exchange/exchange_keys.hpp"

namespace kbix {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t kMaxOperatorText = 200;

// Operator text that lands in the audit log: plain one-line text without personal data.
Status check_operator_text(std::string_view text, std::string_view what) {
  if (text.size() > kMaxOperatorText || !is_safe_text(text) ||
      text.find('\n') != std::string_view::npos) {
    return fail("export.bad_text", std::string(what) + " must be one line of plain text, at most " +
                                       std::to_string(kMaxOperatorText) + " characters");
  }
  if (contains_insz_like_number(text)) {
    return fail("export.personal_data",
                std::string(what) +
                    " looks like it holds a national register number (INSZ); leave personal "
                    "data out (a ticket or request number is fine)");
  }
  return ok();
}

}  // namespace

const std::vector<std::string>& password_channels() {
  static const std::vector<std::string> channels = {"sms", "phone", "letter", "in-person"};
  return channels;
}

const std::vector<std::string>& delivery_channels() {
  static const std::vector<std::string> channels = {"sharepoint", "email", "sftp"};
  return channels;
}

Result<RunRecord> Exchange::export_run(const std::string& run_id) const {
  if (!config_.is_export()) {
    return fail("export.not_an_export", "exchange " + config_.exchange.name + " (protocol " +
                                            config_.protocol.id + ") is not an export");
  }
  auto found = store_.find(run_id);
  if (!found) return fail(std::move(found).error());
  if (!*found || (*found)->exchange != config_.exchange.name) {
    return fail("run.unknown", "no run " + run_id + " in exchange " + config_.exchange.name);
  }
  return **found;
}

Result<office::FilePassword> Exchange::release_password(const std::string& run_id,
                                                        const PasswordRelease& request,
                                                        const AuditActor& actor) {
  auto run = export_run(run_id);
  if (!run) return fail(std::move(run).error());
  if (std::find(password_channels().begin(), password_channels().end(), request.channel) ==
      password_channels().end()) {
    return fail("export.bad_channel",
                "the password goes by sms, phone, letter or in-person, never with the file");
  }
  if (!run->facts.value("password_sealed", false)) {
    return fail("export.no_password", "run " + run_id + " has no password (" +
                                          std::string(to_string(run->state)) +
                                          "; a cms list needs none)");
  }
  const int released = run->facts.value("password_releases", 0);
  if (released > 0 && !request.again) {
    return fail("export.password_released",
                "the password of run " + run_id +
                    " was released before; a second release needs --again --reason TEXT");
  }
  if (request.again && request.reason.empty()) {
    return fail("run.reason_required", "a second release needs --reason TEXT (it is audited)");
  }
  if (!request.reason.empty()) KBIX_TRY(check_operator_text(request.reason, "the reason"));
  const fs::path sealed = run_directory(run_id) / "password.p7m";
  std::error_code error;
  if (!fs::exists(sealed, error)) {
    return fail("export.no_password", "the sealed password of run " + run_id +
                                          " is gone (the protocol ended or "
                                          "retention removed it)");
  }
  auto opener = Opener::create(own_file_opener_config(config_));
  if (!opener) return fail(std::move(opener).error());
  auto bytes = open_bytes(*opener, sealed, office::FilePassword::kLength);
  if (!bytes) return fail(std::move(bytes).error());
  auto password = office::FilePassword::from_text(bytes->text());
  if (!password) return fail(std::move(password).error());
  // Audited before the value leaves: who, when (the entry's time), by which channel; never it.
  auto action = audit_intent(run_id, "export.password_released",
                             {{"channel", request.channel},
                              {"again", request.again},
                              {"reason", request.reason},
                              {"release", released + 1}},
                             actor);
  if (!action) return fail(std::move(action).error());
  KBIX_TRY(store_.complete_action(*action, [&] {
    return store_.merge_facts(run_id, {{"password_releases", released + 1}});
  }));
  return password;
}

Status Exchange::record_delivery(const std::string& run_id, const DeliveryRecord& request,
                                 const AuditActor& actor) {
  auto run = export_run(run_id);
  if (!run) return fail(std::move(run).error());
  if (config_.delivers_by_sftp()) {
    return fail("export.delivered_by_kbix",
                "exchange " + config_.exchange.name + " delivers its lists to " +
                    config_.sftp.connection.user + "@" + config_.sftp.connection.host + ":" +
                    config_.sftp.outbound_dir +
                    " itself ([export] delivery = \"sftp\"): kbix records the delivery of run " +
                    run_id + " when the drop is done (see kbix status); nothing to record by hand");
  }
  if (std::find(delivery_channels().begin(), delivery_channels().end(), request.channel) ==
      delivery_channels().end()) {
    return fail("export.bad_channel", "--channel is sharepoint, email or sftp");
  }
  if (!request.reference.empty()) KBIX_TRY(check_operator_text(request.reference, "--reference"));
  if (run->state != RunState::placed) {
    return fail("run.not_steppable", "run " + run_id + " is " + std::string(to_string(run->state)) +
                                         "; only a list placed in the outbox can be delivered");
  }
  std::unique_lock<std::mutex> gate;
  if (step_gate_ != nullptr) gate = std::unique_lock(*step_gate_);
  const nlohmann::json facts = {{"channel", request.channel}, {"reference", request.reference}};
  auto action = audit_intent(run_id, "export.delivered", facts, actor);
  if (!action) return fail(std::move(action).error());
  KBIX_TRY(store_.complete_action(*action, [&] {
    return store_.advance(run_id, RunState::placed, RunState::delivered, facts);
  }));
  const ScopedLogFields fields({run_id, "export.delivered", ""});
  spdlog::info("run {}: delivered by {} ({})", run_id, actor.name, request.channel);
  tell(ExchangeNoticeKind::state_changed, run_id, RunState::delivered);
  return ok();
}

// Invariant 15 and the protocols' end: when an export's protocol has ended, kbix removes what it
// still holds for it (outbox copies, lists, sealed passwords, the row references) and audits it.
Status Exchange::clean_ended_export(Clock::time_point now) {
  if (!config_.is_export() ||
      !protocol_ended(config_.protocol, std::chrono::floor<std::chrono::days>(now))) {
    return ok();
  }
  auto runs = store_.list(config_.exchange.name);
  if (!runs) return fail(std::move(runs).error());
  for (const auto& run : *runs) {
    if (run.facts.value("ended_cleaned", false)) continue;
    std::uint64_t removed = 0;
    std::error_code error;
    const fs::path outbox_copy = run.facts.value("outbox_file", std::string{});
    if (!outbox_copy.empty() && fs::remove(outbox_copy, error)) ++removed;
    const fs::path dir = run_directory(run.id);
    if (fs::exists(dir, error)) removed += static_cast<std::uint64_t>(fs::remove_all(dir, error));
    if (error) return fail("io.remove", "cannot remove " + dir.string());
    if (!is_terminal(run.state)) KBIX_TRY(store_.cancel(run.id, "the protocol has ended"));
    KBIX_TRY(store_.merge_facts(run.id, {{"ended_cleaned", true}}));
    KBIX_TRY(record(
        run.id, "export.protocol_ended",
        {{"files_removed", removed},
         {"valid_until", config_.protocol.valid_until ? format_date(*config_.protocol.valid_until)
                                                      : std::string{}}}));
  }
  std::error_code error;
  if (fs::remove(references_file(), error)) {
    KBIX_TRY(record("", "export.protocol_ended", {{"references_removed", true}}));
  }
  return ok();
}

}  // namespace kbix
