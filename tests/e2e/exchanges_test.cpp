// Several exchanges in one daemon (issue 14), end to end through real sshd servers: the VDAB
// exchange and two more round-trip exchanges, each with its own protocol, partner keys, SFTP
// account (one on a server of its own) and inbox source, run at once; a server that is down
// delays no other exchange; SIGKILL in the middle of both resumes both with one upload each; a
// reload with a broken exchange file keeps the others running; one extract read by two exchanges
// stays until both sealed it; cancelling one exchange's run leaves the other's alone.
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

// A partner's own certificates and keys (its simulator decrypts and signs with them).
struct PartnerKeys {
  fs::path encryption_certificate, encryption_key, signing_certificate, signing_key;
};

PartnerKeys example_keys(const std::string& type) {
  const fs::path keys(KBIX_ENVELOPE_TEST_KEYS);
  return {keys / ("vdab-enc-" + type + ".crt"), keys / ("vdab-enc-" + type + ".key"),
          keys / ("vdab-sign-" + type + ".crt"), keys / ("vdab-sign-" + type + ".key")};
}

// A third partner's pair, made here with the openssl CLI: EC P-384 (the other curve the
// exchange specification allows), so it shares no key with VDAB's or the second partner's.
PartnerKeys make_p384_keys(const fs::path& dir) {
  fs::create_directories(dir);
  PartnerKeys keys{dir / "enc.crt", dir / "enc.key", dir / "sign.crt", dir / "sign.key"};
  const auto pair = [](const fs::path& key, const fs::path& cert, const std::string& usage) {
    const auto made = run_shell(
        "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out " + key.string() +
        " && openssl req -new -x509 -sha256 -days 30 -key " + key.string() + " -out " +
        cert.string() + " -subj '/O=DERDE EXAMPLE ONLY/CN=derde " + usage +
        "' -addext 'keyUsage=critical," + usage + "' 2>&1");
    if (made.exit_code != 0) throw std::runtime_error("openssl: " + made.output);
    fs::permissions(key, fs::perms::owner_read | fs::perms::owner_write);
  };
  pair(keys.encryption_key, keys.encryption_certificate, "keyAgreement");
  pair(keys.signing_key, keys.signing_certificate, "digitalSignature");
  return keys;
}

// One exchange of the test: its name, protocol id, server, remote directories, partner keys and
// inbox source.
struct ExchangeSpec {
  std::string name;
  std::string protocol_id;
  const SshdServer* sshd;
  std::string outbound_dir;
  std::string return_dir;
  PartnerKeys keys;
  std::string source;
};

