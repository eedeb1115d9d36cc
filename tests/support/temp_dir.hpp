// A private scratch directory for a test, shared by every module's tests (no other dependency).
#pragma once

#include <filesystem>
#include <string_view>

namespace kbix::test {

// mkdtemp under $TMPDIR (or /tmp): "<prefix>-XXXXXX", mode 0700. The caller removes it.
std::filesystem::path make_temp_dir(std::string_view prefix);

}  // namespace kbix::test
