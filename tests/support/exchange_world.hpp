// A complete exchange on this machine for end-to-end tests: a real sshd on 127.0.0.1 (SshdServer),
// the throw-away example keys of both parties, a kbix configuration pointing at them, a KBI
// extract made by the project's generator, and helpers that run the real `kbix` binary and the
// partner simulator (VDAB's side) against the same server.
#pragma once

#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include "partner_sim/partner_sim.hpp"
#include "support/privacy_sweep.hpp"
#include "support/sshd_fixture.hpp"

namespace kbix::test {

struct CommandOutcome {
  int exit_code = -1;     // -1 when killed by a signal
  int signal = 0;         // the signal that killed it (or 128+N from sh)
  bool signaled = false;  // the process itself was killed (WIFSIGNALED), not a shell's exit code
  std::string output;     // stdout and stderr together
  bool killed_by_sigkill() const { return signaled && signal == 9; }
};

// Runs a shell command line, capturing stdout and stderr.
CommandOutcome run_shell(const std::string& command);

class ExchangeWorld {
 public:
  // `name` makes the temp dir recognisable; `protocol_file` defaults to the shipped protocol.
  explicit ExchangeWorld(std::string_view name, std::filesystem::path protocol_file = {});
  ~ExchangeWorld();

  SshdServer& sshd() { return sshd_; }
  const SshdServer& sshd() const { return sshd_; }
  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path config_file() const { return dir_ / "kbix.toml"; }
  std::filesystem::path state_dir() const { return dir_ / "state"; }
  std::filesystem::path output_dir() const { return dir_ / "output"; }
  std::filesystem::path inbox_dir() const { return dir_ / "inbox"; }
  std::filesystem::path socket() const { return dir_ / "control.sock"; }

  // Writes kbix.toml; `extra_keys` is appended verbatim to its [keys] table.
  void write_config(const std::string& envelope_profile = "gcm",
                    const std::string& extra_keys = "");
  // Rollover: the partner's listed signing certificates (empty: the example one, as a single
  // key), and AgII's current signing and decryption certificates (each key beside it, ".key").
  // Every AgII signing certificate used is also given to the independent audit verifier.
  // Both take effect at the next write_config().
  void set_partner_signing_certificates(std::vector<std::filesystem::path> certificates);
  void set_agii_certificates(const std::filesystem::path& signing,
                             const std::filesystem::path& decryption);
  // kbix-gen into the inbox; returns the extract's path. Its INSZ join the privacy sweep.
  std::filesystem::path generate_extract(std::uint64_t people, std::uint64_t seed,
                                         const std::string& extra_arguments = "");

  // An extract the test wrote itself: its INSZ join the privacy sweep.
  void add_personal_numbers_of(const std::filesystem::path& extract);

  // `kbix ARGS` with --config; `environment` is given to it (e.g. "X=1"). The shell execs kbix, so
  // the outcome's signal is kbix's own. What it printed is kept for the privacy sweep.
  CommandOutcome kbix(const std::string& arguments, const std::string& environment = "") const;

  sim::SimulatorOptions simulator_options() const;
  // One pass of the simulator; throws when it fails.
  sim::SimulatorReport simulate_partner() const;

  // Files (recursively) under `dir`.
  static std::vector<std::filesystem::path> files_under(const std::filesystem::path& dir);
  // tests/audit_verifier/verify_audit.py on the state's audit log (also run by the destructor).
  CommandOutcome verify_audit_independently() const;

  // Everything every `kbix` command of this world printed, in order.
  std::string cli_transcript() const;
  bool knows_personal_numbers() const { return !sweep_.empty(); }
  // The privacy sweep over every file under the world's directory and the sshd's (a `.p7m` is
  // skipped only when openssl parses it as CMS) and over the CLI transcript: one line per INSZ
  // of the extract found, naming where and in which form. Empty: nothing found.
  std::vector<std::string> personal_data_found() const;
  // The same over the bytes of one file (for tests that sweep a file of their own).
  std::vector<std::string> personal_data_in(const std::filesystem::path& file) const;

 private:
  std::filesystem::path dir_;
  std::filesystem::path keys_;
  std::filesystem::path protocol_file_;
  std::vector<std::filesystem::path> partner_signing_;
  std::filesystem::path agii_signing_, agii_decryption_;
  std::vector<std::filesystem::path> checkpoint_signers_;
  SshdServer sshd_;
  PrivacySweep sweep_;
  mutable std::mutex transcript_mutex_;
  mutable std::string transcript_;
};

}  // namespace kbix::test
