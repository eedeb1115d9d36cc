// Unit tests of the exchange engine against FakeRemote (tests/support/fake_remote_store.hpp): the
// whole round trip without a network, and a fault injected at every remote operation of every step
// leads to the documented state and audit entry, and then to exactly one upload and one
// publication once the fault has passed. The same engine runs end to end against a real sshd in
// tests/e2e/.
#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "engine_fixture.hpp"
#include "kbix/audit/audit.hpp"
#include "kbix/config/config.hpp"
#include "kbix/domain/extract_export.hpp"
#include "kbix/envelope/envelope.hpp"
#include "kbix/exchange/exchange.hpp"
#include "kbix/runs/run_id.hpp"
#include "kbix/runs/run_state.hpp"
#include "kbix/runs/run_store.hpp"
#include "partner_sim/partner_sim.hpp"
#include "support/fake_remote_store.hpp"
#include "support/temp_dir.hpp"

namespace kbix {
namespace {

namespace fs = std::filesystem;
using test::FakeRemote;
using test::RemoteFault;
using test::RemoteOp;

const fs::path kKeys = KBIX_ENVELOPE_TEST_KEYS;
const fs::path kProtocol =
    fs::path(KBIX_SOURCE_DIR) / "config/protocols/vdab-derde-pijler-2023.toml";

class Engine : public test::EngineFixture {
 protected:
  void SetUp() override {
    dir_ = test::make_temp_dir("kbix-engine");
    for (const char* sub : {"state", "output", "inbox", "remote/naar-vdab", "remote/van-vdab"}) {
      fs::create_directories(dir_ / sub);
    }
    write_config();
    auto config = load_config(dir_ / "kbix.toml");
    ASSERT_TRUE(config) << config.error().describe();
    config_ = *config;
    open_engine();
    generate_extract(200);
  }
  void write_config() {
    std::ofstream out(dir_ / "kbix.toml");
    out << "[daemon]\nstate_dir = \"" << (dir_ / "state").string() << "\"\n"
        << "output_dir = \"" << (dir_ / "output").string() << "\"\n"
        << "inbox_dir = \"" << (dir_ / "inbox").string() << "\"\n"
        << "control_socket = \"" << (dir_ / "control.sock").string() << "\"\n"
        << "control_group = \"\"\nlog_level = \"warn\"\n\n"
        << "[protocol]\nfile = \"" << kProtocol.string() << "\"\n\n"
        << "[schedule]\nrun_dates = [\"03-15\", \"09-15\"]\nreturn_deadline_days = 30\n\n"
        << example_keys_section() << "[partner]\nname = \"VDAB\"\n"
        << "encryption_certificate = \"" << (kKeys / "vdab-enc-rsa.crt").string() << "\"\n"
        << "signing_certificate = \"" << (kKeys / "vdab-sign-rsa.crt").string() << "\"\n\n"
        << "[sftp]\nhost = \"127.0.0.1\"\nport = 22\nuser = \"unused\"\n"
        << "identity_file = \"" << (kKeys / "unused-identity").string() << "\"\n"
        << "known_hosts_file = \"" << (kKeys / "known_hosts").string() << "\"\n"
        << "outbound_dir = \"naar-vdab\"\nreturn_dir = \"van-vdab\"\n"
        << "min_file_age_seconds = 1\n\n[audit]\ncheckpoint_every = 1000\n";
  }

  void generate_extract(int people) {
    const std::string command = std::string(KBIX_GEN_EXE) + " --people " + std::to_string(people) +
                                " --seed 5 --extract " + (dir_ / "inbox/kbi-extract.csv").string() +
                                " >/dev/null 2>&1";
    ASSERT_EQ(std::system(command.c_str()), 0);
  }

  // VDAB's side: answers every outbound file in the remote directory, as the partner would.
  void partner_answers() {
    sim::SimulatorOptions options;
    options.vdab_decryption_certificate = kKeys / "vdab-enc-rsa.crt";
    options.vdab_decryption_key = kKeys / "vdab-enc-rsa.key";
    options.vdab_signing_certificate = kKeys / "vdab-sign-rsa.crt";
    options.vdab_signing_key = kKeys / "vdab-sign-rsa.key";
    options.agii_signing_certificate = kKeys / "agii-sign-rsa.crt";
    options.agii_encryption_certificate = kKeys / "agii-enc-rsa.crt";
    options.protocol_file = kProtocol;
    options.work_dir = dir_ / "partner-work";
    for (const auto& entry : fs::directory_iterator(remote_->dir("naar-vdab"))) {
      const std::string name = entry.path().filename().string();
      if (name.front() == '.') continue;
      auto answered = sim::answer_outbound(options, entry.path(), remote_->dir("van-vdab"));
      ASSERT_TRUE(answered) << answered.error().describe();
      fs::remove(entry.path());
    }
  }

