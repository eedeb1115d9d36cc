// Helpers of the end-to-end tests (tests/e2e): a daemon process, the simulator on a thread, and
// checks over outputs, the audit log and the state directory.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/exchange_world.hpp"

namespace kbix::test {

// `kbix daemon` as a child process, logging to <world>/daemon.log; stopped with SIGTERM.
class Daemon {
 public:
  explicit Daemon(const ExchangeWorld& world);
  ~Daemon();
  int stop();       // SIGTERM, wait; returns the exit code (-1 when killed by a signal)
  int wait_exit();  // wait only (the test signalled it itself)
  bool wait_killed_by_sigkill();  // wait; true only when SIGKILL ended it
  bool running() const { return pid_ > 0; }
  const std::filesystem::path& log_file() const { return log_; }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  std::filesystem::path log_;
};

inline pid_t daemon_pid(const Daemon& daemon) {
  return daemon.pid();
}

// Plays VDAB every 200 ms until destroyed; counts the outbound files it picked up.
class SimulatorThread {
 public:
  explicit SimulatorThread(const ExchangeWorld& world,
                           sim::CorruptMode corrupt = sim::CorruptMode::none);
  // A partner of another exchange (its own server, directories or protocol).
  explicit SimulatorThread(sim::SimulatorOptions options);
  ~SimulatorThread();
  std::uint64_t files_received() const { return files_.load(); }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> files_{0};
  std::thread thread_;
};

// Polls `kbix run show` (through the daemon) while playing the partner, until the newest run
// is done, failed or cancelled (or 120 s pass); returns the run's JSON.
// `play_partner`: false when the test runs its own SimulatorThread (two would race).
nlohmann::json wait_for_final_state(const ExchangeWorld& world, Daemon* daemon,
                                    bool play_partner = true);

// Polls `condition` every 50 ms for up to `limit`; true as soon as it holds. Tests wait for the
// event they need, never for a fixed time.
bool eventually(const std::function<bool()>& condition,
                std::chrono::milliseconds limit = std::chrono::seconds(20));

std::vector<std::string> read_lines(const std::filesystem::path& file);
std::string read_file(const std::filesystem::path& file);
nlohmann::json read_json(const std::filesystem::path& file);
std::string join(const std::vector<std::string>& parts, char separator);
std::vector<std::filesystem::path> files_under(const std::filesystem::path& dir);
std::vector<std::filesystem::path> files_with_suffix(const std::filesystem::path& dir,
                                                     const std::string& suffix);

// Entries of the world's audit log with this event name.
std::uint64_t count_audit_events(const ExchangeWorld& world, const std::string& event);

// Invariants 4, 5 and 10: the inbox is empty, no CSV or work file is left in the state directory,
// output/ holds exactly `expected_outputs` (file names), the logs are not empty, and no INSZ of
// the extract is anywhere under the test's directories or in what the CLI printed.
void expect_no_plaintext_left(const ExchangeWorld& world,
                              const std::set<std::string>& expected_outputs);
// The files a finished run publishes: its CSV, its manifest and its privacy reports.
std::set<std::string> published_files(const std::string& run_id);
// The id of the newest run (from the run database).
std::string newest_run_id(const ExchangeWorld& world);

// A copy of the shipped protocol with pseudonym = "hmac-sha256", in a temp dir.
std::filesystem::path hmac_protocol_copy();
void write_random_key(const std::filesystem::path& file);  // 32 random bytes, 0600

// Every output row carries the profile of the person its pseudo_id belongs to.
void expect_rows_joined_to_their_own_profile(const std::vector<std::string>& extract_lines,
                                             const std::vector<std::string>& output_lines,
                                             const std::filesystem::path& pseudonym_key);

// The output of an uninterrupted run over the generator's extract (people, seed), computed once.
std::string reference_output(std::uint64_t people, std::uint64_t seed);

}  // namespace kbix::test
