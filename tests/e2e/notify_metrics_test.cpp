// Alerting and metrics end to end (issue 16): the real kbix binary and a real sshd, a real SMTP
// relay (python3-aiosmtpd), a real webhook receiver (python3 http.server) and promtool (Debian's
// prometheus package) on the node_exporter textfile kbix writes.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <regex>

#include "e2e/e2e_support.hpp"
#include "kbix/daemon/operations.hpp"
#include "kbix/domain/output_scan.hpp"
#include "kbix/envelope/keys.hpp"
#include "kbix/exchange/exchange.hpp"
#include "kbix/exchange/instance.hpp"
#include "support/loopback_servers.hpp"

namespace kbix::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono;

constexpr const char* kPromtool = "/usr/bin/promtool";

// Appends `sections` to the world's kbix.toml, with every certificate inside a 10-year warning
// period (the example certificates live 400 days) so expiry warnings are due.
void configure(const ExchangeWorld& world, const std::string& sections) {
  std::ifstream in(world.config_file());
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  text = std::regex_replace(text, std::regex("expiry_warning_days = 30"),
                            "expiry_warning_days = 3650");
  std::ofstream(world.config_file()) << text << "\n" << sections;
}

std::string notify_section(const std::string& smtp_url, const std::string& webhook_url,
                           const std::string& extra = "") {
  return "[notify]\nrepeat_interval_seconds = 86400\nattempts = 2\nretry_delay_seconds = 0\n"
         "timeout_seconds = 10\n" +
         extra + "\n[notify.email]\nurl = \"" + smtp_url +
         "\"\nfrom = \"kbix@agii.example\"\nto = [\"ops@agii.example\"]\n\n"
         "[notify.webhook]\nurl = \"" +
         webhook_url + "\"\n";
}

std::vector<std::string> with_subject(const std::vector<std::string>& messages,
                                      const std::string& part) {
  std::vector<std::string> found;
  for (const auto& message : messages) {
    const auto at = message.find("Subject: ");
    if (at != std::string::npos &&
        message.substr(at, message.find('\n', at) - at).find(part) != std::string::npos) {
      found.push_back(message);
    }
  }
  return found;
}

// 1 when the text holds an INSZ-like number in any shape (the output scan's rule), else 0.
std::uint64_t insz_like_in(const std::string& text, const fs::path& /*scratch*/) {
  return contains_insz_like_number(text) ? 1 : 0;
}

