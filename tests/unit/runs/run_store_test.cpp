// The run state machine in SQLite: compare-and-set transitions, facts, retry, cancel, durability
// across reopen, and a database locked by another process.
#include "kbix/runs/run_store.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "kbix/runs/run_id.hpp"
#include "support/temp_dir.hpp"

namespace kbix {
namespace {

namespace fs = std::filesystem;

struct StoreTest : ::testing::Test {
  fs::path dir = test::make_temp_dir("kbix-runstore");
  fs::path file = dir / "runs.sqlite3";
  ~StoreTest() override { fs::remove_all(dir); }

  RunRecord new_run(const std::string& id) {
    RunRecord run;
    run.id = id;
    run.trigger = "operator";
    run.actor = "alice";
    run.actor_uid = 1000;
    run.facts = {{"extract_file", "/inbox/kbi.csv"}};
    return run;
  }
};

TEST_F(StoreTest, TransitionsAreCompareAndSetAndMergeFacts) {
  auto store = RunStore::open(file);
  ASSERT_TRUE(store) << store.error().describe();
  ASSERT_TRUE(store->create(new_run("20261122T135500Z-0001")));
  EXPECT_EQ(store->create(new_run("20261122T135500Z-0001")).error().code, "run.exists");
  ASSERT_TRUE(store->advance("20261122T135500Z-0001", RunState::planned, RunState::extract_sealed,
                             {{"snapshot_sha256", "ab"}}));
  auto stale = store->advance("20261122T135500Z-0001", RunState::planned, RunState::extract_sealed);
  EXPECT_EQ(stale.error().code, "run.state_changed");
  auto run = store->find("20261122T135500Z-0001");
  ASSERT_TRUE(run && *run);
  EXPECT_EQ((*run)->state, RunState::extract_sealed);
  EXPECT_EQ((*run)->facts["snapshot_sha256"], "ab");
  EXPECT_EQ((*run)->facts["extract_file"], "/inbox/kbi.csv") << "earlier facts kept";
  EXPECT_EQ((*run)->actor_uid, 1000u);
}

TEST_F(StoreTest, FailureRemembersWhereAndRetryResumesThere) {
  auto store = RunStore::open(file);
  ASSERT_TRUE(store);
  const std::string id = "20261122T135500Z-0002";
  ASSERT_TRUE(store->create(new_run(id)));
  ASSERT_TRUE(store->advance(id, RunState::planned, RunState::extract_sealed));
  ASSERT_TRUE(store->fail(id, "sftp.timeout", "server frozen", true));
  auto failed = *store->find(id);
  EXPECT_EQ(failed->state, RunState::failed);
  EXPECT_EQ(failed->failed_in, RunState::extract_sealed);
  ASSERT_TRUE(store->retry(id));
  EXPECT_EQ((*store->find(id))->state, RunState::extract_sealed);
  ASSERT_TRUE(store->fail(id, "envelope.bad_signature", "forged", false));
  EXPECT_EQ(store->retry(id).error().code, "run.not_retryable");
}

TEST_F(StoreTest, CancelEndsAnUnfinishedRunAndAStepCannotMoveItOn) {
  auto store = RunStore::open(file);
  ASSERT_TRUE(store);
  const std::string id = "20261122T135500Z-0003";
  ASSERT_TRUE(store->create(new_run(id)));
  ASSERT_TRUE(store->cancel(id, "wrong extract"));
  EXPECT_EQ(store->advance(id, RunState::planned, RunState::extract_sealed).error().code,
            "run.state_changed");
  EXPECT_EQ((*store->find(id))->cancel_reason, "wrong extract");
  EXPECT_EQ(store->cancel(id, "again").error().code, "run.already_finished");
  EXPECT_TRUE(store->unfinished()->empty());
}

TEST_F(StoreTest, StateSurvivesReopenAndCadenceCountsOnlyUploadedRuns) {
  {
    auto store = RunStore::open(file);
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->create(new_run("20261122T135500Z-0004")));
    ASSERT_TRUE(store->create(new_run("20261122T135501Z-0005")));
    EXPECT_EQ(*store->last_started_run_time(), std::nullopt) << "no run has uploaded yet";
    ASSERT_TRUE(store->advance("20261122T135501Z-0005", RunState::planned, RunState::uploaded));
    const auto uploaded = *store->find("20261122T135501Z-0005");
    ASSERT_TRUE(uploaded);
    EXPECT_EQ(*store->last_started_run_time(), std::optional(uploaded->created_at_utc))
        << "the uploaded run's own time";
  }
  auto reopened = RunStore::open(file);
  ASSERT_TRUE(reopened);
  auto unfinished = reopened->unfinished();
  ASSERT_TRUE(unfinished);
  ASSERT_EQ(unfinished->size(), 2u);
  EXPECT_EQ((*unfinished)[1].state, RunState::uploaded);
  EXPECT_EQ(reopened->list()->size(), 2u);
}

TEST_F(StoreTest, RetentionPurgesOnlyFinishedRunsBeforeTheCutoff) {
  auto store = RunStore::open(file);
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->create(new_run("20261122T135500Z-0006")));
  ASSERT_TRUE(store->create(new_run("20261122T135500Z-0007")));
  ASSERT_TRUE(store->cancel("20261122T135500Z-0006", "test"));
  auto none = store->purge_finished_before("2000-01-01T00:00:00Z");
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
  auto purged = store->purge_finished_before("2999-01-01T00:00:00Z");
  ASSERT_TRUE(purged);
  EXPECT_EQ(*purged, std::vector<std::string>{"20261122T135500Z-0006"});
  EXPECT_TRUE(*store->find("20261122T135500Z-0007"));
  EXPECT_EQ(store->purge_finished_before("x'; DROP TABLE runs; --").error().code, "run.db_error");
}

