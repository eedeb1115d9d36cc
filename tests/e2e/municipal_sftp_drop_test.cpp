// The SFTP drop to a municipality (issue 15, [export] delivery = "sftp") end to end through the
// daemon against a real OpenSSH sshd on 127.0.0.1: a Genk art. 20 list lands in the server's
// drop directory, uploaded once (the server's own log counts the writes and renames); the file
// there opens with Debian's msoffcrypto-tool and openpyxl (tests/unit/office/office_oracle.py)
// and the released password, and holds exactly the rows computed independently from the
// extract (municipal_expected.py); the outbox copy is gone; the audit entry names the channel,
// the bytes, the SHA-256 and the host key. A server down at first gets the list on a later tick;
// a wrong host key fails the run clearly and delivers nothing.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>

#include "e2e_support.hpp"
#include "kbix/core/digest.hpp"
#include "kbix/core/protocol.hpp"
#include "kbix/runs/run_store.hpp"
#include "support/temp_dir.hpp"

namespace kbix::test {
namespace {

namespace fs = std::filesystem;

const fs::path kKeys = KBIX_ENVELOPE_TEST_KEYS;
const fs::path kGenkProtocol = KBIX_SOURCE_DIR "/config/protocols/genk-art20-2021.toml";
const std::string kOracle = KBIX_SOURCE_DIR "/tests/unit/office/office_oracle.py";
const std::string kExpected = KBIX_SOURCE_DIR "/tests/e2e/municipal_expected.py";
constexpr const char* kDrop = "inkomend";

// One exchange, genk, whose lists kbix drops on the world's sshd; `known_hosts` pins the server
// (a test may pin another key). The oracles' files (the extract, expected rows, the password)
// live in oracle(), outside the world that the privacy sweeps read whole.
class GenkDropWorld {
 public:
  explicit GenkDropWorld(const std::string& name)
      : world_(name), oracle_(make_temp_dir("kbix-sftp-drop-oracle")) {
    fs::create_directories(world_.sshd().sftp_root() / kDrop);
    fs::create_directories(world_.inbox_dir() / "kbi-gemeenten");
    fs::create_directories(world_.dir() / "exchanges.d");
    std::ofstream(world_.config_file())
        << "[daemon]\nstate_dir = \"" << world_.state_dir().string() << "\"\n"
        << "output_dir = \"" << world_.output_dir().string() << "\"\n"
        << "inbox_dir = \"" << world_.inbox_dir().string() << "\"\n"
        << "outbox_dir = \"" << outbox().string() << "\"\n"
        << "control_socket = \"" << world_.socket().string() << "\"\n"
        << "control_group = \"\"\nlog_level = \"info\"\n\n"
        << "[keys]\nsigning_certificate = \"" << (kKeys / "agii-sign-rsa.crt").string() << "\"\n"
        << "signing_key = \"" << (kKeys / "agii-sign-rsa.key").string() << "\"\n"
        << "decryption_certificate = \"" << (kKeys / "agii-enc-rsa.crt").string() << "\"\n"
        << "decryption_key = \"" << (kKeys / "agii-enc-rsa.key").string() << "\"\n\n"
        << "[audit]\ncheckpoint_every = 20\n";
    write_exchange(world_.sshd().known_hosts());
  }

  void write_exchange(const fs::path& known_hosts) {
    const SshdServer& sshd = world_.sshd();
    std::ofstream(world_.dir() / "exchanges.d" / "genk.toml")
        << "[exchange]\nsource = \"kbi-gemeenten\"\nprotocol = \"" << kGenkProtocol.string()
        << "\"\n\n[export]\nmunicipality = \"Stad Genk\"\nresidence_nis = \"71016\"\n"
        << "delivery = \"sftp\"\npoll_interval_seconds = 1\n\n"
        << "[sftp]\nhost = \"127.0.0.1\"\nport = " << sshd.port() << "\nuser = \"" << sshd.user()
        << "\"\nidentity_file = \"" << sshd.client_key().string() << "\"\n"
        << "known_hosts_file = \"" << known_hosts.string() << "\"\n"
        << "outbound_dir = \"" << kDrop << "\"\nconnect_timeout_seconds = 5\n";
  }

  ~GenkDropWorld() {
    std::error_code ignored;
    fs::remove_all(oracle_, ignored);
  }

  // A synthetic kbi-gemeenten extract in the inbox; a copy stays in oracle() for the expected rows.
  void generate(std::uint64_t people, std::uint64_t seed) {
    const fs::path extract = oracle_ / "kbi-gemeenten.csv";
    const auto made =
        run_shell(std::string(KBIX_GEN_EXE) + " --gemeenten " + extract.string() + " --people " +
                  std::to_string(people) + " --seed " + std::to_string(seed));
    ASSERT_EQ(made.exit_code, 0) << made.output;
    world_.add_personal_numbers_of(extract);
    fs::copy_file(extract, world_.inbox_dir() / "kbi-gemeenten" / "kbi-gemeenten.csv");
  }

