// Reading [notify] and [metrics] (internal to the config module; called by load_config).
#pragma once

#include <filesystem>

#include "kbix/config/ops_config.hpp"
#include "kbix/core/toml_reader.hpp"

namespace kbix::detail {

// Reads the optional sections from the root table; problems are recorded in `root` or returned.
Status read_operations_sections(TableReader& root, const std::filesystem::path& file,
                                const std::filesystem::path& dir, NotifyConfig& notify,
                                MetricsConfig& metrics);

}  // namespace kbix::detail
