// The parts the engine's unit tests run over (engine_test.cpp, sftp_drop_test.cpp): a temp
// directory, the run store and audit log in its state/ (signed with AgII's example key), the
// in-memory remote (tests/support/fake_remote_store.hpp) in its remote/, and the engine; all
// reopened from what is on disk after a crash. A test's SetUp() writes its configuration, sets
// config_ and calls open_engine().
//
// Does NOT: write a configuration or an extract (each test has its own exchange).
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "kbix/audit/audit.hpp"
#include "kbix/config/config.hpp"
#include "kbix/exchange/exchange.hpp"
#include "kbix/runs/run_store.hpp"
#include "support/fake_remote_store.hpp"
#include "support/temp_dir.hpp"

namespace kbix::test {

inline const std::filesystem::path kEngineKeys = KBIX_ENVELOPE_TEST_KEYS;

class EngineFixture : public ::testing::Test {
 protected:
  // [keys] of a test configuration: AgII's example certificates and keys.
  static std::string example_keys_section() {
    const auto& k = kEngineKeys;
    return "[keys]\nsigning_certificate = \"" + (k / "agii-sign-rsa.crt").string() + "\"\n" +
           "signing_key = \"" + (k / "agii-sign-rsa.key").string() + "\"\n" +
           "decryption_certificate = \"" + (k / "agii-enc-rsa.crt").string() + "\"\n" +
           "decryption_key = \"" + (k / "agii-enc-rsa.key").string() + "\"\n\n";
  }
  // The run store, the audit log and the engine, from what is on disk (again after a crash).
  void open_engine() {
    exchange_.reset();
    audit_.reset();
    store_.reset();
    auto store = RunStore::open(dir_ / "state/runs.sqlite");
    ASSERT_TRUE(store) << store.error().describe();
    store_.emplace(std::move(*store));
    AuditSettings options;
    options.checkpoint_journal = false;  // a test's checkpoints stay out of the system journal
    options.directory = dir_ / "state/audit";
    options.checkpoint_every = 1000;
    options.signing_key = kEngineKeys / "agii-sign-rsa.key";
    options.signing_certificate = kEngineKeys / "agii-sign-rsa.crt";
    auto audit = AuditLog::open(options);
    ASSERT_TRUE(audit) << audit.error().describe();
    audit_.emplace(std::move(*audit));
    if (!remote_) remote_.emplace(dir_ / "remote");
    exchange_.emplace(config_, *store_, *audit_, remote_->connector());
  }
  void TearDown() override {
    exchange_.reset();
    audit_.reset();
    store_.reset();
    std::error_code ignored;
    if (std::getenv("KBIX_KEEP_TEST_DIRS") == nullptr) std::filesystem::remove_all(dir_, ignored);
  }

  RunRecord run(const std::string& id) {
    auto found = store_->find(id);
    EXPECT_TRUE(found && *found);
    return **found;
  }

  std::vector<nlohmann::json> audit_entries() const {
    std::vector<nlohmann::json> entries;
    std::ifstream in(dir_ / "state/audit/audit.jsonl");
    for (std::string line; std::getline(in, line);) entries.push_back(nlohmann::json::parse(line));
    return entries;
  }
  std::vector<nlohmann::json> audit_entries(const std::string& event) const {
    std::vector<nlohmann::json> found;
    for (auto& entry : audit_entries()) {
      if (entry.value("event", "") == event) found.push_back(std::move(entry));
    }
    return found;
  }
  int audit_count(const std::string& event) const {
    return static_cast<int>(audit_entries(event).size());
  }
  nlohmann::json last_audit(const std::string& event) const {
    const auto found = audit_entries(event);
    return found.empty() ? nlohmann::json() : found.back();
  }

  std::filesystem::path dir_;
  Config config_;
  std::optional<RunStore> store_;
  std::optional<AuditLog> audit_;
  std::optional<FakeRemote> remote_;
  std::optional<Exchange> exchange_;
};

}  // namespace kbix::test
