// The report commands of `kbix` (internal to the app module): `kbix run report ID` and
// `kbix evidence`. They read the state directory and never change it.
#pragma once

#include <CLI/CLI.hpp>

#include "internal/cli_commands.hpp"

namespace kbix::cli {

// Adds `report` under `run` and `evidence` under `app`; results go to `exit_code`.
void add_report_commands(CLI::App& app, CLI::App& run, GlobalOptions& options, int& exit_code);

}  // namespace kbix::cli
