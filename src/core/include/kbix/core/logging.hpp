// Logging setup: spdlog to stderr, or to the journal when started by systemd.
//
// What this does NOT do: filter personal data. The guard is in the types: an Insz formats as
// "<insz>", and messages are written to name files, lines and counts only (invariant 5).
#pragma once

#include <string_view>

#include "kbix/core/result.hpp"

namespace kbix {

// `level`: trace, debug, info, warn, error, critical, off. Error code "config.value".
Status setup_logging(std::string_view level);

}  // namespace kbix