  std::string start() {
    const auto started = world_.kbix("run start genk --request-ref GENK-SFTP-1");
    EXPECT_EQ(started.exit_code, 0) << started.output;
    return newest_run_id(world_);
  }
  std::optional<RunRecord> run(const std::string& id) const {
    auto store = RunStore::open(world_.state_dir() / "runs.sqlite3");
    if (!store) return std::nullopt;
    auto found = store->find(id);
    if (!found || !*found) return std::nullopt;
    return **found;
  }
  // The run once it is in `state` (within `limit`); nullopt, with the daemon's log, otherwise.
  std::optional<RunRecord> wait_for(const std::string& id, RunState state, const Daemon& daemon,
                                    std::chrono::seconds limit = std::chrono::seconds(60)) const {
    const bool reached = eventually(
        [&] {
          const auto now = run(id);
          return now && now->state == state;
        },
        limit);
    if (!reached) {
      ADD_FAILURE() << "run " << id << " is not " << to_string(state) << " after " << limit.count()
                    << " s: " << read_file(daemon.log_file());
      return std::nullopt;
    }
    return run(id);
  }
  std::vector<nlohmann::json> audit(const std::string& event) const {
    std::vector<nlohmann::json> entries;
    for (const auto& line : read_lines(world_.state_dir() / "audit" / "audit.jsonl")) {
      auto entry = nlohmann::json::parse(line, nullptr, false);
      if (entry.is_object() && entry.value("event", "") == event) entries.push_back(entry);
    }
    return entries;
  }

  ExchangeWorld& world() { return world_; }
  fs::path outbox() const { return world_.dir() / "outbox"; }
  fs::path drop_dir() const { return world_.sshd().sftp_root() / kDrop; }
  const fs::path& oracle() const { return oracle_; }

