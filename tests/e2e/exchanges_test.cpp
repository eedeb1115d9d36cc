// Several exchanges in one daemon (issue 14), end to end through real sshd servers: the VDAB
// exchange and two more round-trip exchanges, each with its own protocol, SFTP account (one on a
// server of its own) and inbox source, run at once; a server that is down delays no other
// exchange; SIGKILL in the middle of both resumes both with one upload each; a reload with a
// broken exchange file keeps the others running.
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include <fstream>
#include <regex>

#include "e2e_support.hpp"
#include "kbix/runs/run_store.hpp"

namespace kbix::test {
namespace {

namespace fs = std::filesystem;

// One exchange of the test: its name, protocol id, server and remote directories.
struct ExchangeSpec {
  std::string name;
  std::string protocol_id;
  const SshdServer* sshd;
  std::string outbound_dir;
  std::string return_dir;
};

// The world's kbix.toml in the exchanges.d form: VDAB on the world's sshd, "tweede" on a server
// of its own, "derde" on the world's sshd in other directories.
class Exchanges {
 public:
  Exchanges() : world_("e2e-exchanges"), second_("e2e-exchanges-2") {
    specs_ = {{"vdab", "vdab-derde-pijler-2023", &world_.sshd(), "naar-vdab", "van-vdab"},
              {"tweede", "tweede-partner-2026", &second_.sshd(), "naar-tweede", "van-tweede"},
              {"derde", "derde-partner-2026", &world_.sshd(), "naar-derde", "van-derde"}};
    write();
  }

  ExchangeWorld& world() { return world_; }
  ExchangeWorld& second() { return second_; }
  const std::vector<ExchangeSpec>& specs() const { return specs_; }
  fs::path exchanges_dir() const { return world_.dir() / "exchanges.d"; }

  fs::path protocol_file(const ExchangeSpec& spec) const {
    return world_.dir() / "protocols" / (spec.protocol_id + ".toml");
  }

  // kbix-gen into the exchange's inbox folder.
  void generate_extract(const ExchangeSpec& spec, std::uint64_t people, std::uint64_t seed) {
    const fs::path folder = world_.inbox_dir() / ("kbi-" + spec.name);
    fs::create_directories(folder);
    const fs::path extract = folder / "kbi-extract.csv";
    const auto made =
        run_shell(std::string(KBIX_GEN_EXE) + " --people " + std::to_string(people) + " --seed " +
                  std::to_string(seed) + " --extract " + extract.string());
    ASSERT_EQ(made.exit_code, 0) << made.output;
    world_.add_personal_numbers_of(extract);
  }

  sim::SimulatorOptions partner(const ExchangeSpec& spec) const {
    auto options = world_.simulator_options();
    options.sftp = spec.sshd->client_settings();
    options.inbox_dir = spec.outbound_dir;
    options.outbox_dir = spec.return_dir;
    options.protocol_file = protocol_file(spec);
    return options;
  }

 private:
  void write() {
    const std::string shipped =
        read_file(KBIX_SOURCE_DIR "/config/protocols/vdab-derde-pijler-2023.toml");
    fs::create_directories(world_.dir() / "protocols");
    fs::create_directories(exchanges_dir());
    // kbix.toml keeps the daemon-wide sections of the single-exchange file the world wrote.
    std::string daemon_wide;
    bool keep = true;
    for (const auto& line : read_lines(world_.config_file())) {
      if (!line.empty() && line[0] == '[') {
        keep = line == "[daemon]" || line == "[keys]" || line == "[audit]";
      }
      if (keep) daemon_wide += line + "\n";
    }
    std::ofstream(world_.config_file()) << daemon_wide;
    for (const auto& spec : specs_) {
      for (const auto& remote : {spec.outbound_dir, spec.return_dir}) {
        fs::create_directories(spec.sshd->sftp_root() / remote);
      }
      std::ofstream(protocol_file(spec))
          << std::regex_replace(shipped, std::regex("id = \"vdab-derde-pijler-2023\""),
                                "id = \"" + spec.protocol_id + "\"");
      const auto& keys = fs::path(KBIX_ENVELOPE_TEST_KEYS);
      std::ofstream(exchanges_dir() / (spec.name + ".toml"))
          << "[exchange]\nsource = \"kbi-" << spec.name << "\"\nprotocol = \""
          << protocol_file(spec).string() << "\"\n\n"
          << "[schedule]\nrun_dates = [\"03-15\", \"09-15\"]\n\n"
          << "[partner]\nname = \"Partner " << spec.name << "\"\n"
          << "encryption_certificate = \"" << (keys / "vdab-enc-rsa.crt").string() << "\"\n"
          << "signing_certificate = \"" << (keys / "vdab-sign-rsa.crt").string() << "\"\n\n"
          << "[sftp]\nhost = \"127.0.0.1\"\nport = " << spec.sshd->port() << "\n"
          << "user = \"" << spec.sshd->user() << "\"\n"
          << "identity_file = \"" << spec.sshd->client_key().string() << "\"\n"
          << "known_hosts_file = \"" << spec.sshd->known_hosts().string() << "\"\n"
          << "outbound_dir = \"" << spec.outbound_dir << "\"\nreturn_dir = \"" << spec.return_dir
          << "\"\nconnect_timeout_seconds = 5\noperation_deadline_seconds = 60\n"
          << "poll_interval_seconds = 1\nmin_file_age_seconds = 1\n";
    }
  }

