// The `kbix` command line: parses arguments, runs one command, returns the process exit code.
//
// Exit codes (documented in --help and docs/operator-guide.md):
//   0  success
//   1  runtime failure (a run failed, a check found a problem, the daemon is unreachable)
//   2  bad usage or bad configuration
#pragma once

namespace kbix {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

int run_cli(int argc, char** argv);

}  // namespace kbix
