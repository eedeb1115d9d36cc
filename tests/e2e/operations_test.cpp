// Operations through the real code paths: overdue returns, retention purge, cancel and reload
// through the daemon, a locked run database, `kbix keys check`, and the privacy sweep for
// personal values (not only INSZ) after a round trip.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <regex>
#include <set>
#include <thread>

#include "e2e/e2e_support.hpp"
#include "kbix/exchange/exchange.hpp"
#include "kbix/exchange/instance.hpp"

namespace kbix::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono;

std::uint64_t audit_count(const ExchangeWorld& world, const std::string& event) {
  return count_audit_events(world, event);
}

TEST(Operations, ARunWithoutReturnIsFlaggedOverdueAndKeepsWaiting) {
  ExchangeWorld world("e2e-overdue");
  world.generate_extract(30, 41);
  auto instance = Instance::open(world.config_file(), "run-once", current_user_actor());
  ASSERT_TRUE(instance) << instance.error().describe();
  Exchange exchange((*instance)->exchanges().front(), (*instance)->store(), (*instance)->audit());
  auto run = exchange.start_run(StartRequest{current_user_actor(), "operator", false, "", ""});
  ASSERT_TRUE(run) << run.error().describe();
  auto reached = exchange.drive(run->id);
  ASSERT_TRUE(reached && *reached == RunState::awaiting_return);
  ASSERT_TRUE(exchange.poll_returns(system_clock::now() + days(29)));
  EXPECT_FALSE((*(*instance)->store().find(run->id))->overdue);
  ASSERT_TRUE(exchange.poll_returns(system_clock::now() + days(31)));
  const auto after = *(*instance)->store().find(run->id);
  EXPECT_TRUE(after->overdue);
  EXPECT_EQ(after->state, RunState::awaiting_return) << "keeps waiting until cancelled";
  ASSERT_TRUE((*instance)->close("test"));
  EXPECT_EQ(audit_count(world, "run.overdue"), 1u);
}

TEST(Operations, RetentionPurgesFinishedRunsAndTheirOutputsAndAuditsIt) {
  ExchangeWorld world("e2e-retention");
  world.generate_extract(30, 42);
  {
    SimulatorThread partner(world);
    ASSERT_EQ(world.kbix("run once --start --wait 60").exit_code, 0);
  }
  ASSERT_EQ(files_with_suffix(world.output_dir(), ".csv").size(), 1u);
  auto instance = Instance::open(world.config_file(), "run-once", current_user_actor());
  ASSERT_TRUE(instance);
  Exchange exchange((*instance)->exchanges().front(), (*instance)->store(), (*instance)->audit());
  ASSERT_TRUE(exchange.purge_expired(system_clock::now() + days(365 * 4)));
  EXPECT_EQ(files_with_suffix(world.output_dir(), ".csv").size(), 1u) << "4 years: kept";
  ASSERT_TRUE(exchange.purge_expired(system_clock::now() + days(365 * 5 + 2)));
  EXPECT_TRUE(files_under(world.output_dir()).empty());
  EXPECT_TRUE(files_under(world.state_dir() / "runs").empty());
  EXPECT_TRUE((*instance)->store().list()->empty());
  ASSERT_TRUE((*instance)->close("test"));
  EXPECT_EQ(audit_count(world, "retention.purge"), 1u);
  EXPECT_EQ(world.kbix("audit verify").exit_code, 0);
}

TEST(Operations, CancelAndReloadThroughTheDaemonAreAudited) {
  ExchangeWorld world("e2e-cancel");
  world.generate_extract(30, 43);
  Daemon daemon(world);
  const auto started = world.kbix("run start");
  ASSERT_EQ(started.exit_code, 0) << started.output;
  const auto at = started.output.find("started ") + 8;
  const std::string id = started.output.substr(at, started.output.find(';', at) - at);
  // no simulator: the run waits for a return that never comes
  ASSERT_TRUE(eventually([&] {
    return world.kbix("run show " + id).output.find("awaiting_return") != std::string::npos;
  })) << "the run never reached awaiting_return: "
      << world.kbix("run show " + id).output;
  const auto cancelled = world.kbix("run cancel " + id + " --reason 'wrong extract, ticket 12'");
  EXPECT_EQ(cancelled.exit_code, 0) << cancelled.output;
  EXPECT_NE(world.kbix("run show " + id).output.find("cancelled: wrong extract, ticket 12"),
            std::string::npos);
  EXPECT_EQ(world.kbix("run retry " + id).exit_code, 1) << "a cancelled run is not retryable";
  EXPECT_TRUE(eventually([&] { return files_under(world.sshd().sftp_root()).empty(); }))
      << "the cancelled run's sealed file is removed from the partner's server";

  // SIGHUP: a broken configuration is refused and the old one kept; a good one is taken
  const std::string good = read_file(world.config_file());
  std::ofstream(world.config_file()) << good << "\n[nonsense]\n";
  ASSERT_EQ(::kill(daemon_pid(daemon), SIGHUP), 0);
  ASSERT_TRUE(eventually([&] { return audit_count(world, "config.reload_failed") == 1; }))
      << "the daemon never reported the broken configuration";
  EXPECT_EQ(world.kbix("status").exit_code, 78) << "the CLI itself refuses the broken file";
  std::ofstream(world.config_file()) << good;
  EXPECT_EQ(world.kbix("status").exit_code, 0) << "the daemon still answers";
  ASSERT_EQ(::kill(daemon_pid(daemon), SIGHUP), 0);
  ASSERT_TRUE(eventually([&] { return audit_count(world, "config.reload") == 1; }))
      << "the daemon never took the good configuration";
  EXPECT_EQ(daemon.stop(), 0);
  EXPECT_EQ(audit_count(world, "run.cancel"), 1u);
  EXPECT_EQ(audit_count(world, "config.reload_failed"), 1u);
  EXPECT_EQ(audit_count(world, "config.reload"), 1u);
  EXPECT_EQ(world.kbix("audit verify").exit_code, 0);
}