  std::string start() {
    StartRequest request;
    request.actor = {"tester", 1000};
    request.force = true;  // outside the protocol's run dates
    request.reason = "engine unit test";
    auto started = exchange_->start_run(request);
    EXPECT_TRUE(started) << started.error().describe();
    return started ? started->id : "";
  }

  // A poll as the daemon makes it, a minute later than now: the return is then older than the
  // protocol's minimum file age.
  Status poll() {
    return exchange_->poll_returns(Exchange::Clock::now() + std::chrono::minutes(1));
  }

  // Polls until the return is downloaded (readiness wants two listings with the same size).
  void poll_until_downloaded(const std::string& id) {
    for (int pass = 0; pass < 3 && run(id).state == RunState::awaiting_return; ++pass) {
      (void)poll();
    }
  }

  // A run the partner answered, whose return vanishes before its first download (a copy is kept
  // to send again), polled until that download failed; its id.
  std::string answered_run_whose_return_vanishes() {
    const std::string id = start();
    EXPECT_TRUE(exchange_->drive(id));
    partner_answers();
    const std::string name = return_remote_name(config_.protocol.id, id);
    fs::copy_file(remote_->dir("van-vdab") / name, dir_ / "return-again.p7m");
    remote_->vanish_before_download(name);
    poll_until_downloaded(id);
    return id;
  }
  void send_the_vanished_return_again(const std::string& id) {
    fs::copy_file(dir_ / "return-again.p7m",
                  remote_->dir("van-vdab") / return_remote_name(config_.protocol.id, id));
  }

  // Drives the run to its end the way the daemon would: steps, polls, automatic retries.
  void finish(const std::string& id) {
    for (int round = 0; round < 10; ++round) {
      const RunRecord now = run(id);
      if (now.state == RunState::done || now.state == RunState::cancelled) return;
      if (now.state == RunState::failed && !now.retryable) return;
      (void)exchange_->resume_retryable();
      (void)exchange_->drive(id);
      if (run(id).state == RunState::awaiting_return) {
        if (fs::is_empty(remote_->dir("van-vdab"))) partner_answers();
        poll_until_downloaded(id);
      }
    }
  }

