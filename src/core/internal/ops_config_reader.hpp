// Reading [notify] and [metrics] (internal to the core module; called by load_config).
#pragma once

#include <filesystem>

#include "internal/toml_reader.hpp"
#include "kbix/core/ops_config.hpp"

namespace kbix::detail {

// Reads the optional sections from the root table; problems are recorded in `root` or returned.
Status read_operations_sections(TableReader& root, const std::filesystem::path& file,
                                const std::filesystem::path& dir, NotifyConfig& notify,
                                MetricsConfig& metrics);

}  // namespace kbix::detail
