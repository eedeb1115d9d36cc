// Issue 13 items 7, 8 and 12, in process over real parts (run store, audit log, keys, a
// generated extract): operator actions are audited before they take effect and refused when
// they cannot be; a crash between audit entry and effect is reconciled at start-up; plaintext
// lives only in work/ and start-up and cancel wipe it; `kbix status` without a daemon computes
// the next scheduled run.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "kbix/exchange/exchange.hpp"
#include "kbix/exchange/instance.hpp"
#include "support/exchange_world.hpp"

namespace kbix::test {
namespace {

namespace fs = std::filesystem;
const AuditActor kOperator{"alice", 1000};

std::unique_ptr<Instance> open_instance(const ExchangeWorld& world) {
  auto instance = Instance::open(world.config_file(), "test", kOperator);
  EXPECT_TRUE(instance) << instance.error().describe();
  return instance ? std::move(*instance) : nullptr;
}

std::uint64_t audit_count(const ExchangeWorld& world, const std::string& event) {
  std::uint64_t count = 0;
  std::ifstream in(world.state_dir() / "audit" / "audit.jsonl");
  for (std::string line; std::getline(in, line);) {
    const auto entry = nlohmann::json::parse(line, nullptr, false);
    if (entry.is_object() && entry.value("event", "") == event) ++count;
  }
  return count;
}

TEST(OperatorActions, AreRefusedWhenTheirAuditEntryCannotBeWritten) {
  ExchangeWorld world("ops-audit");
  world.generate_extract(20, 3);
  auto instance = open_instance(world);
  ASSERT_TRUE(instance);
  Exchange exchange(instance->exchanges().front(), instance->store(), instance->audit());
  auto started = exchange.start_run(StartRequest{kOperator, "operator", false, "", ""});
  ASSERT_TRUE(started) << started.error().describe();
  const std::string id = started->id;
  ASSERT_TRUE(instance->audit().close());  // from here no audit entry can be written

  auto cancelled = exchange.cancel_run(id, "ticket 4711", kOperator);
  ASSERT_FALSE(cancelled);
  EXPECT_EQ(cancelled.error().code, "audit.unavailable");
  EXPECT_EQ((*instance->store().find(id))->state, RunState::planned) << "not cancelled";

  ASSERT_TRUE(instance->store().fail(id, "io.write", "disk full", true));
  auto retried = exchange.retry_run(id, kOperator);
  ASSERT_FALSE(retried);
  EXPECT_EQ(retried.error().code, "audit.unavailable");
  EXPECT_EQ((*instance->store().find(id))->state, RunState::failed) << "not resumed";

  auto forced = exchange.start_run(StartRequest{kOperator, "operator", true, "ticket 4712", ""});
  ASSERT_FALSE(forced);
  EXPECT_EQ(forced.error().code, "audit.unavailable");
  EXPECT_EQ(instance->store().list()->size(), 1u) << "no run was created";
  EXPECT_TRUE(instance->store().pending_actions()->empty());
}

TEST(OperatorActions, AnActionACrashCutOffIsReconciledAtStartUp) {
  ExchangeWorld world("ops-crash");
  world.generate_extract(20, 3);
  std::string id;
  {
    auto instance = open_instance(world);
    ASSERT_TRUE(instance);
    Exchange exchange(instance->exchanges().front(), instance->store(), instance->audit());
    auto started = exchange.start_run(StartRequest{kOperator, "operator", false, "", ""});
    ASSERT_TRUE(started);
    id = started->id;
    // As a crash leaves them: a retry recorded but never audited, a cancel audited and waiting.
    ASSERT_TRUE(instance->store().begin_action({"00000000000000a1", id, "run.retry", false, {}}));
    ASSERT_TRUE(instance->store().begin_action(
        {"00000000000000a2", id, "run.cancel", false, {{"reason", "ticket 9"}}}));
    ASSERT_TRUE(instance->store().mark_action_audited("00000000000000a2"));
    ASSERT_TRUE(instance->close("simulated crash"));
  }
  auto instance = open_instance(world);
  ASSERT_TRUE(instance);
  EXPECT_TRUE(instance->store().pending_actions()->empty());
  EXPECT_EQ((*instance->store().find(id))->state, RunState::cancelled);
  EXPECT_EQ(audit_count(world, "operator.action_abandoned"), 1u);
  EXPECT_EQ(audit_count(world, "run.cancel_applied"), 1u);
}

TEST(Plaintext, StartUpAndCancelWipeWorkAndNothingPlainSitsOutsideIt) {
  ExchangeWorld world("ops-wipe");
  world.generate_extract(20, 3);
  std::string id;
  fs::path run_dir;
  fs::path pending;
  {
    auto instance = open_instance(world);
    ASSERT_TRUE(instance);
    Exchange exchange(instance->exchanges().front(), instance->store(), instance->audit());
    auto started = exchange.start_run(StartRequest{kOperator, "operator", false, "", ""});
    ASSERT_TRUE(started);
    id = started->id;
    run_dir = exchange.run_directory(id);
    // What a step killed half-way leaves, and the output where kbix used to keep it.
    std::ofstream(run_dir / "work" / "snapshot.csv") << "insz\n85073003328\n";
    std::ofstream(run_dir / "output.csv") << "profile\n";
    // And the output a merge killed before it committed left in the output folder.
    pending = exchange.pending_output(id);
    ASSERT_EQ(pending.parent_path(), instance->exchanges().front().daemon.output_dir);
    std::ofstream(pending) << "profile\n";
    ASSERT_TRUE(instance->close("simulated crash"));
  }
  auto instance = open_instance(world);
  ASSERT_TRUE(instance);
  EXPECT_TRUE(fs::is_empty(run_dir / "work")) << "start-up wiped the interrupted step's plaintext";
  EXPECT_FALSE(fs::exists(run_dir / "output.csv")) << "nothing plain outside work/";
  EXPECT_FALSE(fs::exists(pending)) << "an output never merged is not kept for publication";
  EXPECT_EQ(audit_count(world, "plaintext.wiped"), 1u);

  Exchange exchange(instance->exchanges().front(), instance->store(), instance->audit());
  std::ofstream(run_dir / "work" / "output.csv") << "profile\n";
  std::ofstream(pending) << "profile\n";
  auto cancelled = exchange.cancel_run(id, "ticket 4713", kOperator);
  ASSERT_TRUE(cancelled) << cancelled.error().describe();
  EXPECT_TRUE(*cancelled) << "no step under way: cancelled at once";
  EXPECT_TRUE(fs::is_empty(run_dir / "work")) << "a cancelled run keeps no plaintext";
  EXPECT_FALSE(fs::exists(pending)) << "a cancelled run publishes nothing";
  EXPECT_EQ(audit_count(world, "run.cancel"), 1u);
}

TEST(Status, WithoutADaemonComputesTheNextScheduledRun) {
  ExchangeWorld world("ops-status");
  ASSERT_EQ(world.kbix("run once").exit_code, 0) << "makes the run database";
  const auto status = world.kbix("status");
  ASSERT_EQ(status.exit_code, 0) << status.output;
  EXPECT_NE(status.output.find("daemon is not running"), std::string::npos) << status.output;
  EXPECT_NE(status.output.find("next scheduled run: 20"), std::string::npos) << status.output;
  EXPECT_EQ(status.output.find("none left"), std::string::npos) << status.output;
}

}  // namespace
}  // namespace kbix::test