  void expect_one_clean_round_trip(const std::string& id) {
    EXPECT_EQ(run(id).state, RunState::done);
    EXPECT_EQ(remote_->completed_uploads(), 1);
    EXPECT_EQ(audit_count("run.published"), 1);
    EXPECT_EQ(audit_count("run.download"), 1);
    EXPECT_TRUE(fs::is_empty(remote_->dir("naar-vdab")));
    EXPECT_TRUE(fs::is_empty(remote_->dir("van-vdab")));
    EXPECT_TRUE(fs::exists(exchange_->published_output(id)));
    EXPECT_TRUE(fs::exists(exchange_->published_manifest(id)));
  }
};

TEST_F(Engine, RunsTheWholeRoundTripAgainstTheFakeStore) {
  const std::string id = start();
  auto reached = exchange_->drive(id);
  ASSERT_TRUE(reached) << reached.error().describe();
  EXPECT_EQ(*reached, RunState::awaiting_return);
  EXPECT_EQ(remote_->completed_uploads(), 1);
  ASSERT_TRUE(
      fs::exists(remote_->dir("naar-vdab") / outbound_remote_name(config_.protocol.id, id)));
  partner_answers();
  poll_until_downloaded(id);
  EXPECT_EQ(run(id).state, RunState::return_downloaded);
  ASSERT_TRUE(exchange_->drive(id));
  expect_one_clean_round_trip(id);
  EXPECT_EQ(audit_count("remote.delete"), 1);  // the return; the partner took the outbound file
  // The run's step events are the run table's, in the table's order.
  std::vector<std::string> expected;
  std::set<std::string> step_events;
  for (const auto& row : run_transitions()) {
    expected.emplace_back(row.audit_event);
    step_events.emplace(row.audit_event);
    if (!row.alternative_event.empty()) step_events.emplace(row.alternative_event);
  }
  std::vector<std::string> logged;
  for (const auto& entry : audit_entries()) {
    if (step_events.contains(entry.value("event", ""))) logged.push_back(entry["event"]);
  }
  EXPECT_EQ(logged, expected);
}

// A fault in a step: the step fails, the run is marked failed and retryable in that state, the
// failure is audited with its code; the automatic retry then finishes the run with one upload.
struct StepFault {
  std::string name;
  std::vector<RemoteFault> faults;
  RunState failed_in;
  std::string code;
};

class EngineStepFault : public Engine, public ::testing::WithParamInterface<StepFault> {};

TEST_P(EngineStepFault, FailsRetryablyInItsStepIsAuditedAndThenFinishesOnce) {
  const StepFault& param = GetParam();
  for (const auto& fault : param.faults) remote_->inject(fault);
  const std::string id = start();
  for (int round = 0; round < 4 && run(id).state != RunState::failed; ++round) {
    (void)exchange_->drive(id);
    if (run(id).state == RunState::awaiting_return) {
      if (fs::is_empty(remote_->dir("van-vdab"))) partner_answers();
      poll_until_downloaded(id);
    }
  }
  const RunRecord failed = run(id);
  ASSERT_EQ(failed.state, RunState::failed);
  EXPECT_EQ(failed.failed_in, param.failed_in);
  EXPECT_TRUE(failed.retryable);
  EXPECT_EQ(failed.failure_code, param.code);
  const auto entry = last_audit("run.failed");
  ASSERT_TRUE(entry.is_object());
  EXPECT_EQ(entry["details"].value("code", ""), param.code);
  EXPECT_EQ(entry["details"].value("in_state", ""), to_string(param.failed_in));
  EXPECT_TRUE(entry["details"].value("retryable", false));

  finish(id);
  expect_one_clean_round_trip(id);
  EXPECT_EQ(audit_count("run.retry"), 1);
}

INSTANTIATE_TEST_SUITE_P(
    EveryRemoteOperationOfEveryStep, EngineStepFault,
    ::testing::Values(
        // Connecting is tried three times (kbix/sftp/retry.hpp) before the step fails.
        StepFault{"UploadCannotConnect",
                  {{RemoteOp::connect, 1, "sftp.connection_lost"},
                   {RemoteOp::connect, 2, "sftp.connection_lost"},
                   {RemoteOp::connect, 3, "sftp.connection_lost"}},
                  RunState::outbound_sealed,
                  "sftp.connection_lost"},
        StepFault{"UploadStatOfOutboundTimesOut",
                  {{RemoteOp::stat, 1, "sftp.timeout"}},
                  RunState::outbound_sealed,
                  "sftp.timeout"},
        StepFault{"UploadStatOfReturnLost",
                  {{RemoteOp::stat, 2, "sftp.connection_lost"}},
                  RunState::outbound_sealed,
                  "sftp.connection_lost"},
        StepFault{"UploadItselfLost",
                  {{RemoteOp::upload, 1, "sftp.connection_lost"}},
                  RunState::outbound_sealed,
                  "sftp.connection_lost"},
        StepFault{"UploadItselfTimesOut",
                  {{RemoteOp::upload, 1, "sftp.timeout"}},
                  RunState::outbound_sealed,
                  "sftp.timeout"},
        StepFault{"CleanUpRemoveLost",
                  {{RemoteOp::remove, 1, "sftp.connection_lost"}},
                  RunState::published,
                  "sftp.connection_lost"},
        StepFault{"CleanUpRemoveTimesOut",
                  {{RemoteOp::remove, 2, "sftp.timeout"}},
                  RunState::published,
                  "sftp.timeout"}),
    [](const auto& test_case) { return test_case.param.name; });

TEST_F(Engine, ALostConnectionIsRetriedWithinTheStepAndTheRunGoesOn) {
  remote_->inject({RemoteOp::connect, 1, "sftp.connection_lost"});
  const std::string id = start();
  ASSERT_TRUE(exchange_->drive(id));
  EXPECT_EQ(run(id).state, RunState::awaiting_return);
  EXPECT_EQ(remote_->calls(RemoteOp::connect), 2);
  EXPECT_EQ(audit_count("run.failed"), 0);
  EXPECT_EQ(audit_count("sftp.connect"), 1);
  finish(id);
  expect_one_clean_round_trip(id);
}

// A fault while polling for the return: the poll fails, the run keeps waiting (nothing is marked
// failed, nothing downloaded half), and the next poll picks the return up.
struct PollFault {
  std::string name;
  std::vector<RemoteFault> faults;
  std::string code;
};

class EnginePollFault : public Engine, public ::testing::WithParamInterface<PollFault> {};

TEST_P(EnginePollFault, KeepsTheRunWaitingAndTheNextPollDownloadsTheReturn) {
  const std::string id = start();
  ASSERT_TRUE(exchange_->drive(id));
  partner_answers();
  for (const auto& fault : GetParam().faults) remote_->inject(fault);
  for (int pass = 0; pass < 6 && run(id).state == RunState::awaiting_return; ++pass) {
    auto polled = poll();
    if (!polled) {
      EXPECT_EQ(polled.error().code, GetParam().code);
      EXPECT_EQ(run(id).state, RunState::awaiting_return);
      EXPECT_FALSE(fs::exists(exchange_->run_directory(id) / "return.csv.p7m"));
    }
  }
  EXPECT_EQ(run(id).state, RunState::return_downloaded);
  EXPECT_EQ(audit_count("run.failed"), 0);
  finish(id);
  expect_one_clean_round_trip(id);
}

INSTANTIATE_TEST_SUITE_P(
    EveryRemoteOperationOfThePoll, EnginePollFault,
    ::testing::Values(
        PollFault{"CannotConnect",
                  {{RemoteOp::connect, 2, "sftp.connection_lost"},
                   {RemoteOp::connect, 3, "sftp.connection_lost"},
                   {RemoteOp::connect, 4, "sftp.connection_lost"}},
                  "sftp.connection_lost"},
        PollFault{"ListTimesOut", {{RemoteOp::list, 1, "sftp.timeout"}}, "sftp.timeout"},
        PollFault{
            "ListLost", {{RemoteOp::list, 2, "sftp.connection_lost"}}, "sftp.connection_lost"},
        PollFault{"DownloadLost",
                  {{RemoteOp::download, 1, "sftp.connection_lost"}},
                  "sftp.connection_lost"},
        PollFault{"DownloadTimesOut", {{RemoteOp::download, 1, "sftp.timeout"}}, "sftp.timeout"}),
    [](const auto& test_case) { return test_case.param.name; });

TEST_F(Engine, AReturnThatVanishesBeforeItsDownloadLeavesTheRunWaitingWithNothingHalfWritten) {
  const std::string id = answered_run_whose_return_vanishes();
  EXPECT_EQ(run(id).state, RunState::awaiting_return);
  EXPECT_FALSE(fs::exists(exchange_->run_directory(id) / "return.csv.p7m"));
  EXPECT_EQ(audit_count("run.download"), 0);
  EXPECT_EQ(audit_count("run.failed"), 0);
  // The partner sends it again: the run goes on.
  send_the_vanished_return_again(id);
  finish(id);
  EXPECT_EQ(run(id).state, RunState::done);
  EXPECT_EQ(remote_->completed_uploads(), 1);
}

// The anonymous memory files holding an opened snapshot or return (sealed_bytes.cpp names them).
std::size_t open_memory_files() {
  std::size_t count = 0;
  for (const auto& entry : fs::directory_iterator("/proc/self/fd")) {
    std::error_code error;
    const auto target = fs::read_symlink(entry.path(), error).string();
    if (!error && target.rfind("/memfd:kbix-open-content", 0) == 0) ++count;
  }
  return count;
}

// Waits up to `seconds` for `count` open memory files; the count at the end.
std::size_t wait_for_memory_files(std::size_t count, int seconds) {
  for (int i = 0; i < seconds * 20 && open_memory_files() != count; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return open_memory_files();
}

TEST_F(Engine, TheSnapshotIsOpenedWhileTheReturnDownloadsAndDroppedWhenNoMergeFollows) {
  // A download that fails: the snapshot opened for it is dropped at once (nothing in memory).
  const std::string id = answered_run_whose_return_vanishes();
  ASSERT_EQ(run(id).state, RunState::awaiting_return);
  EXPECT_EQ(open_memory_files(), 0u);
  EXPECT_EQ(wait_for_memory_files(1, 1), 0u) << "no snapshot left opening for a waiting run";
  // The partner sends it again: downloaded, the snapshot is opened in memory before the
  // verification step runs, and nothing is left open once the run is done.
  send_the_vanished_return_again(id);
  poll_until_downloaded(id);
  ASSERT_EQ(run(id).state, RunState::return_downloaded);
  EXPECT_EQ(wait_for_memory_files(1, 10), 1u) << "the snapshot, opened during the download";
  finish(id);
  EXPECT_EQ(run(id).state, RunState::done);
  EXPECT_EQ(open_memory_files(), 0u);
}

TEST_F(Engine, AReturnListedTwiceIsDownloadedOnceAndTheRunFinishes) {
  const std::string id = start();
  ASSERT_TRUE(exchange_->drive(id));
  partner_answers();
  remote_->list_twice(return_remote_name(config_.protocol.id, id));
  poll_until_downloaded(id);
  EXPECT_EQ(run(id).state, RunState::return_downloaded);
  EXPECT_EQ(audit_count("run.download"), 1);
  EXPECT_EQ(audit_count("return.quarantined"), 0);
  finish(id);
  expect_one_clean_round_trip(id);
}

TEST_F(Engine, AnOutboundFileAlreadyOnTheServerIsNotSentAgain) {
  const std::string id = start();
  // The upload's rename happened but the process died before `uploaded` was committed: the
  // engine finds our file on the server and confirms instead of uploading again.
  remote_->inject({RemoteOp::upload, 1, "sftp.connection_lost"});
  (void)exchange_->drive(id);
  ASSERT_EQ(run(id).state, RunState::failed);
  const fs::path sealed = exchange_->run_directory(id) / "outbound.csv.p7m";
  fs::copy_file(sealed, remote_->dir("naar-vdab") / outbound_remote_name(config_.protocol.id, id));
  finish(id);
  EXPECT_EQ(run(id).state, RunState::done);
  EXPECT_EQ(remote_->completed_uploads(), 0);
  EXPECT_EQ(audit_count("run.upload_confirmed"), 1);
  EXPECT_EQ(audit_count("run.upload"), 0);
}

// A run sealed before the outbound list existed (its directory holds snapshot.csv.p7m and no
// outbound-list.csv.p7m) exports its outbound file from the snapshot: the same file as the export
// of the extract. The engine is stopped (a crash) right after the extract is sealed.
TEST_F(Engine, ARunSealedBeforeTheOutboundListSendsTheSameOutboundFile) {
  std::ifstream extract(dir_ / "inbox/kbi-extract.csv", std::ios::binary);
  std::ostringstream expected;
  ASSERT_TRUE(export_outbound(extract, "kbi-extract.csv", config_.protocol, expected));
  const std::string id = start();
  const fs::path run_dir = exchange_->run_directory(id);
  EXPECT_EXIT(
      {
        ::setenv("KBIX_TEST_KILL_AFTER", "extract_sealed", 1);
        (void)exchange_->drive(id);
        std::exit(0);
      },
      ::testing::KilledBySignal(SIGKILL), "");
  open_engine();
  ASSERT_EQ(run(id).state, RunState::extract_sealed);
  ASSERT_TRUE(fs::exists(run_dir / "snapshot.csv.p7m"));
  ASSERT_TRUE(fs::remove(run_dir / "outbound-list.csv.p7m"));  // as an earlier version left it
  auto reached = exchange_->drive(id);
  ASSERT_TRUE(reached) << reached.error().describe();
  EXPECT_EQ(*reached, RunState::awaiting_return);
  EXPECT_EQ(run(id).facts.value("outbound_rows", std::uint64_t{0}),
            run(id).facts["export"].value("exported", std::uint64_t{1}));

  OpenerConfig vdab;  // the partner opens what was uploaded
  vdab.our_certificate = kKeys / "vdab-enc-rsa.crt";
  vdab.our_key = kKeys / "vdab-enc-rsa.key";
  vdab.pinned_signer_certificates = {kKeys / "agii-sign-rsa.crt"};
  auto opener = Opener::create(vdab);
  ASSERT_TRUE(opener) << opener.error().describe();
  const fs::path opened = dir_ / "outbound-opened.csv";
  auto report = opener->open(
      remote_->dir("naar-vdab") / outbound_remote_name(config_.protocol.id, id), opened);
  ASSERT_TRUE(report) << report.error().describe();
  std::ifstream in(opened, std::ios::binary);
  const std::string sent((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(sent, expected.str());
  EXPECT_GT(std::count(sent.begin(), sent.end(), '\n'), 100);

  partner_answers();  // and the run finishes as any other
  finish(id);
  expect_one_clean_round_trip(id);
}

}  // namespace
}  // namespace kbix