// Invariant 13: a return accepted by one run is a replay for any other, for as long as that run
// is kept; the retention purge forgets it with its run.
TEST_F(StoreTest, AnAcceptedReturnIsRememberedPerRunUntilItsRunIsPurged) {
  auto store = RunStore::open(file);
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->create(new_run("20261122T135500Z-0008")));
  ASSERT_TRUE(store->create(new_run("20261122T135500Z-0009")));
  const std::string sha(64, 'a');
  auto first = store->remember_accepted_return("20261122T135500Z-0008", sha);
  ASSERT_TRUE(first) << first.error().describe();
  EXPECT_FALSE(*first) << "new";
  auto again = store->remember_accepted_return("20261122T135500Z-0008", sha);
  ASSERT_TRUE(again);
  EXPECT_FALSE(*again) << "the same run after a crash is not a replay";
  auto replay = store->remember_accepted_return("20261122T135500Z-0009", sha);
  ASSERT_TRUE(replay);
  ASSERT_TRUE(*replay) << "another run: a replay";
  EXPECT_EQ(**replay, "20261122T135500Z-0008");
  EXPECT_FALSE(*store->remember_accepted_return("20261122T135500Z-0009", std::string(64, 'b')));
  ASSERT_TRUE(store->cancel("20261122T135500Z-0008", "test"));
  auto purged = store->purge_finished_before("2999-01-01T00:00:00Z");
  ASSERT_TRUE(purged);
  ASSERT_EQ(purged->size(), 1u);
  auto forgotten = store->remember_accepted_return("20261122T135500Z-0009", sha);
  ASSERT_TRUE(forgotten);
  EXPECT_FALSE(*forgotten) << "purged with its run (kept for the retention period only)";
}

TEST_F(StoreTest, ADatabaseLockedByAnotherProcessIsReportedAsLocked) {
  { ASSERT_TRUE(RunStore::open(file)); }
  int ready[2], release[2];
  ASSERT_EQ(::pipe(ready), 0);
  ASSERT_EQ(::pipe(release), 0);
  const pid_t child = ::fork();
  if (child == 0) {
    // holds the lock until the test closes `release` (no fixed sleep: a slow machine cannot
    // make the lock go away before the test has tried)
    ::close(release[1]);
    sqlite3* db = nullptr;
    sqlite3_open(file.c_str(), &db);
    const bool locked = sqlite3_exec(db, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr) == SQLITE_OK;
    (void)!::write(ready[1], locked ? "x" : "f", 1);
    char wait_for_eof;
    (void)!::read(release[0], &wait_for_eof, 1);
    ::_exit(0);
  }
  ::close(release[0]);
  char byte;
  ASSERT_EQ(::read(ready[0], &byte, 1), 1);
  ASSERT_EQ(byte, 'x') << "the other process could not lock the database";
  auto store = RunStore::open(file, std::chrono::milliseconds(200));
  if (store) {
    auto created = store->create(new_run("20261122T135500Z-0009"));
    ASSERT_FALSE(created);
    EXPECT_EQ(created.error().code, "run.db_locked");
  } else {
    EXPECT_EQ(store.error().code, "run.db_locked");
  }
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
}

TEST(RunId, ShapeRoundTripsAndHostileNames) {
  const auto id = make_run_id(std::chrono::system_clock::now());
  EXPECT_TRUE(is_valid_run_id(id)) << id;
  const std::string protocol = "vdab-derde-pijler-2023";
  EXPECT_EQ(run_id_from_return_name(protocol, return_remote_name(protocol, id)), id);
  EXPECT_FALSE(run_id_from_return_name(protocol, outbound_remote_name(protocol, id)));
  for (const char* name : {"vdab-derde-pijler-2023_../../etc-verrijkt.csv.p7m",
                           "vdab-derde-pijler-2023_20261122T135500Z-3F9A-verrijkt.csv.p7m",
                           "other-protocol_20261122T135500Z-3f9a-verrijkt.csv.p7m",
                           ".vdab-derde-pijler-2023_20261122T135500Z-3f9a-verrijkt.csv.p7m.part-1",
                           "vdab-derde-pijler-2023_20261122T135500Z-3f9a-verrijkt.csv.p7m.tmp",
                           "vdab-derde-pijler-2023_20261122T1355Z-3f9a-verrijkt.csv.p7m"}) {
    EXPECT_FALSE(run_id_from_return_name(protocol, name)) << name;
  }
}

