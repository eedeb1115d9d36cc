// Exit codes of every kbix process (documented in `kbix --help` and docs/operator-guide.md).
//
//   0  success
//   1  runtime failure (a run failed, a check found a problem, the daemon is unreachable)
//   2  bad usage or bad configuration
//
// They live in core because both the command line and the daemon end a process with them.
#pragma once

namespace kbix {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

}  // namespace kbix
