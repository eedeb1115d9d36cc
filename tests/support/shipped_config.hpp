// The shipped configuration (config/kbix.toml + config/exchanges.d/vdab.toml) as text, for tests
// that load it with a change: edit the text, write it to a directory of the test's own.
#pragma once

#include <filesystem>
#include <string>

namespace kbix::test {

struct ShippedConfig {
  std::string daemon;    // kbix.toml: [daemon], [keys], [audit], [notify], [metrics]
  std::string exchange;  // exchanges.d/vdab.toml, its protocol path made absolute

  // Replaces the first `from` (in kbix.toml if it is there, else in vdab.toml) by `to`.
  void replace(const std::string& from, const std::string& to);
  // Writes DIR/kbix.toml and DIR/exchanges.d/vdab.toml; returns DIR/kbix.toml.
  [[nodiscard]] std::filesystem::path write(const std::filesystem::path& dir) const;
};

ShippedConfig shipped_config();

}  // namespace kbix::test
