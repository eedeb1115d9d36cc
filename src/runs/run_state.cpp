#include "kbix/runs/run_state.hpp"

#include <array>
#include <utility>

namespace kbix {

namespace {
constexpr std::array<std::pair<RunState, std::string_view>, 16> kNames = {{
    {RunState::planned, "planned"},
    {RunState::extract_sealed, "extract_sealed"},
    {RunState::outbound_sealed, "outbound_sealed"},
    {RunState::uploaded, "uploaded"},
    {RunState::awaiting_return, "awaiting_return"},
    {RunState::return_downloaded, "return_downloaded"},
    {RunState::return_verified, "return_verified"},
    {RunState::merged, "merged"},
    {RunState::published, "published"},
    {RunState::cleaned, "cleaned"},
    {RunState::list_sealed, "list_sealed"},
    {RunState::placed, "placed"},
    {RunState::delivered, "delivered"},
    {RunState::done, "done"},
    {RunState::failed, "failed"},
    {RunState::cancelled, "cancelled"},
}};

constexpr std::array<RunTransition, 10> kTransitions = {{
    {RunState::planned, "seal_extract", RunState::extract_sealed, "run.extract_sealed", "", false},
    {RunState::extract_sealed, "seal_outbound", RunState::outbound_sealed, "run.outbound_sealed",
     "", false},
    {RunState::outbound_sealed, "upload_outbound", RunState::uploaded, "run.upload",
     "run.upload_confirmed", false},
    {RunState::uploaded, "await_return", RunState::awaiting_return, "run.awaiting_return", "",
     false},
    {RunState::awaiting_return, "download_return", RunState::return_downloaded, "run.download", "",
     true},
    {RunState::return_downloaded, "verify_return", RunState::return_verified, "run.return_verified",
     "", false},
    {RunState::return_verified, "merge_return", RunState::merged, "run.merged", "", false},
    {RunState::merged, "publish_output", RunState::published, "run.published", "", false},
    {RunState::published, "clean_up", RunState::cleaned, "run.cleaned", "", false},
    {RunState::cleaned, "finish", RunState::done, "run.done", "", false},
}};

// A municipal export: one-way; the list waits in the outbox until an operator records its
// delivery (`kbix export delivered`), or, when the exchange delivers by SFTP, until kbix has
// dropped it on the municipality's server; then the outbox copy is removed.
constexpr std::array<RunTransition, 5> kExportTransitions = {{
    {RunState::planned, "seal_extract", RunState::extract_sealed, "run.extract_sealed", "", false},
    {RunState::extract_sealed, "make_list", RunState::list_sealed, "export.list_sealed", "", false},
    {RunState::list_sealed, "place_list", RunState::placed, "export.placed", "", false},
    {RunState::placed, "deliver", RunState::delivered, "export.delivered", "", false, true, true},
    {RunState::delivered, "finish", RunState::done, "run.done", "", false},
}};
}  // namespace

std::span<const RunTransition> run_transitions(ProtocolKind kind) {
  if (kind == ProtocolKind::export_) return kExportTransitions;
  return kTransitions;
}

const RunTransition* transition_from(RunState state, ProtocolKind kind) {
  for (const auto& row : run_transitions(kind)) {
    if (row.from == state) return &row;
  }
  return nullptr;
}

bool performed_by_operator(const RunTransition& row, ExportDelivery delivery) {
  return row.by_operator && !(row.by_kbix_for_sftp && delivery == ExportDelivery::sftp);
}

bool is_waiting(RunState state, ExportDelivery delivery) {
  for (const ProtocolKind kind : {ProtocolKind::roundtrip, ProtocolKind::export_}) {
    const RunTransition* row = transition_from(state, kind);
    if (row != nullptr && (row->by_poll || performed_by_operator(*row, delivery))) return true;
  }
  return false;
}

std::string_view to_string(RunState state) {
  return kNames[static_cast<std::size_t>(state)].second;
}

std::optional<RunState> parse_run_state(std::string_view text) {
  for (const auto& [state, name] : kNames) {
    if (name == text) return state;
  }
  return std::nullopt;
}

bool is_terminal(RunState state) {
  return state == RunState::done || state == RunState::failed || state == RunState::cancelled;
}

std::optional<RunState> next_state(RunState state, ProtocolKind kind) {
  const RunTransition* row = transition_from(state, kind);
  if (row == nullptr) return std::nullopt;
  return row->to;
}

}  // namespace kbix
