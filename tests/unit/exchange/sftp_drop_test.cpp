// Unit tests of the SFTP drop of a municipal list ([export] delivery = "sftp") against FakeRemote
// (tests/support/fake_remote_store.hpp): kbix itself moves a placed Genk list to delivered by
// uploading it once into the municipality's drop directory, audits export.delivered (channel
// sftp, by kbix, remote name, bytes, SHA-256, cipher, host key), then removes the outbox copy. A
// fault injected at every remote operation leads to the documented state and audit entry:
// passing ones leave the run placed for the next tick, permanent ones fail it; a final name
// already there, a crash around the rename and a file the municipality took at once never lead
// to a second upload. The same step runs against a real sshd in tests/e2e/.
#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "engine_fixture.hpp"
#include "kbix/audit/audit.hpp"
#include "kbix/config/config.hpp"
#include "kbix/core/digest.hpp"
#include "kbix/exchange/exchange.hpp"
#include "kbix/runs/run_state.hpp"
#include "kbix/runs/run_store.hpp"
#include "kbix/runs/status_view.hpp"
#include "support/fake_remote_store.hpp"
#include "support/temp_dir.hpp"

namespace kbix {
namespace {

namespace fs = std::filesystem;
using test::RemoteFault;
using test::RemoteOp;

const fs::path& kKeys = test::kEngineKeys;
const fs::path kGenk = fs::path(KBIX_SOURCE_DIR) / "config/protocols/genk-art20-2021.toml";
constexpr const char* kDrop = "inkomend";

std::string file_bytes(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

class SftpDrop : public test::EngineFixture {
 protected:
  void SetUp() override {
    dir_ = test::make_temp_dir("kbix-sftp-drop");
    for (const char* sub : {"state", "output", "inbox/kbi-gemeenten", "outbox", "exchanges.d"}) {
      fs::create_directories(dir_ / sub);
    }
    fs::create_directories(dir_ / "remote" / kDrop);
    std::ofstream(dir_ / "kbix.toml")
        << "[daemon]\nstate_dir = \"" << (dir_ / "state").string() << "\"\n"
        << "output_dir = \"" << (dir_ / "output").string() << "\"\n"
        << "inbox_dir = \"" << (dir_ / "inbox").string() << "\"\n"
        << "outbox_dir = \"" << (dir_ / "outbox").string() << "\"\n"
        << "control_socket = \"" << (dir_ / "control.sock").string() << "\"\n"
        << "log_level = \"warn\"\n\n"
        << example_keys_section() << "[audit]\ncheckpoint_every = 1000\n";
    std::ofstream(dir_ / "exchanges.d" / "genk.toml")
        << "[exchange]\nsource = \"kbi-gemeenten\"\nprotocol = \"" << kGenk.string() << "\"\n\n"
        << "[export]\nmunicipality = \"Stad Genk\"\nresidence_nis = \"71016\"\n"
        << "delivery = \"sftp\"\n\n"
        << "[sftp]\nhost = \"127.0.0.1\"\nuser = \"unused\"\n"
        << "identity_file = \"" << (kKeys / "unused-identity").string() << "\"\n"
        << "known_hosts_file = \"" << (kKeys / "known_hosts").string() << "\"\n"
        << "outbound_dir = \"" << kDrop << "\"\n";
    auto config = load_config(dir_ / "kbix.toml", "genk");
    ASSERT_TRUE(config) << config.error().describe();
    ASSERT_TRUE(config->delivers_by_sftp());
    config_ = *config;
    const std::string generate = std::string(KBIX_GEN_EXE) + " --gemeenten " +
                                 (dir_ / "inbox/kbi-gemeenten/kbi-gemeenten.csv").string() +
                                 " --people 300 --seed 11 >/dev/null 2>&1";
    ASSERT_EQ(std::system(generate.c_str()), 0);
    open_engine();
  }
  std::string start() {
    StartRequest request;
    request.actor = {"tester", 1000};
    request.request_reference = "GENK-TEST-1";
    auto started = exchange_->start_run(request);
    EXPECT_TRUE(started) << started.error().describe();
    return started ? started->id : "";
  }
  // Drives the run up to placed, its first drop cut by a passing fault (the look at the final
  // name times out), so that the test can arrange the server before the next attempt.
  std::string start_and_hold_placed() {
    remote_->inject({RemoteOp::stat, 1, "sftp.timeout"});
    const std::string id = start();
    auto reached = exchange_->drive(id);
    EXPECT_FALSE(reached);
    EXPECT_EQ(run(id).state, RunState::placed);
    return id;
  }

  fs::path list_of(const std::string& id) {
    return exchange_->run_directory(id) / run(id).facts.value("list_file", "");
  }
  fs::path dropped(const std::string& id) { return remote_->dir(kDrop) / list_of(id).filename(); }
  std::vector<fs::path> drop_directory() const {
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(remote_->dir(kDrop))) {
      files.push_back(entry.path());
    }
    return files;
  }
  // The run finished with exactly its list in the drop directory and the outbox copy gone.
  void expect_delivered_once(const std::string& id, const std::string& how) {
    const RunRecord done = run(id);
    EXPECT_EQ(done.state, RunState::done);
    ASSERT_EQ(drop_directory().size(), 1u) << "exactly the list, no temporary file";
    EXPECT_EQ(file_bytes(dropped(id)), file_bytes(list_of(id)));
    EXPECT_TRUE(fs::is_empty(config_.outbox())) << "the outbox copy is removed";
    const auto delivered = audit_entries("export.delivered");
    ASSERT_EQ(delivered.size(), 1u);
    const auto& details = delivered.front()["details"];
    EXPECT_EQ(details.value("delivery_how", ""), how);
    EXPECT_EQ(details.value("channel", ""), "sftp");
    EXPECT_EQ(details.value("delivered_by", ""), "kbix");
    EXPECT_EQ(delivered.front()["actor"].value("name", ""), "scheduler");  // kbix itself
    EXPECT_EQ(details.value("delivery_remote_dir", ""), kDrop);
    EXPECT_EQ(details.value("delivery_remote_name", ""), list_of(id).filename().string());
    EXPECT_EQ(details.value("delivery_bytes", std::uint64_t{0}), fs::file_size(list_of(id)));
    EXPECT_EQ(details.value("delivery_sha256", ""), *sha256_file_hex(list_of(id)));
    EXPECT_EQ(details.value("delivery_sha256", ""), done.facts.value("list_sha256", "x"));
    EXPECT_EQ(details.value("delivery_cipher", ""), "fake");
    EXPECT_EQ(details.value("delivery_host_key", ""), "fake SHA256:none");
    EXPECT_TRUE(audit_entries("run.failed").empty());
  }
};

TEST_F(SftpDrop, KbixDropsTheListOnceAuditsItAndRemovesTheOutboxCopy) {
  const std::string id = start();
  auto reached = exchange_->drive(id);
  ASSERT_TRUE(reached) << reached.error().describe();
  EXPECT_EQ(*reached, RunState::done);
  EXPECT_EQ(remote_->completed_uploads(), 1);
  expect_delivered_once(id, "uploaded");
  EXPECT_EQ(audit_entries("sftp.connect").size(), 1u);
  // The run's step events are the export table's, in its order: placed -> delivered is kbix's.
  std::vector<std::string> expected;
  for (const auto& row : run_transitions(ProtocolKind::export_)) {
    expected.emplace_back(row.audit_event);
  }
  std::vector<std::string> logged;
  for (const auto& entry : audit_entries()) {
    const std::string event = entry.value("event", "");
    if (std::find(expected.begin(), expected.end(), event) != expected.end()) {
      logged.push_back(event);
    }
  }
  EXPECT_EQ(logged, expected);
  // The password is released by the audited command only, and never went with the file.
  auto password = exchange_->release_password(id, {"sms", false, ""}, {"tester", 1000});
  ASSERT_TRUE(password) << password.error().describe();
  EXPECT_EQ(file_bytes(dropped(id)).find(std::string(password->reveal())), std::string::npos);
  const std::string status = format_run(run_to_json(run(id)));
  EXPECT_NE(status.find("delivered by SFTP: inkomend/" + list_of(id).filename().string()),
            std::string::npos)
      << status;
}

TEST_F(SftpDrop, RecordingTheDeliveryByHandIsRefused) {
  const std::string id = start_and_hold_placed();
  auto recorded = exchange_->record_delivery(id, {"sftp", ""}, {"tester", 1000});
  ASSERT_FALSE(recorded);
  EXPECT_EQ(recorded.error().code, "export.delivered_by_kbix");
  EXPECT_EQ(run(id).state, RunState::placed);
  EXPECT_TRUE(audit_entries("export.delivered").empty());
}

// A passing fault: the run stays placed (not failed), the attempt is audited with its code and
// counted, the status says kbix tries again; the next tick delivers it, once.
struct PassingFault {
  std::string name;
  std::vector<RemoteFault> faults;
  std::string code;
  int failed_ticks;
};

// The three attempts of the round trip's connection policy, each refused by a server that is down.
std::vector<RemoteFault> every_connect_attempt_fails() {
  std::vector<RemoteFault> faults;
  for (int attempt = 1; attempt <= 3; ++attempt) {
    faults.push_back({RemoteOp::connect, attempt, "sftp.connect_failed"});
  }
  return faults;
}

class SftpDropPassingFault : public SftpDrop, public ::testing::WithParamInterface<PassingFault> {};

TEST_P(SftpDropPassingFault, LeavesTheRunPlacedAndALaterTickDeliversItOnce) {
  const PassingFault& param = GetParam();
  for (const auto& fault : param.faults) remote_->inject(fault);
  const std::string id = start();
  for (int tick = 1; tick <= param.failed_ticks; ++tick) {
    auto reached = exchange_->drive(id);
    ASSERT_FALSE(reached) << "tick " << tick;
    EXPECT_EQ(reached.error().code, "export.delivery_failed");
    EXPECT_NE(reached.error().message.find(param.code), std::string::npos)
        << reached.error().message;
    const RunRecord placed = run(id);
    EXPECT_EQ(placed.state, RunState::placed);
    EXPECT_EQ(placed.facts.value("delivery_attempts", 0), tick);
    EXPECT_EQ(placed.facts.value("delivery_last_error", ""), param.code);
    const auto failed = audit_entries("export.delivery_failed");
    ASSERT_EQ(failed.size(), static_cast<std::size_t>(tick));
    EXPECT_EQ(failed.back()["details"].value("code", ""), param.code);
    EXPECT_EQ(failed.back()["details"].value("attempt", 0), tick);
    EXPECT_TRUE(audit_entries("run.failed").empty());
    EXPECT_FALSE(fs::exists(dropped(id)));
    EXPECT_FALSE(fs::is_empty(config_.outbox())) << "the list waits in the outbox";
    const std::string status = format_run(run_to_json(placed));
    EXPECT_NE(status.find("delivering by SFTP"), std::string::npos) << status;
    EXPECT_NE(status.find("failed [" + param.code + "]"), std::string::npos) << status;
    EXPECT_NE(status.find("kbix export password " + id), std::string::npos) << status;
    EXPECT_EQ(status.find("kbix export delivered"), std::string::npos) << status;
  }
  auto reached = exchange_->drive(id);  // a later tick
  ASSERT_TRUE(reached) << reached.error().describe();
  EXPECT_EQ(*reached, RunState::done);
  EXPECT_EQ(remote_->completed_uploads(), 1);
  expect_delivered_once(id, "uploaded");
}

INSTANTIATE_TEST_SUITE_P(
    EveryRemoteOperationOfTheDrop, SftpDropPassingFault,
    ::testing::Values(
        // Connecting is tried three times (the round trip's policy) before the tick gives up.
        PassingFault{"CannotConnect", every_connect_attempt_fails(), "sftp.connect_failed", 1},
        PassingFault{
            "StatOfTheFinalNameTimesOut", {{RemoteOp::stat, 1, "sftp.timeout"}}, "sftp.timeout", 1},
        PassingFault{"UploadLost",
                     {{RemoteOp::upload, 1, "sftp.connection_lost"}},
                     "sftp.connection_lost",
                     1},
        PassingFault{"UploadTimesOutTwice",
                     {{RemoteOp::upload, 1, "sftp.timeout"}, {RemoteOp::upload, 2, "sftp.timeout"}},
                     "sftp.timeout",
                     2}),
    [](const auto& test_case) { return test_case.param.name; });

// A permanent fault: the run fails for good in placed, audited with its code and a message
// that says where and what to do; nothing lands in the drop directory; no second connection.
struct PermanentFault {
  std::string name;
  RemoteFault fault;
  int connections;
};

class SftpDropPermanentFault : public SftpDrop,
                               public ::testing::WithParamInterface<PermanentFault> {};

TEST_P(SftpDropPermanentFault, FailsTheRunForGoodAndDeliversNothing) {
  const PermanentFault& param = GetParam();
  remote_->inject(param.fault);
  const std::string id = start();
  auto reached = exchange_->drive(id);
  ASSERT_FALSE(reached);
  EXPECT_EQ(reached.error().code, param.fault.code.text());
  const RunRecord failed = run(id);
  EXPECT_EQ(failed.state, RunState::failed);
  EXPECT_EQ(failed.failed_in, RunState::placed);
  EXPECT_FALSE(failed.retryable);
  EXPECT_NE(failed.failure_message.find("is not retried"), std::string::npos)
      << failed.failure_message;
  EXPECT_NE(failed.failure_message.find("unused@127.0.0.1:22 inkomend"), std::string::npos)
      << failed.failure_message;
  const auto entries = audit_entries("run.failed");
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries.front()["details"].value("code", ""), param.fault.code.text());
  EXPECT_EQ(entries.front()["details"].value("in_state", ""), "placed");
  EXPECT_FALSE(entries.front()["details"].value("retryable", true));
  EXPECT_TRUE(audit_entries("export.delivered").empty());
  EXPECT_TRUE(drop_directory().empty());
  EXPECT_EQ(remote_->calls(RemoteOp::connect), param.connections);
  EXPECT_EQ(remote_->completed_uploads(), 0);
  // A later tick does nothing more: the run is over.
  EXPECT_TRUE(exchange_->tick());
  EXPECT_EQ(remote_->calls(RemoteOp::connect), param.connections);
}

INSTANTIATE_TEST_SUITE_P(
    Refusals, SftpDropPermanentFault,
    ::testing::Values(
        PermanentFault{"AuthenticationFailed", {RemoteOp::connect, 1, "sftp.auth_failed"}, 1},
        PermanentFault{"HostKeyMismatch", {RemoteOp::connect, 1, "sftp.host_key_mismatch"}, 1},
        PermanentFault{"HostKeyUnknown", {RemoteOp::connect, 1, "sftp.host_key_unknown"}, 1},
        PermanentFault{"PermissionDenied", {RemoteOp::upload, 1, "sftp.permission_denied"}, 1},
        PermanentFault{"StatRefused", {RemoteOp::stat, 1, "sftp.permission_denied"}, 1}),
    [](const auto& test_case) { return test_case.param.name; });

// Our own list already under its final name (an earlier attempt renamed it, the commit was
// lost): confirmed, not sent again. Another file under that name: refused, left untouched.
TEST_F(SftpDrop, OurListAlreadyUnderItsFinalNameIsNotSentAgain) {
  const std::string id = start_and_hold_placed();
  fs::copy_file(list_of(id), dropped(id));
  auto reached = exchange_->drive(id);
  ASSERT_TRUE(reached) << reached.error().describe();
  EXPECT_EQ(remote_->completed_uploads(), 0);
  expect_delivered_once(id, "found on the server (earlier attempt)");
}

TEST_F(SftpDrop, AnotherFileUnderTheFinalNameFailsTheRunAndIsLeftAlone) {
  const std::string id = start_and_hold_placed();
  std::ofstream(dropped(id)) << "not our list";
  auto reached = exchange_->drive(id);
  ASSERT_FALSE(reached);
  EXPECT_EQ(reached.error().code, "run.remote_conflict");
  EXPECT_EQ(run(id).state, RunState::failed);
  EXPECT_FALSE(run(id).retryable);
  EXPECT_EQ(file_bytes(dropped(id)), "not our list");
  EXPECT_EQ(remote_->completed_uploads(), 0);
  EXPECT_TRUE(audit_entries("export.delivered").empty());
}

// Killed around the rename (KBIX_TEST_KILL_AFTER, in a child process) and restarted: the state
// is still placed, and the next tick settles it without a second upload.
class SftpDropCrash : public SftpDrop {
 protected:
  std::string crash_at(const char* point) {
    const std::string id = start_and_hold_placed();
    EXPECT_EXIT(
        {
          ::setenv("KBIX_TEST_KILL_AFTER", point, 1);
          (void)exchange_->drive(id);
          std::exit(0);
        },
        ::testing::KilledBySignal(SIGKILL), "");
    open_engine();
    EXPECT_EQ(run(id).state, RunState::placed);
    return id;
  }
};

TEST_F(SftpDropCrash, AfterTheRenameTheListFoundThereIsConfirmed) {
  const std::string id = crash_at("delivery_renamed");
  ASSERT_TRUE(fs::exists(dropped(id)));
  ASSERT_TRUE(exchange_->drive(id));
  EXPECT_EQ(remote_->completed_uploads(), 0);
  expect_delivered_once(id, "found on the server (earlier attempt)");
}

// The municipality moves the file off the transport at once (Genk's protocol asks it): neither
// the final nor the temporary name is there any more. It was delivered; it is not sent again.
TEST_F(SftpDropCrash, AListThatVanishedAfterTheUploadIsNotSentAgain) {
  const std::string id = crash_at("delivery_renamed");
  const fs::path taken = dir_ / "taken-by-genk";
  fs::rename(dropped(id), taken);
  ASSERT_TRUE(exchange_->drive(id));
  EXPECT_EQ(run(id).state, RunState::done);
  EXPECT_EQ(remote_->completed_uploads(), 0);
  EXPECT_TRUE(drop_directory().empty()) << "nothing sent again";
  const auto delivered = audit_entries("export.delivered");
  ASSERT_EQ(delivered.size(), 1u);
  EXPECT_EQ(delivered.front()["details"].value("delivery_how", ""),
            "renamed before a crash, then taken by the municipality (earlier attempt)");
  EXPECT_EQ(file_bytes(taken), file_bytes(list_of(id)));
}

// Killed with the temporary name recorded but before the rename: the temporary file is
// removed and the list uploaded again, so exactly one final file is there.
TEST_F(SftpDropCrash, BeforeTheRenameTheTemporaryFileIsReplacedByOneUpload) {
  const std::string id = crash_at("delivery_renaming");
  ASSERT_EQ(drop_directory().size(), 1u);
  EXPECT_NE(drop_directory().front().filename(), dropped(id).filename());  // the temporary one
  ASSERT_TRUE(exchange_->drive(id));
  EXPECT_EQ(remote_->completed_uploads(), 1);
  expect_delivered_once(id, "uploaded");
}

// A run cancelled with a temporary file left on the server (killed before the rename): the
// clean-up of cancelled runs removes that file, audited, and nothing else.
TEST_F(SftpDropCrash, ACancelledRunsTemporaryFileIsRemovedFromTheServer) {
  const std::string id = crash_at("delivery_renaming");
  ASSERT_EQ(drop_directory().size(), 1u);
  auto cancelled = exchange_->cancel_run(id, "wrong municipality", {"tester", 1000});
  ASSERT_TRUE(cancelled) << cancelled.error().describe();
  ASSERT_TRUE(exchange_->clean_cancelled());
  EXPECT_TRUE(drop_directory().empty());
  EXPECT_EQ(audit_count("remote.delete"), 1);
  EXPECT_EQ(remote_->completed_uploads(), 0);
  ASSERT_TRUE(exchange_->clean_cancelled());  // once
  EXPECT_EQ(audit_count("remote.delete"), 1);
}

// An exchange that delivers through the outbox keeps today's behaviour: placed waits for an
// operator, and no connection is made.
TEST_F(SftpDrop, AnOutboxExchangeWaitsForItsOperatorAndNeverConnects) {
  config_.export_settings.delivery = ExportDelivery::outbox;
  open_engine();
  const std::string id = start();
  auto reached = exchange_->drive(id);
  ASSERT_TRUE(reached) << reached.error().describe();
  EXPECT_EQ(*reached, RunState::placed);
  EXPECT_EQ(remote_->calls(RemoteOp::connect), 0);
  ASSERT_TRUE(exchange_->record_delivery(id, {"sftp", "by hand"}, {"tester", 1000}));
  ASSERT_TRUE(exchange_->drive(id));
  EXPECT_EQ(run(id).state, RunState::done);
  EXPECT_EQ(remote_->calls(RemoteOp::connect), 0);
}

}  // namespace
}  // namespace kbix