TEST(Notify, FailureOverdueAndExpiryMessagesReachTheRelayOnceAndHoldNoInsz) {
  ExchangeWorld world("e2e-notify");
  SmtpServer smtp(world.dir() / "smtp");
  WebhookReceiver hook(world.dir() / "hook");
  configure(world, notify_section(smtp.url(), hook.url()));
  std::vector<std::string> sent_insz;
  const auto keep_insz = [&](const fs::path& extract) {
    for (const auto& line : read_lines(extract))
      sent_insz.push_back(line.substr(0, line.find(';')));
  };

  // 1. A run that waits past its deadline (in process, the clock moved 31 days ahead).
  keep_insz(world.generate_extract(30, 61));
  std::string overdue_run;
  {
    auto instance = Instance::open(world.config_file(), "run-once", current_user_actor());
    ASSERT_TRUE(instance) << instance.error().describe();
    auto ops = Operations::start(**instance, false);
    Exchange exchange((*instance)->exchanges().front(), (*instance)->store(), (*instance)->audit());
    exchange.set_observer(ops->observer((*instance)->exchanges().front().exchange.name));
    auto run = exchange.start_run(StartRequest{current_user_actor(), "operator", false, "", ""});
    ASSERT_TRUE(run) << run.error().describe();
    overdue_run = run->id;
    ASSERT_EQ(*exchange.drive(run->id), RunState::awaiting_return);
    ASSERT_TRUE(exchange.poll_returns(system_clock::now() + days(31)));
    ASSERT_TRUE(exchange.poll_returns(system_clock::now() + days(32)));  // flagged once only
    ASSERT_TRUE((*instance)->store().cancel(run->id, "test: next run"));
    ops->stop();
    ASSERT_TRUE((*instance)->close("test"));
  }
  // The partner never took the cancelled run's file: without this, the simulator below would
  // answer it too and whether its quarantine notice arrives before the second run fails would
  // depend on timing.
  const auto untaken = ExchangeWorld::files_under(world.sshd().sftp_root() / "naar-vdab");
  ASSERT_EQ(untaken.size(), 1u) << "the cancelled run's outbound file";
  fs::remove(untaken.front());
  // 2. A run that fails for good, through the real binary: the partner signs with a certificate
  //    AgII has not pinned (envelope.unknown_signer is never retried). Forced: the cadence
  //    counts the first run, which uploaded.
  keep_insz(world.generate_extract(30, 62));
  {
    SimulatorThread partner(world, sim::CorruptMode::wrong_signer);
    const auto once = world.kbix("run once --start --force --reason 'test: second run' --wait 60");
    EXPECT_EQ(once.exit_code, 1) << once.output;
  }

  const auto messages = smtp.messages();
  const auto overdue = with_subject(messages, "run " + overdue_run + " is overdue");
  ASSERT_EQ(overdue.size(), 1u);
  EXPECT_NE(overdue[0].find("has waited more than 30 days"), std::string::npos) << overdue[0];
  const auto failed = with_subject(messages, "failed and needs an operator");
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_NE(failed[0].find("failed with envelope.unknown_signer"), std::string::npos) << failed[0];
  EXPECT_NE(failed[0].find("kbix run retry "), std::string::npos);
  // Four certificates, each in its warning period: told once, not again by the second process.
  const auto expiry = with_subject(messages, "certificate expires on");
  EXPECT_EQ(expiry.size(), 4u);
  EXPECT_EQ(with_subject(expiry, "partner VDAB signing certificate (pinned)").size(), 1u);
  EXPECT_EQ(messages.size(), 6u) << "nothing else, nothing twice";
  EXPECT_EQ(hook.posts().size(), messages.size()) << "the webhook got the same notices";
  EXPECT_EQ(count_audit_events(world, "notify.sent"), 2 * messages.size());

  ASSERT_GE(sent_insz.size(), 60u);
  for (const auto& message : messages) {
    EXPECT_EQ(insz_like_in(message, world.dir() / "scratch"), 0u) << message;
    for (const auto& insz : sent_insz) ASSERT_EQ(message.find(insz), std::string::npos);
  }
  for (const auto& post : hook.posts()) EXPECT_EQ(insz_like_in(post, world.dir() / "scratch"), 0u);
  EXPECT_EQ(world.kbix("audit verify").exit_code, 0);
}

TEST(Notify, WithBothChannelsDownTheRunStillCompletesAndTheFailureIsAudited) {
  ExchangeWorld world("e2e-notify-down");
  configure(world, notify_section("smtp://127.0.0.1:" + std::to_string(closed_loopback_port()),
                                  "http://127.0.0.1:" + std::to_string(closed_loopback_port()),
                                  "run_finished = true"));
  world.generate_extract(30, 63);
  {
    SimulatorThread partner(world);
    const auto once = world.kbix("run once --start --wait 60");
    ASSERT_EQ(once.exit_code, 0) << once.output;
  }
  EXPECT_EQ(files_with_suffix(world.output_dir(), ".csv").size(), 1u) << "published";
  EXPECT_EQ(count_audit_events(world, "run.done"), 1u);
  EXPECT_EQ(count_audit_events(world, "notify.sent"), 0u);
  // run.finished and four certificate notices, each on both channels.
  EXPECT_EQ(count_audit_events(world, "notify.failed"), 10u);
  EXPECT_EQ(world.kbix("audit verify").exit_code, 0);
}

