// Reading the [export] section of an export protocol (internal to core; see ExportRules).
#pragma once

#include <filesystem>

#include "kbix/core/protocol.hpp"
#include "kbix/core/toml_reader.hpp"

namespace kbix::detail {

// Reads [export] of `top` into protocol.export_rules, after the column lists and [domains] are
// known, and checks it against them. Errors are "FILE:LINE:COL: message", codes "config.*"
// ("config.exceeds_legal_cap" for a field beyond the legal article's maximum).
Status read_export_section(TableReader& top, const std::filesystem::path& file, Protocol& protocol);

}  // namespace kbix::detail