TEST(RunState, NamesRoundTripAndTheHappyPathEndsInDone) {
  int steps = 0;
  for (auto state = std::optional<RunState>(RunState::planned); state; state = next_state(*state)) {
    EXPECT_EQ(parse_run_state(to_string(*state)), *state);
    ++steps;
  }
  EXPECT_EQ(steps, 11);
  EXPECT_TRUE(is_terminal(RunState::done));
  EXPECT_TRUE(is_terminal(RunState::cancelled));
  EXPECT_FALSE(is_terminal(RunState::awaiting_return));
  EXPECT_FALSE(parse_run_state("finished"));
}

// An export's happy path is its own table: it never passes a round trip's states, and waits
// (is_waiting) only where an operator must deliver; a round trip never reaches list_sealed.
TEST(RunState, AnExportWaitsForItsDeliveryAndNeverPassesARoundTripState) {
  std::vector<RunState> path;
  for (auto state = std::optional<RunState>(RunState::planned); state;
       state = next_state(*state, ProtocolKind::export_)) {
    EXPECT_EQ(parse_run_state(to_string(*state)), *state);
    path.push_back(*state);
  }
  EXPECT_EQ(path, (std::vector<RunState>{RunState::planned, RunState::extract_sealed,
                                         RunState::list_sealed, RunState::placed,
                                         RunState::delivered, RunState::done}));
  int operator_rows = 0;
  for (const auto& row : run_transitions(ProtocolKind::export_)) {
    if (row.by_operator) {
      ++operator_rows;
      EXPECT_EQ(row.from, RunState::placed);
      EXPECT_TRUE(is_waiting(row.from));
    }
    EXPECT_EQ(transition_from(row.from, ProtocolKind::roundtrip) == nullptr,
              row.from == RunState::list_sealed || row.from == RunState::placed ||
                  row.from == RunState::delivered);
  }
  EXPECT_EQ(operator_rows, 1);
  EXPECT_EQ(next_state(RunState::extract_sealed), RunState::outbound_sealed);
  EXPECT_EQ(next_state(RunState::extract_sealed, ProtocolKind::export_), RunState::list_sealed);
  EXPECT_TRUE(is_waiting(RunState::awaiting_return));
  EXPECT_FALSE(is_waiting(RunState::list_sealed));
}

// The one table says who moves a placed list on: an operator for outbox delivery, kbix itself
// for an exchange that drops its lists by SFTP. Only there does a placed run stop waiting; the
// round trip's waiting for its return does not depend on how exports deliver.
TEST(RunState, PlacedToDeliveredIsTheOperatorsForTheOutboxAndKbixsForAnSftpDrop) {
  const RunTransition* row = transition_from(RunState::placed, ProtocolKind::export_);
  ASSERT_NE(row, nullptr);
  EXPECT_EQ(row->to, RunState::delivered);
  EXPECT_EQ(row->audit_event, "export.delivered");
  EXPECT_TRUE(performed_by_operator(*row, ExportDelivery::outbox));
  EXPECT_FALSE(performed_by_operator(*row, ExportDelivery::sftp));
  EXPECT_TRUE(is_waiting(RunState::placed, ExportDelivery::outbox));
  EXPECT_FALSE(is_waiting(RunState::placed, ExportDelivery::sftp));
  EXPECT_TRUE(is_waiting(RunState::awaiting_return, ExportDelivery::sftp));
  // No other row of either table changes hands with the delivery.
  for (const ProtocolKind kind : {ProtocolKind::roundtrip, ProtocolKind::export_}) {
    for (const auto& other : run_transitions(kind)) {
      if (&other == row) continue;
      EXPECT_EQ(performed_by_operator(other, ExportDelivery::outbox),
                performed_by_operator(other, ExportDelivery::sftp))
          << to_string(other.from);
      EXPECT_EQ(is_waiting(other.from, ExportDelivery::outbox),
                is_waiting(other.from, ExportDelivery::sftp))
          << to_string(other.from);
    }
  }
  EXPECT_EQ(to_string(ExportDelivery::sftp), "sftp");
  EXPECT_EQ(parse_export_delivery("outbox"), ExportDelivery::outbox);
  EXPECT_FALSE(parse_export_delivery("SFTP"));
}

}  // namespace
}  // namespace kbix