// Samples of kbix.prom as "name{labels}" -> value.
std::map<std::string, double> samples(const fs::path& file) {
  std::map<std::string, double> values;
  for (const auto& line : read_lines(file)) {
    if (line.empty() || line[0] == '#') continue;
    const auto space = line.rfind(' ');
    values[line.substr(0, space)] = std::stod(line.substr(space + 1));
  }
  return values;
}

TEST(Metrics, TheTextfileOfARunPassesPromtoolAndHoldsTheRunsValues) {
  ASSERT_TRUE(fs::exists(kPromtool))
      << kPromtool << " is missing: install Debian's prometheus package (scripts/install-deps)";
  ExchangeWorld world("e2e-metrics");
  const fs::path textfile_dir = world.dir() / "textfile";
  fs::create_directories(textfile_dir);
  configure(world, "[metrics]\ntextfile_dir = \"" + textfile_dir.string() + "\"\n");
  world.generate_extract(40, 64);
  const auto before = duration_cast<seconds>(system_clock::now().time_since_epoch()).count();
  {
    SimulatorThread partner(world);
    ASSERT_EQ(world.kbix("run once --start --wait 60").exit_code, 0);
  }
  const auto after = duration_cast<seconds>(system_clock::now().time_since_epoch()).count();
  const fs::path prom = textfile_dir / "kbix.prom";
  ASSERT_TRUE(fs::exists(prom));
  const auto checked = run_shell(std::string(kPromtool) + " check metrics < " + prom.string());
  EXPECT_EQ(checked.exit_code, 0) << checked.output;
  struct stat info {};
  ASSERT_EQ(::stat(prom.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0644u) << "node_exporter must be able to read it";

  auto store = RunStore::open(world.state_dir() / "runs.sqlite3");
  ASSERT_TRUE(store);
  const RunRecord run = store->list()->front();
  ASSERT_EQ(run.state, RunState::done);
  const auto values = samples(prom);
  const std::string p = "exchange=\"vdab\",protocol=\"vdab-derde-pijler-2023\"";
  EXPECT_EQ(values.at("kbix_newest_run_state{" + p + ",state=\"done\"}"), 1);
  EXPECT_EQ(values.at("kbix_newest_run_state{" + p + ",state=\"awaiting_return\"}"), 0);
  EXPECT_EQ(values.at("kbix_newest_run_overdue{" + p + "}"), 0);
  EXPECT_EQ(values.at("kbix_last_finished_run_rows{count=\"export_rows\"," + p + "}"), 40);
  EXPECT_EQ(values.at("kbix_last_finished_run_rows{count=\"merge_matched\"," + p + "}"),
            run.facts["merge"]["matched"].get<double>());
  EXPECT_EQ(values.at("kbix_last_finished_run_rows{count=\"merge_output_rows\"," + p + "}"),
            run.facts["merge"]["output_rows"].get<double>());
  for (const char* when :
       {"kbix_last_successful_poll_timestamp_seconds", "kbix_last_return_timestamp_seconds",
        "kbix_last_publication_timestamp_seconds"}) {
    const double value = values.at(std::string(when) + "{" + p + "}");
    EXPECT_GE(value, before) << when;
    EXPECT_LE(value, after) << when;
  }
  // The audit log is the daemon's, not an exchange's: no labels.
  const auto checkpoint = values.find("kbix_audit_last_checkpoint_timestamp_seconds");
  ASSERT_NE(checkpoint, values.end());
  EXPECT_GE(checkpoint->second, before);
  EXPECT_LE(checkpoint->second, after);
  const auto certificate =
      Certificate::load(fs::path(KBIX_ENVELOPE_TEST_KEYS) / "vdab-sign-rsa.crt");
  ASSERT_TRUE(certificate);
  EXPECT_EQ(values.at("kbix_certificate_expiry_timestamp_seconds{certificate=\"partner VDAB "
                      "signing certificate (pinned)\"," +
                      p + "}"),
            duration_cast<seconds>(certificate->not_after().time_since_epoch()).count());
  EXPECT_EQ(fs::exists(world.state_dir() / "metrics-state.json"), true);
}

}  // namespace
}  // namespace kbix::test
