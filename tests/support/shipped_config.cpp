#include "support/shipped_config.hpp"

#include <fstream>
#include <iterator>
#include <stdexcept>

namespace kbix::test {
namespace {

std::string read_text(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + file.string());
  return {std::istreambuf_iterator<char>(in), {}};
}

}  // namespace

ShippedConfig shipped_config() {
  ShippedConfig config{read_text(KBIX_SOURCE_DIR "/config/kbix.toml"),
                       read_text(KBIX_SOURCE_DIR "/config/exchanges.d/vdab.toml")};
  config.replace("\"protocols/vdab-derde-pijler-2023.toml\"",
                 "\"" KBIX_SOURCE_DIR "/config/protocols/vdab-derde-pijler-2023.toml\"");
  return config;
}

void ShippedConfig::replace(const std::string& from, const std::string& to) {
  std::string& text = daemon.find(from) != std::string::npos ? daemon : exchange;
  const auto at = text.find(from);
  if (at == std::string::npos) throw std::logic_error("not in the shipped configuration: " + from);
  text.replace(at, from.size(), to);
}

std::filesystem::path ShippedConfig::write(const std::filesystem::path& dir) const {
  std::filesystem::create_directories(dir / "exchanges.d");
  std::ofstream(dir / "kbix.toml", std::ios::binary) << daemon;
  std::ofstream(dir / "exchanges.d" / "vdab.toml", std::ios::binary) << exchange;
  return dir / "kbix.toml";
}

}  // namespace kbix::test
