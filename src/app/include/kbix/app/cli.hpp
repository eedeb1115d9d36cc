// The `kbix` command line: parses arguments, runs one command, returns the process exit code
// (kbix/core/exit_code.hpp lists them).
#pragma once

#include "kbix/core/exit_code.hpp"

namespace kbix {

int run_cli(int argc, char** argv);

}  // namespace kbix