 private:
  ExchangeWorld world_;
  fs::path oracle_;
};

TEST(MunicipalSftpDrop, AGenkListLandsInTheDropDirectoryOnceAndOpensWithItsPassword) {
  GenkDropWorld setup("e2e-sftp-drop");
  ExchangeWorld& world = setup.world();
  setup.generate(3000, 2031);
  Daemon daemon(world);
  const std::string id = setup.start();
  const auto done = setup.wait_for(id, RunState::done, daemon);
  ASSERT_TRUE(done);
  const std::string name = done->facts.value("list_file", "");
  ASSERT_EQ(fs::path(name).extension(), ".xlsx");
  const fs::path dropped = setup.drop_dir() / name;
  ASSERT_EQ(files_under(setup.drop_dir()), std::vector<fs::path>{dropped}) << "only the list";
  EXPECT_TRUE(files_under(setup.outbox()).empty()) << "the outbox copy is removed";
  // The server saw one file written and one rename in the drop directory: one upload.
  EXPECT_EQ(world.sshd().files_written_in(kDrop), 1u);
  EXPECT_EQ(world.sshd().renames_in(kDrop), 1u);

  const auto delivered = setup.audit("export.delivered");
  ASSERT_EQ(delivered.size(), 1u);
  const auto& details = delivered.front()["details"];
  EXPECT_EQ(details.value("channel", ""), "sftp");
  EXPECT_EQ(details.value("delivered_by", ""), "kbix");
  EXPECT_EQ(details.value("delivery_remote_name", ""), name);
  EXPECT_EQ(details.value("delivery_bytes", std::uint64_t{0}), fs::file_size(dropped));
  const auto sha = run_shell("sha256sum " + dropped.string());
  EXPECT_EQ(details.value("delivery_sha256", "") + "  " + dropped.string() + "\n", sha.output);
  EXPECT_FALSE(details.value("delivery_cipher", "").empty());
  EXPECT_NE(
      details.value("delivery_host_key", "").find(key_fingerprint(world.sshd().host_public_key())),
      std::string::npos)
      << details.dump();

  // Nothing to record by hand; the status says what is left: the password, apart.
  const auto by_hand = world.kbix("export delivered " + id + " --channel sftp");
  EXPECT_EQ(by_hand.exit_code, 1) << by_hand.output;
  EXPECT_NE(by_hand.output.find("export.delivered_by_kbix"), std::string::npos) << by_hand.output;
  const auto status = world.kbix("status genk");
  EXPECT_NE(status.output.find("delivered by SFTP: inkomend/" + name), std::string::npos)
      << status.output;
  EXPECT_NE(status.output.find("kbix export password " + id), std::string::npos) << status.output;

  // The municipality opens the file with an independent reader and the password sent apart.
  const auto released = world.kbix("export password " + id + " --channel sms");
  ASSERT_EQ(released.exit_code, 0) << released.output;
  const std::string password = released.output.substr(0, released.output.find('\n'));
  ASSERT_EQ(password.size(), 23u) << "no password line";
  std::ofstream(setup.oracle() / "password") << password;
  std::ofstream(setup.oracle() / "wrong") << "ABCDEFG-HJKMNPR-STUVWXY";
  auto genk = load_protocol(kGenkProtocol);
  ASSERT_TRUE(genk && genk->export_rules);
  const fs::path expected = setup.oracle() / "genk.json";
  const auto computed =
      run_shell(kExpected + " " + (setup.oracle() / "kbi-gemeenten.csv").string() + " " +
                expected.string() + " --fields " + join(genk->export_rules->fields, ',') +
                " --residence " + genk->export_rules->scope.column + "=71016");
  ASSERT_EQ(computed.exit_code, 0) << computed.output;
  EXPECT_GT(read_json(expected).size(), 10u) << "a list this short would show nothing";
  const auto opened = run_shell(kOracle + " agile " + dropped.string() + " " + expected.string() +
                                " " + (setup.oracle() / "password").string());
  EXPECT_EQ(opened.exit_code, 0) << opened.output;
  EXPECT_EQ(run_shell(kOracle + " agile " + dropped.string() + " " + expected.string() + " " +
                      (setup.oracle() / "wrong").string())
                .exit_code,
            3);
  EXPECT_EQ(daemon.stop(), 0);
  // The preflight of such an exchange checks the drop directory (after the counts above: its
  // probe is written, renamed and removed there too).
  const auto checked = world.kbix("-e genk check-remote");
  EXPECT_EQ(checked.exit_code, 0) << checked.output;
  EXPECT_NE(checked.output.find("drop directory inkomend writable"), std::string::npos)
      << checked.output;
  EXPECT_EQ(files_under(setup.drop_dir()).size(), 1u) << "the probe is gone";
  // The drop never carried the password: not on the server, not in any file of the world.
  for (const auto& root : {world.dir(), world.sshd().work_dir()}) {
    for (const auto& file : files_under(root)) {
      EXPECT_EQ(read_file(file).find(password), std::string::npos) << file;
    }
  }
  EXPECT_TRUE(world.personal_data_found().empty()) << join(world.personal_data_found(), '\n');
}

TEST(MunicipalSftpDrop, AServerDownAtFirstGetsTheListOnALaterTick) {
  GenkDropWorld setup("e2e-sftp-drop-down");
  ExchangeWorld& world = setup.world();
  setup.generate(500, 2032);
  world.sshd().stop();
  Daemon daemon(world);
  const std::string id = setup.start();
  ASSERT_TRUE(eventually([&] { return !setup.audit("export.delivery_failed").empty(); },
                         std::chrono::seconds(60)))
      << read_file(daemon.log_file());
  const auto waiting = setup.run(id);
  ASSERT_TRUE(waiting);
  EXPECT_EQ(waiting->state, RunState::placed) << "a passing failure leaves the list placed";
  const std::string code =
      setup.audit("export.delivery_failed").front()["details"].value("code", "");
  EXPECT_EQ(code.rfind("sftp.", 0), 0u) << code;
  const auto status = world.kbix("status genk");
  EXPECT_NE(status.output.find("delivering by SFTP"), std::string::npos) << status.output;
  EXPECT_NE(status.output.find("kbix tries again on the next tick"), std::string::npos)
      << status.output;
  EXPECT_EQ(status.output.find("kbix export delivered"), std::string::npos) << status.output;

  world.sshd().start();
  const auto done = setup.wait_for(id, RunState::done, daemon, std::chrono::seconds(90));
  ASSERT_TRUE(done);
  const std::string name = done->facts.value("list_file", "");
  EXPECT_EQ(files_under(setup.drop_dir()), std::vector<fs::path>{setup.drop_dir() / name});
  EXPECT_EQ(setup.audit("export.delivered").size(), 1u);
  EXPECT_TRUE(setup.audit("run.failed").empty());
  EXPECT_TRUE(files_under(setup.outbox()).empty());
  EXPECT_EQ(daemon.stop(), 0);
}

TEST(MunicipalSftpDrop, AWrongHostKeyFailsTheRunClearlyAndDeliversNothing) {
  GenkDropWorld setup("e2e-sftp-drop-hostkey");
  ExchangeWorld& world = setup.world();
  const fs::path other = world.dir() / "other_host_key";
  make_ed25519_key(other);
  const fs::path pinned = world.dir() / "known_hosts_other";
  world.sshd().write_known_hosts(pinned, other.string() + ".pub");
  setup.write_exchange(pinned);
  setup.generate(500, 2033);
  Daemon daemon(world);
  const std::string id = setup.start();
  const auto failed = setup.wait_for(id, RunState::failed, daemon);
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->failure_code, "sftp.host_key_mismatch");
  EXPECT_EQ(failed->failed_in, RunState::placed);
  EXPECT_FALSE(failed->retryable);
  const auto status = world.kbix("status genk");
  EXPECT_NE(status.output.find("sftp.host_key_mismatch"), std::string::npos) << status.output;
  EXPECT_NE(status.output.find("is not retried"), std::string::npos) << status.output;
  EXPECT_TRUE(files_under(setup.drop_dir()).empty());
  EXPECT_EQ(world.sshd().files_written_in(kDrop), 0u);
  EXPECT_TRUE(setup.audit("export.delivered").empty());
  const auto entries = setup.audit("run.failed");
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries.front()["details"].value("code", ""), "sftp.host_key_mismatch");
  EXPECT_EQ(daemon.stop(), 0);
}

}  // namespace
}  // namespace kbix::test
