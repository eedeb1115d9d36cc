// Operator actions (start, cancel, retry) are audited before they take effect (inv. 12):
//   1. the action is recorded in the run store (not audited yet),
//   2. its audit entry is written: when that fails the action is dropped and refused,
//   3. the action is marked audited,
//   4. the state change and the removal of the action commit in one transaction.
// A crash between 1 and 4 leaves the action in the store and the state unchanged; start-up
// (reconcile_actions) audits it as abandoned, except an audited cancel, which it applies: a
// cancel may wait there on purpose for a step under way (see cancel_run).
#include <spdlog/spdlog.h>

#include <random>

#include "kbix/exchange/exchange.hpp"

namespace kbix {

namespace {

std::string new_action_id() {
  std::random_device device;
  const std::uint64_t bits = (static_cast<std::uint64_t>(device()) << 32) ^ device();
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(bits));
  return text;
}

}  // namespace

// An action recorded before actions named their exchange belongs to whichever exchange looks.
bool Exchange::is_mine(const OperatorAction& action) const {
  return action.details.value("exchange", config_.exchange.name) == config_.exchange.name;
}

Result<std::string> Exchange::audit_intent(const std::string& run_id, const std::string& event,
                                           nlohmann::json details, const AuditActor& actor) {
  OperatorAction action{new_action_id(), run_id, event, false, details};
  action.details["exchange"] = config_.exchange.name;  // whose worker applies or abandons it
  KBIX_TRY(store_.begin_action(action));
  details["action_id"] = action.id;
  if (auto audited = record(run_id, event, details, actor); !audited) {
    (void)store_.drop_action(action.id);
    return fail("audit.unavailable", "refused: its audit entry cannot be written (" +
                                         audited.error().describe() + "); nothing was changed");
  }
  KBIX_TRY(store_.mark_action_audited(action.id));
  return action.id;
}

Result<bool> Exchange::cancel_run(const std::string& run_id, const std::string& reason,
                                  const AuditActor& actor) {
  auto found = store_.find(run_id);
  if (!found) return fail(std::move(found).error());
  if (!*found) return fail("run.unknown", "no run " + run_id);
  if ((*found)->state == RunState::done || (*found)->state == RunState::cancelled) {
    return fail("run.already_finished",
                "run " + run_id + " is already " + std::string(to_string((*found)->state)));
  }
  auto action = audit_intent(run_id, "run.cancel", {{"reason", reason}}, actor);
  if (!action) return fail(std::move(action).error());
  std::unique_lock<std::mutex> gate;
  if (step_gate_ != nullptr) {
    gate = std::unique_lock(*step_gate_, std::try_to_lock);
    if (!gate.owns_lock()) {
      spdlog::info("run {}: cancel waits for the step under way to commit", run_id);
      return false;  // applied by the worker right after its step (apply_pending_cancels)
    }
  }
  KBIX_TRY(
      apply_cancel(OperatorAction{*action, run_id, "run.cancel", true, {{"reason", reason}}}, ""));
  return true;
}

Status Exchange::apply_cancel(const OperatorAction& action, std::string_view applied_after) {
  const std::string reason = action.details.value("reason", std::string{});
  auto applied =
      store_.complete_action(action.id, [&] { return store_.cancel(action.run_id, reason); });
  if (!applied) {
    if (applied.error().code != "run.already_finished") return applied;
    (void)store_.drop_action(action.id);  // finished meanwhile: nothing left to cancel
  }
  (void)wipe_work(action.run_id, false);     // a cancelled run never publishes (inv. 10)
  if (!applied_after.empty() || !applied) {  // the intent entry alone says it for a cancel now
    return record(action.run_id, "run.cancel_applied",
                  {{"action_id", action.id},
                   {"outcome", applied ? "cancelled" : "already finished"},
                   {"after", applied_after.empty() ? "its request" : std::string(applied_after)}});
  }
  return ok();
}

Status Exchange::apply_pending_cancels() {
  auto pending = store_.pending_actions();
  if (!pending) return fail(std::move(pending).error());
  for (const auto& action : *pending) {
    if (!is_mine(action) || action.action != "run.cancel" || !action.audited) continue;
    KBIX_TRY(apply_cancel(action, "the step under way"));
  }
  return ok();
}

Status Exchange::retry_run(const std::string& run_id, const AuditActor& actor) {
  auto found = store_.find(run_id);
  if (!found) return fail(std::move(found).error());
  if (!*found) return fail("run.unknown", "no run " + run_id);
  if ((*found)->state != RunState::failed || !(*found)->retryable) {
    return store_.retry(run_id);  // the store names why (run.not_retryable)
  }
  auto action = audit_intent(run_id, "run.retry", {{"after", (*found)->failure_code}}, actor);
  if (!action) return fail(std::move(action).error());
  return store_.complete_action(*action, [&] { return store_.retry(run_id); });
}

Status Exchange::reconcile_actions() {
  auto pending = store_.pending_actions();
  if (!pending) return fail(std::move(pending).error());
  for (const auto& action : *pending) {
    if (!is_mine(action)) continue;
    if (action.action == "run.cancel" && action.audited) {
      KBIX_TRY(apply_cancel(action, "start-up"));
      continue;
    }
    KBIX_TRY(record(action.run_id, "operator.action_abandoned",
                    {{"action_id", action.id},
                     {"action", action.action},
                     {"audited", action.audited},
                     {"note",
                      "the process stopped before the action took effect; nothing "
                      "changed (repeat the command if it is still wanted)"}}));
    KBIX_TRY(store_.drop_action(action.id));
    spdlog::warn("operator action {} ({}) never took effect; audited as abandoned", action.id,
                 action.action);
  }
  return ok();
}

}  // namespace kbix
