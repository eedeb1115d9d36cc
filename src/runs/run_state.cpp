#include "kbix/runs/run_state.hpp"

#include <array>
#include <utility>

namespace kbix {

namespace {
constexpr std::array<std::pair<RunState, std::string_view>, 13> kNames = {{
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
    {RunState::done, "done"},
    {RunState::failed, "failed"},
    {RunState::cancelled, "cancelled"},
}};
}  // namespace

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

std::optional<RunState> next_state(RunState state) {
  if (static_cast<int>(state) >= static_cast<int>(RunState::done)) return std::nullopt;
  return static_cast<RunState>(static_cast<int>(state) + 1);
}

}  // namespace kbix
