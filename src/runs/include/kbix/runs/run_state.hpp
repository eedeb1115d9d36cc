// The states of an exchange run (DESIGN.md §1). The happy path runs top to bottom; failed and
// cancelled end a run early (a failed run marked retryable can be resumed where it failed).
#pragma once

#include <optional>
#include <span>
#include <string_view>

#include "kbix/core/export_delivery.hpp"
#include "kbix/core/protocol.hpp"

namespace kbix {

enum class RunState {
  planned,
  extract_sealed,
  outbound_sealed,
  uploaded,
  awaiting_return,
  return_downloaded,
  return_verified,
  merged,
  published,
  cleaned,
  // An export (municipal list, DESIGN.md §2): extract_sealed -> list_sealed -> placed ->
  // delivered -> done.
  list_sealed,  // the protected file made, its password sealed to AgII's own certificate
  placed,       // the file is in the exchange's outbox; an operator (or kbix, by SFTP) delivers it
  delivered,    // the delivery is recorded; the outbox copy is removed next
  done,
  failed,
  cancelled
};

std::string_view to_string(RunState state);
std::optional<RunState> parse_run_state(std::string_view text);
bool is_terminal(RunState state);  // done, failed, cancelled
// The happy path's successor (of a round trip, or of an export).
std::optional<RunState> next_state(RunState state, ProtocolKind kind = ProtocolKind::roundtrip);

// The happy path of a run as one table: the state a run is in, the step that moves it on, the
// state that step commits and the audit event it writes. The engine (kbix/exchange) checks every
// step it performs against this table, and the tests read it to know the expected sequence.
// A step may write `alternative_event` instead (an upload found already done after a crash).
// Every step is retried only for passing failures (kbix/sftp/retry.hpp: is_retryable_failure).
struct RunTransition {
  RunState from;
  std::string_view step;
  RunState to;
  std::string_view audit_event;
  std::string_view alternative_event;  // empty when there is none
  bool by_poll;                        // performed by the return poll, not by a step
  bool by_operator = false;            // performed by an operator's command (export delivered)
  // ... except for an exchange that delivers by SFTP ([export] delivery = "sftp"): there the row
  // is kbix's own step (the drop to the municipality's server), not an operator's.
  bool by_kbix_for_sftp = false;
};

// One table per protocol kind: the round trip's, and the export's.
std::span<const RunTransition> run_transitions(ProtocolKind kind = ProtocolKind::roundtrip);
// The row that leaves `state`, or nullptr for done, failed and cancelled (and for a state the
// kind never passes through).
const RunTransition* transition_from(RunState state, ProtocolKind kind = ProtocolKind::roundtrip);
// Whether an operator performs `row` for an exchange delivering its lists this way.
bool performed_by_operator(const RunTransition& row,
                           ExportDelivery delivery = ExportDelivery::outbox);
// A run waits for something outside kbix here: a partner's return (a row done by the poll), an
// operator's delivery (a row performed by an operator for this kind of delivery). A placed run of
// an exchange that delivers by SFTP is not waiting: kbix's next step drops the list.
bool is_waiting(RunState state, ExportDelivery delivery = ExportDelivery::outbox);

}  // namespace kbix
