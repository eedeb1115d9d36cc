// StatusView: runs as JSON (the control socket's answers) and as text for operators.
//
// Only run ids, states, times, counts, file names, sizes and hashes: a status never holds
// personal data, so it may be pasted into a ticket.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "kbix/runs/run_store.hpp"

namespace kbix {

nlohmann::json run_to_json(const RunRecord& run);

// {"runs":[...], "next_scheduled_run": "..."|null}
nlohmann::json status_to_json(const std::vector<RunRecord>& runs,
                              const std::optional<std::string>& next_scheduled_run);

// One block per run: state, since, progress, counts, overdue, failure and how to go on.
std::string format_status(const nlohmann::json& status);
std::string format_run(const nlohmann::json& run);

}  // namespace kbix
