// Reading the privacy sections of a protocol file: [domains] and [disclosure] (internal to core).
#pragma once

#include <toml++/toml.h>

#include <filesystem>

#include "kbix/core/protocol.hpp"
#include "kbix/core/toml_reader.hpp"

namespace kbix::detail {

// Reads the optional [domains] and [disclosure] tables of `top` into `protocol` (after its column
// lists are known). Errors name FILE:LINE:COL like every other protocol key.
Status read_privacy_sections(TableReader& top, const std::filesystem::path& file,
                             Protocol& protocol);

}  // namespace kbix::detail
