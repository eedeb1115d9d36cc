// The states of an exchange run (DESIGN.md §1). The happy path runs top to bottom; failed and
// cancelled end a run early (a failed run marked retryable can be resumed where it failed).
#pragma once

#include <optional>
#include <string_view>

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
  done,
  failed,
  cancelled
};

std::string_view to_string(RunState state);
std::optional<RunState> parse_run_state(std::string_view text);
bool is_terminal(RunState state);                    // done, failed, cancelled
std::optional<RunState> next_state(RunState state);  // the happy path's successor

}  // namespace kbix
