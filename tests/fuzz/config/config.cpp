// Fuzzes the configuration and protocol readers: any bytes must give a config or a clean
// "config.*" error, never a crash, a hang or an exception.
#include "kbix/config/config.hpp"

#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "kbix/core/protocol.hpp"

namespace {
std::filesystem::path scratch_dir() {
  static const std::filesystem::path dir = [] {
    std::string pattern = (std::filesystem::temp_directory_path() / "kbix-fuzz-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) std::abort();
    return std::filesystem::path(pattern);
  }();
  return dir;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto file = scratch_dir() / "input.toml";
  {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  // The same bytes as a configuration and as a protocol file.
  auto config = kbix::load_config(file);
  if (!config && config.error().code.rfind("config.", 0) != 0) std::abort();
  auto protocol = kbix::load_protocol(file);
  if (!protocol && protocol.error().code.rfind("config.", 0) != 0) std::abort();
  return 0;
}