TEST(Operations, ALockedRunDatabaseFailsCleanlyAndNothingIsLost) {
  ExchangeWorld world("e2e-dblock");
  world.generate_extract(30, 44);
  ASSERT_EQ(world.kbix("run once").exit_code, 0) << "creates the database";
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t holder = ::fork();
  if (holder == 0) {
    sqlite3* db = nullptr;
    sqlite3_open((world.state_dir() / "runs.sqlite3").c_str(), &db);
    sqlite3_exec(db, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr);
    (void)!::write(ready[1], "x", 1);
    ::pause();
    ::_exit(0);
  }
  char byte;
  ASSERT_EQ(::read(ready[0], &byte, 1), 1);
  const auto locked = world.kbix("run once --start");
  EXPECT_EQ(locked.exit_code, 1) << locked.output;
  EXPECT_NE(locked.output.find("run.db_locked"), std::string::npos) << locked.output;
  EXPECT_TRUE(fs::exists(world.inbox_dir() / "kbi-extract.csv")) << "the extract is not lost";
  ::kill(holder, SIGKILL);
  ::waitpid(holder, nullptr, 0);
  SimulatorThread partner(world);
  const auto finished = world.kbix("run once --start --wait 60");
  EXPECT_EQ(finished.exit_code, 0) << finished.output;
  EXPECT_EQ(world.kbix("audit verify").exit_code, 0);
}

TEST(Operations, KeysCheckListsEveryKeyAndFailsNearExpiry) {
  ExchangeWorld world("e2e-keys");
  const auto checked = world.kbix("keys check");
  EXPECT_EQ(checked.exit_code, 0) << checked.output;
  EXPECT_GE(std::count(checked.output.begin(), checked.output.end(), '\n'), 4);
  EXPECT_NE(checked.output.find("days"), std::string::npos) << checked.output;
  std::string config = read_file(world.config_file());
  config = std::regex_replace(config, std::regex("expiry_warning_days = 30"),
                              "expiry_warning_days = 3000");
  std::ofstream(world.config_file()) << config;
  const auto warned = world.kbix("keys check");
  EXPECT_EQ(warned.exit_code, 1) << "the example certificates live 400 days: " << warned.output;
}

// A stand-in for systemd's notification socket: what the daemon sends with sd_notify.
class NotifySocket {
 public:
  explicit NotifySocket(const fs::path& path) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::snprintf(address.sun_path, sizeof address.sun_path, "%s", path.c_str());
    ::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address);
    timeval limit{10, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    ::setenv("NOTIFY_SOCKET", path.c_str(), 1);
  }
  ~NotifySocket() {
    ::unsetenv("NOTIFY_SOCKET");
    ::close(fd_);
  }
  // Messages until one contains `wanted` (or 10 s pass); returns them all.
  std::string until(const std::string& wanted) {
    std::string seen;
    char buffer[4096];
    for (ssize_t n; (n = ::recv(fd_, buffer, sizeof buffer, 0)) > 0;) {
      seen.append(buffer, static_cast<std::size_t>(n)).append("|");
      if (seen.find(wanted) != std::string::npos) break;
    }
    return seen;
  }

 private:
  fs::path path_;
  int fd_ = -1;
};

TEST(Operations, TheDaemonTellsSystemdWhenItIsReadyAndWhenItStops) {
  ExchangeWorld world("e2e-notify");
  NotifySocket systemd(world.dir() / "notify.sock");
  Daemon daemon(world);
  const auto ready = systemd.until("READY=1");
  EXPECT_NE(ready.find("READY=1"), std::string::npos) << ready;
  ::kill(daemon.pid(), SIGHUP);
  EXPECT_NE(systemd.until("RELOADING=1").find("RELOADING=1"), std::string::npos);
  ::kill(daemon.pid(), SIGTERM);
  EXPECT_NE(systemd.until("STOPPING=1").find("STOPPING=1"), std::string::npos);
  EXPECT_EQ(daemon.wait_exit(), 0);
}

TEST(Privacy, NoPersonalValueOfTheExtractReachesLogsAuditOrState) {
  ExchangeWorld world("e2e-privacy");
  const fs::path extract = world.generate_extract(200, 45);
  // distinctive personal values: every profile date of the extract (2019-2025, never a
  // timestamp of this run)
  std::set<std::string> values;
  const std::regex date("20(19|2[0-5])-[0-9]{2}-[0-9]{2}");
  const std::string text = read_file(extract);
  for (std::sregex_iterator it(text.begin(), text.end(), date), end; it != end; ++it) {
    values.insert(it->str());
  }
  ASSERT_GT(values.size(), 50u);
  Daemon daemon(world);
  ASSERT_EQ(world.kbix("run start").exit_code, 0);
  const auto run = wait_for_final_state(world, &daemon);
  ASSERT_EQ(run.value("state", ""), "done");
  EXPECT_EQ(daemon.stop(), 0);
  expect_no_plaintext_left(world, published_files(run.value("id", "")));
  std::vector<fs::path> swept = files_under(world.state_dir());
  swept.push_back(daemon.log_file());
  for (const auto& file : swept) {
    if (file.extension() == ".p7m" && parses_as_cms(file)) continue;  // sealed: ciphertext only
    const std::string content = read_file(file);
    const auto found = world.personal_data_in(file);
    EXPECT_TRUE(found.empty()) << found.front();
    for (const auto& value : values) {
      ASSERT_EQ(content.find(value), std::string::npos) << value << " found in " << file;
    }
  }
}

}  // namespace
}  // namespace kbix::test
