// A complete exchange on this machine for end-to-end tests: a real sshd on 127.0.0.1 (SshdServer),
// the throw-away example keys of both parties, a kbix configuration pointing at them, a KBI
// extract made by the project's generator, and helpers that run the real `kbix` binary and the
// partner simulator (VDAB's side) against the same server.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "partner_sim/partner_sim.hpp"
#include "support/sshd_fixture.hpp"

namespace kbix::test {

struct CommandOutcome {
  int exit_code = -1;  // -1 when killed by a signal
  int signal = 0;      // the signal that killed it
  std::string output;  // stdout and stderr together
};

// Runs a shell command line, capturing stdout and stderr.
CommandOutcome run_shell(const std::string& command);

class ExchangeWorld {
 public:
  // `name` makes the temp dir recognisable; `protocol_file` defaults to the shipped protocol.
  explicit ExchangeWorld(std::string_view name, std::filesystem::path protocol_file = {});
  ~ExchangeWorld();

  SshdServer& sshd() { return sshd_; }
  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path config_file() const { return dir_ / "kbix.toml"; }
  std::filesystem::path state_dir() const { return dir_ / "state"; }
  std::filesystem::path output_dir() const { return dir_ / "output"; }
  std::filesystem::path inbox_dir() const { return dir_ / "inbox"; }
  std::filesystem::path socket() const { return dir_ / "control.sock"; }

  // Writes kbix.toml; `extra_keys` is appended verbatim to its [keys] table.
  void write_config(const std::string& envelope_profile = "gcm",
                    const std::string& extra_keys = "");
  // kbix-gen into the inbox; returns the extract's path.
  std::filesystem::path generate_extract(std::uint64_t people, std::uint64_t seed,
                                         const std::string& extra_arguments = "");

  // `kbix ARGS` with --config; `environment` is prefixed to the command (e.g. "X=1").
  CommandOutcome kbix(const std::string& arguments, const std::string& environment = "") const;

  sim::SimulatorOptions simulator_options() const;
  // One pass of the simulator; throws when it fails.
  sim::SimulatorReport simulate_partner() const;

  // Files (recursively) under `dir`.
  static std::vector<std::filesystem::path> files_under(const std::filesystem::path& dir);
  // Every 11-digit number (optionally with . and - separators) in `file` that passes the INSZ
  // check: the privacy sweep. Returns how many were found.
  static std::uint64_t count_insz_like(const std::filesystem::path& file);

 private:
  std::filesystem::path dir_;
  std::filesystem::path keys_;
  std::filesystem::path protocol_file_;
  SshdServer sshd_;
};

}  // namespace kbix::test