  ExchangeWorld world_;
  ExchangeWorld second_;  // only its sshd serves here
  std::vector<ExchangeSpec> specs_;
};

std::map<std::string, RunRecord> newest_runs(const ExchangeWorld& world) {
  std::map<std::string, RunRecord> newest;
  auto store = RunStore::open(world.state_dir() / "runs.sqlite3");
  if (!store) return newest;
  auto runs = store->list();
  if (!runs) return newest;
  for (const auto& run : *runs) newest.try_emplace(run.exchange, run);
  return newest;
}

bool is_done(const ExchangeWorld& world, const std::string& exchange) {
  auto runs = newest_runs(world);
  return runs.contains(exchange) && runs[exchange].state == RunState::done;
}

std::vector<nlohmann::json> audit_entries_of(const ExchangeWorld& world,
                                             const std::string& exchange) {
  std::vector<nlohmann::json> found;
  for (const auto& file : files_under(world.state_dir() / "audit")) {
    if (file.filename().string().find("checkpoint") != std::string::npos) continue;
    for (const auto& line : read_lines(file)) {
      auto entry = nlohmann::json::parse(line, nullptr, false);
      if (entry.is_object() && entry.value("exchange", "") == exchange) found.push_back(entry);
    }
  }
  return found;
}

TEST(Exchanges, ThreeRunAtOnceEachWithItsOwnRunsAuditAndStatus) {
  Exchanges setup;
  ExchangeWorld& world = setup.world();
  const auto checked = world.kbix("check-config");
  ASSERT_EQ(checked.exit_code, 0) << checked.output;
  EXPECT_NE(checked.output.find("3 exchange(s)"), std::string::npos) << checked.output;
  std::uint64_t seed = 1400;
  for (const auto& spec : setup.specs()) setup.generate_extract(spec, 40, ++seed);
  Daemon daemon(world);
  std::vector<std::unique_ptr<SimulatorThread>> partners;
  for (const auto& spec : setup.specs()) {
    partners.push_back(std::make_unique<SimulatorThread>(setup.partner(spec)));
    const auto started = world.kbix("run start " + spec.name);
    ASSERT_EQ(started.exit_code, 0) << started.output;
    EXPECT_NE(started.output.find("kbix status " + spec.name), std::string::npos);
  }
  const auto without_name = world.kbix("run start");
  EXPECT_EQ(without_name.exit_code, 1);
  EXPECT_NE(without_name.output.find("config.exchange_required"), std::string::npos);
  ASSERT_TRUE(eventually(
      [&] { return is_done(world, "vdab") && is_done(world, "tweede") && is_done(world, "derde"); },
      std::chrono::seconds(120)))
      << read_file(daemon.log_file());
  for (std::size_t i = 0; i < partners.size(); ++i) {
    EXPECT_EQ(partners[i]->files_received(), 1u) << setup.specs()[i].name;
  }
  partners.clear();

  const auto runs = newest_runs(world);
  for (const auto& spec : setup.specs()) {
    const RunRecord& run = runs.at(spec.name);
    EXPECT_EQ(run.facts.value("protocol_id", ""), spec.protocol_id);
    EXPECT_TRUE(fs::exists(world.output_dir() / (spec.protocol_id + "_" + run.id + ".csv")));
    // Its own audit entries, each about its own run.
    std::set<std::string> events;
    for (const auto& entry : audit_entries_of(world, spec.name)) {
      const std::string run_id = entry.value("run_id", "");
      if (!run_id.empty()) {
        EXPECT_EQ(run_id, run.id) << entry.dump();
      }
      events.insert(entry.value("event", ""));
    }
    for (const char* event :
         {"run.start", "run.upload", "run.published", "inbox.extract_removed"}) {
      EXPECT_TRUE(events.contains(event)) << spec.name << " lacks " << event;
    }
    EXPECT_TRUE(fs::is_empty(world.inbox_dir() / ("kbi-" + spec.name)));
  }
  const auto tweede = world.kbix("status tweede");
  EXPECT_EQ(tweede.exit_code, 0) << tweede.output;
  EXPECT_NE(tweede.output.find(runs.at("tweede").id), std::string::npos);
  EXPECT_EQ(tweede.output.find(runs.at("vdab").id), std::string::npos) << tweede.output;
  const auto all = world.kbix("status");
  for (const auto& spec : setup.specs()) {
    EXPECT_NE(all.output.find("exchange " + spec.name + " (protocol " + spec.protocol_id),
              std::string::npos)
        << all.output;
  }
  EXPECT_EQ(daemon.stop(), 0);
  EXPECT_EQ(world.kbix("audit verify").exit_code, 0);
  EXPECT_TRUE(world.personal_data_found().empty());
}

TEST(Exchanges, AServerThatIsDownDelaysNoOtherExchange) {
  Exchanges setup;
  ExchangeWorld& world = setup.world();
  setup.generate_extract(setup.specs()[0], 40, 1501);
  setup.generate_extract(setup.specs()[1], 40, 1502);
  setup.second().sshd().kill();  // tweede's server is gone for the whole test
  Daemon daemon(world);
  SimulatorThread vdab_partner(setup.partner(setup.specs()[0]));
  ASSERT_EQ(world.kbix("run start tweede").exit_code, 0);  // first, so it is ahead in line
  ASSERT_EQ(world.kbix("run start vdab").exit_code, 0);
  ASSERT_TRUE(eventually([&] { return is_done(world, "vdab"); }, std::chrono::seconds(90)))
      << read_file(daemon.log_file());
  const auto runs = newest_runs(world);
  EXPECT_NE(runs.at("tweede").state, RunState::done);
  EXPECT_FALSE(runs.at("tweede").facts.contains("outbound_remote_name"));
  EXPECT_EQ(daemon.stop(), 0);
}

TEST(Exchanges, SigkillInTheMiddleOfBothResumesBothWithOneUploadEach) {
  Exchanges setup;
  ExchangeWorld& world = setup.world();
  const auto& vdab = setup.specs()[0];
  const auto& tweede = setup.specs()[1];
  setup.generate_extract(vdab, 60, 1601);
  setup.generate_extract(tweede, 60, 1602);
  {
    ::setenv("KBIX_TEST_KILL_AFTER", "uploaded_unaudited", 1);
    Daemon daemon(world);
    ::unsetenv("KBIX_TEST_KILL_AFTER");
    ASSERT_EQ(world.kbix("run start vdab").exit_code, 0);
    ASSERT_EQ(world.kbix("run start tweede").exit_code, 0);
    ASSERT_TRUE(daemon.wait_killed_by_sigkill()) << read_file(daemon.log_file());
  }
  const auto cut = newest_runs(world);
  ASSERT_EQ(cut.size(), 2u);
  {
    Daemon daemon(world);
    SimulatorThread vdab_partner(setup.partner(vdab));
    SimulatorThread tweede_partner(setup.partner(tweede));
    ASSERT_TRUE(eventually([&] { return is_done(world, "vdab") && is_done(world, "tweede"); },
                           std::chrono::seconds(120)))
        << read_file(daemon.log_file());
    EXPECT_EQ(vdab_partner.files_received(), 1u);
    EXPECT_EQ(tweede_partner.files_received(), 1u);
    EXPECT_EQ(daemon.stop(), 0);
  }
  for (const auto& spec : {vdab, tweede}) {
    std::uint64_t uploads = 0;
    for (const auto& entry : audit_entries_of(world, spec.name)) {
      if (entry.value("event", "") == "run.upload") ++uploads;
    }
    EXPECT_EQ(uploads, 1u) << spec.name;
  }
  EXPECT_EQ(world.kbix("audit verify").exit_code, 0);
}

TEST(Exchanges, AReloadWithABrokenExchangeFileKeepsTheOthersRunning) {
  Exchanges setup;
  ExchangeWorld& world = setup.world();
  Daemon daemon(world);
  std::ofstream(setup.exchanges_dir() / "vierde.toml") << "[exchange]\nsource = \"kbi-vierde\"\n"
                                                       << "protocol = 42\n";
  const auto refused = world.kbix("check-config");
  EXPECT_EQ(refused.exit_code, 78) << refused.output;
  EXPECT_NE(refused.output.find("vierde.toml:3:"), std::string::npos) << refused.output;
  ::kill(daemon.pid(), SIGHUP);
  ASSERT_TRUE(eventually([&] {
    return world.kbix("status").output.find("REFUSED exchange file") != std::string::npos;
  })) << read_file(daemon.log_file());
  // The three still run: one of them completes a run after the reload.
  setup.generate_extract(setup.specs()[2], 30, 1701);
  SimulatorThread derde_partner(setup.partner(setup.specs()[2]));
  ASSERT_EQ(world.kbix("run start derde").exit_code, 0);
  ASSERT_TRUE(eventually([&] { return is_done(world, "derde"); }, std::chrono::seconds(90)))
      << read_file(daemon.log_file());
  const auto status = world.kbix("status");
  for (const auto& spec : setup.specs()) {
    EXPECT_NE(status.output.find("exchange " + spec.name + " "), std::string::npos)
        << status.output;
  }
  EXPECT_EQ(daemon.stop(), 0);
}

}  // namespace
}  // namespace kbix::test