// The world's kbix.toml in the exchanges.d form: VDAB (RSA keys) on the world's sshd, "tweede"
// (EC P-256 keys) on a server of its own, "derde" (EC P-384 keys) on the world's sshd in other
// directories. Each reads a source of its own unless `derde_source` names another.
class Exchanges {
 public:
  explicit Exchanges(const std::string& derde_source = "kbi-derde")
      : world_("e2e-exchanges"), second_("e2e-exchanges-2") {
    specs_ = {{"vdab", "vdab-derde-pijler-2023", &world_.sshd(), "naar-vdab", "van-vdab",
               example_keys("rsa"), "kbi-vdab"},
              {"tweede", "tweede-partner-2026", &second_.sshd(), "naar-tweede", "van-tweede",
               example_keys("ec"), "kbi-tweede"},
              {"derde", "derde-partner-2026", &world_.sshd(), "naar-derde", "van-derde",
               make_p384_keys(world_.dir() / "derde-keys"), derde_source}};
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
    const fs::path folder = world_.inbox_dir() / spec.source;
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
    options.vdab_decryption_certificate = spec.keys.encryption_certificate;
    options.vdab_decryption_key = spec.keys.encryption_key;
    options.vdab_signing_certificate = spec.keys.signing_certificate;
    options.vdab_signing_key = spec.keys.signing_key;
    options.work_dir = world_.dir() / ("sim-" + spec.name);
    fs::create_directories(options.work_dir);
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
      std::ofstream(exchanges_dir() / (spec.name + ".toml"))
          << "[exchange]\nsource = \"" << spec.source << "\"\nprotocol = \""
          << protocol_file(spec).string() << "\"\n\n"
          << "[schedule]\nrun_dates = [\"03-15\", \"09-15\"]\n\n"
          << "[partner]\nname = \"Partner " << spec.name << "\"\n"
          << "encryption_certificate = \"" << spec.keys.encryption_certificate.string() << "\"\n"
          << "signing_certificate = \"" << spec.keys.signing_certificate.string() << "\"\n\n"
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

std::vector<nlohmann::json> events_of(const ExchangeWorld& world, const std::string& exchange,
                                      const std::string& event) {
  std::vector<nlohmann::json> found;
  for (auto& entry : audit_entries_of(world, exchange)) {
    if (entry.value("event", "") == event) found.push_back(std::move(entry));
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
    EXPECT_TRUE(fs::is_empty(world.inbox_dir() / spec.source));
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

TEST(Exchanges, AnExtractOfTwoExchangesStaysUntilBothSealedIt) {
  Exchanges setup("kbi-vdab");  // derde reads VDAB's extract
  ExchangeWorld& world = setup.world();
  setup.generate_extract(setup.specs()[0], 40, 1801);
  const fs::path extract = world.inbox_dir() / "kbi-vdab" / "kbi-extract.csv";
  Daemon daemon(world);
  ASSERT_EQ(world.kbix("run start vdab").exit_code, 0);
  ASSERT_TRUE(eventually([&] {
    return events_of(world, "vdab", "inbox.extract_kept").size() == 1;
  })) << read_file(daemon.log_file());
  EXPECT_TRUE(fs::exists(extract)) << "derde has not sealed it yet";
  const auto kept = events_of(world, "vdab", "inbox.extract_kept").front();
  EXPECT_EQ(kept["details"]["waiting_for"], nlohmann::json::array({"derde"})) << kept.dump();
  EXPECT_TRUE(events_of(world, "vdab", "inbox.extract_removed").empty());

  ASSERT_EQ(world.kbix("run start derde").exit_code, 0);
  ASSERT_TRUE(eventually([&] {
    return events_of(world, "derde", "inbox.extract_removed").size() == 1;
  })) << read_file(daemon.log_file());
  EXPECT_FALSE(fs::exists(extract)) << "both exchanges of the source sealed it";
  EXPECT_TRUE(events_of(world, "derde", "inbox.extract_kept").empty());
  EXPECT_TRUE(events_of(world, "vdab", "inbox.extract_removed").empty());
  const auto runs = newest_runs(world);
  EXPECT_FALSE(runs.at("vdab").facts.value("extract_sha256", "").empty());
  EXPECT_EQ(runs.at("vdab").facts.value("extract_sha256", ""),
            runs.at("derde").facts.value("extract_sha256", ""))
      << "one extract, two snapshots";
  EXPECT_EQ(daemon.stop(), 0);
  EXPECT_EQ(world.kbix("audit verify").exit_code, 0);
}

TEST(Exchanges, CancellingOneExchangesRunLeavesTheOtherExchangesRunUntouched) {
  Exchanges setup;
  ExchangeWorld& world = setup.world();
  const auto& vdab = setup.specs()[0];
  const auto& tweede = setup.specs()[1];
  setup.generate_extract(vdab, 40, 1901);
  setup.generate_extract(tweede, 40, 1902);
  Daemon daemon(world);
  ASSERT_EQ(world.kbix("run start vdab").exit_code, 0);
  ASSERT_EQ(world.kbix("run start tweede").exit_code, 0);
  const auto both_waiting = [&] {
    auto runs = newest_runs(world);
    return runs.size() == 2 && runs["vdab"].state == RunState::awaiting_return &&
           runs["tweede"].state == RunState::awaiting_return;
  };
  ASSERT_TRUE(eventually(both_waiting)) << read_file(daemon.log_file());
  const auto before = newest_runs(world);
  const auto cancelled =
      world.kbix("run cancel " + before.at("vdab").id + " --reason 'test: wrong extract'");
  ASSERT_EQ(cancelled.exit_code, 0) << cancelled.output;
  ASSERT_TRUE(eventually([&] { return newest_runs(world)["vdab"].state == RunState::cancelled; }));
  ASSERT_TRUE(eventually([&] { return files_under(vdab.sshd->sftp_root() / "naar-vdab").empty(); }))
      << "the cancelled run's file leaves VDAB's server";

  const RunRecord other = newest_runs(world).at("tweede");
  EXPECT_EQ(other.id, before.at("tweede").id);
  EXPECT_EQ(other.state, RunState::awaiting_return);
  EXPECT_EQ(other.facts.value("outbound_remote_name", ""),
            before.at("tweede").facts.value("outbound_remote_name", ""));
  EXPECT_EQ(files_under(tweede.sshd->sftp_root() / "naar-tweede").size(), 1u)
      << "the other exchange's upload stays on its server";
  EXPECT_TRUE(events_of(world, "tweede", "run.cancel").empty());
  ASSERT_EQ(events_of(world, "vdab", "run.cancel").size(), 1u);

  SimulatorThread tweede_partner(setup.partner(tweede));
  ASSERT_TRUE(eventually([&] { return is_done(world, "tweede"); }, std::chrono::seconds(90)))
      << read_file(daemon.log_file());
  EXPECT_EQ(newest_runs(world).at("tweede").id, before.at("tweede").id);
  EXPECT_EQ(tweede_partner.files_received(), 1u);
  EXPECT_EQ(daemon.stop(), 0);
  EXPECT_EQ(world.kbix("audit verify").exit_code, 0);
}

}  // namespace
}  // namespace kbix::test
