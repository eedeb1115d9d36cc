// The Notifier against real servers on loopback: an aiosmtpd relay receives the e-mail, an
// http.server receiver the webhook JSON; a channel that is down is retried a bounded number of
// times and audited as notify.failed; a repeated condition is sent once per interval, also
// across restarts; a relay demanding STARTTLS and AUTH gets the password over TLS only.
#include "kbix/notify/notifier.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "kbix/audit/audit_verify.hpp"
#include "support/loopback_servers.hpp"
#include "support/temp_dir.hpp"

namespace kbix::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

EmailChannelConfig email_to(const std::string& url, std::vector<std::string> to) {
  EmailChannelConfig config;
  config.url = url;
  config.from = "kbix@agii.example";
  config.to = std::move(to);
  return config;
}

class NotifierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = make_temp_dir("kbix-notify");
    AuditSettings options;
    options.checkpoint_journal = false;  // a test's checkpoints stay out of the system journal
    options.directory = dir_ / "audit";
    fs::create_directories(options.directory);
    auto audit = AuditLog::open(options);
    ASSERT_TRUE(audit) << audit.error().describe();
    audit_ = std::make_unique<AuditLog>(std::move(*audit));
  }
  void TearDown() override {
    audit_.reset();
    fs::remove_all(dir_);
  }

  std::unique_ptr<Notifier> start(const NotifyConfig& config) {
    auto notifier = Notifier::start(config, dir_ / "notify-sent.json", *audit_);
    EXPECT_TRUE(notifier) << notifier.error().describe();
    return notifier ? std::move(*notifier) : nullptr;
  }

  // Audit entries with this event name, in order.
  std::vector<nlohmann::json> audited(const std::string& event) {
    std::vector<nlohmann::json> found;
    for (const auto& file : audit_log_files(dir_ / "audit")) {
      std::ifstream in(file);
      for (std::string line; std::getline(in, line);) {
        auto entry = nlohmann::json::parse(line, nullptr, false);
        if (entry.is_object() && entry.value("event", "") == event) found.push_back(entry);
      }
    }
    return found;
  }

  static Notice notice(const std::string& condition = "run.failed:R1") {
    return {"run.failed", condition, "R1", "[kbix test] run R1 failed",
            "Run R1 failed with sftp.host_key_mismatch.\nSee: kbix run show R1"};
  }

  fs::path dir_;
  std::unique_ptr<AuditLog> audit_;
};

TEST_F(NotifierTest, AnEmailReachesARealSmtpRelayAndIsAuditedWithoutItsText) {
  SmtpServer smtp(dir_ / "smtp");
  NotifyConfig config;
  config.email = email_to(smtp.url(), {"ops@agii.example", "dpo@agii.example"});
  auto notifier = start(config);
  ASSERT_TRUE(notifier->submit(notice()));
  ASSERT_TRUE(notifier->flush(30s));
  const auto messages = smtp.messages();
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_NE(messages[0].find("Subject: [kbix test] run R1 failed"), std::string::npos);
  EXPECT_NE(messages[0].find("From: kbix@agii.example"), std::string::npos);
  EXPECT_NE(messages[0].find("To: ops@agii.example, dpo@agii.example"), std::string::npos);
  EXPECT_NE(messages[0].find("Run R1 failed with sftp.host_key_mismatch."), std::string::npos);
  const auto sent = audited("notify.sent");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0]["details"]["channel"], "email");
  EXPECT_EQ(sent[0]["details"]["event"], "run.failed");
  EXPECT_EQ(sent[0].dump().find("sftp.host_key_mismatch"), std::string::npos)
      << "the text is not audited";
}

TEST_F(NotifierTest, AWebhookGetsASlackAndTeamsStyleJsonDocument) {
  WebhookReceiver receiver(dir_ / "hook");
  NotifyConfig config;
  config.webhook = WebhookChannelConfig{receiver.url()};
  auto notifier = start(config);
  ASSERT_TRUE(notifier->submit(notice()));
  ASSERT_TRUE(notifier->flush(30s));
  const auto posts = receiver.posts();
  ASSERT_EQ(posts.size(), 1u);
  const auto document = nlohmann::json::parse(posts[0]);
  EXPECT_EQ(document["text"],
            "[kbix test] run R1 failed\n\nRun R1 failed with sftp.host_key_mismatch.\nSee: kbix "
            "run show R1");
  EXPECT_EQ(document["kbix"]["event"], "run.failed");
  EXPECT_EQ(document["kbix"]["run_id"], "R1");
  EXPECT_EQ(receiver.content_types().at(0), "application/json");
  EXPECT_EQ(audited("notify.sent").size(), 1u);
}

TEST_F(NotifierTest, AReceiverThatRefusesIsAFailureAfterTheConfiguredAttempts) {
  WebhookReceiver receiver(dir_ / "hook", 500);
  NotifyConfig config;
  config.webhook = WebhookChannelConfig{receiver.url()};
  config.attempts = 3;
  config.retry_delay = 0s;
  auto notifier = start(config);
  ASSERT_TRUE(notifier->submit(notice()));
  ASSERT_TRUE(notifier->flush(30s));
  EXPECT_EQ(receiver.posts().size(), 3u) << "three attempts, then it gives up";
  const auto failed = audited("notify.failed");
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0]["details"]["attempts"], 3);
  EXPECT_EQ(failed[0]["details"]["message"], "webhook: the receiver answered HTTP 500");
  EXPECT_TRUE(audited("notify.sent").empty());
}

TEST_F(NotifierTest, BothChannelsDownAreAuditedAsFailedAndSubmitNeverBlocks) {
  NotifyConfig config;
  config.email =
      email_to("smtp://127.0.0.1:" + std::to_string(closed_loopback_port()), {"ops@agii.example"});
  config.webhook =
      WebhookChannelConfig{"http://127.0.0.1:" + std::to_string(closed_loopback_port())};
  config.attempts = 2;
  config.retry_delay = 1s;
  auto notifier = start(config);
  // Queued at once, whatever the network does (the sending happens on the notifier's thread).
  ASSERT_TRUE(notifier->submit(notice()));
  ASSERT_TRUE(notifier->flush(60s));
  const auto failed = audited("notify.failed");
  ASSERT_EQ(failed.size(), 2u);
  EXPECT_EQ(failed[0]["details"]["channel"], "email");
  EXPECT_EQ(failed[1]["details"]["channel"], "webhook");
  for (const auto& entry : failed) {
    EXPECT_EQ(entry["details"]["attempts"], 2);
    EXPECT_EQ(entry["details"]["code"], "notify.send");
  }
}

TEST_F(NotifierTest, ARepeatedConditionIsSentOncePerIntervalAlsoAfterARestart) {
  SmtpServer smtp(dir_ / "smtp");
  NotifyConfig config;
  config.email = email_to(smtp.url(), {"ops@agii.example"});
  config.repeat_interval = 3600s;
  const auto t0 = std::chrono::system_clock::now();
  {
    auto notifier = start(config);
    EXPECT_TRUE(notifier->submit(notice(), t0));
    EXPECT_FALSE(notifier->submit(notice(), t0 + 10min)) << "same condition within the hour";
    EXPECT_TRUE(notifier->submit(notice("run.failed:R2"), t0 + 10min)) << "another condition";
    ASSERT_TRUE(notifier->flush(30s));
  }
  {
    auto restarted = start(config);
    EXPECT_FALSE(restarted->submit(notice(), t0 + 50min)) << "remembered across a restart";
    EXPECT_TRUE(restarted->submit(notice(), t0 + 61min)) << "the interval has passed";
    ASSERT_TRUE(restarted->flush(30s));
  }
  EXPECT_EQ(smtp.messages().size(), 3u);
  EXPECT_EQ(audited("notify.sent").size(), 3u);
}

constexpr const char* kUser = "kbix-relay";
constexpr const char* kPassword = "Synthetic-Relay-Secret-7f3e";  // test only

// A relay that demands STARTTLS and AUTH (python3-aiosmtpd, a self-signed certificate): the
// message arrives over TLS, authenticated; a wrong password, an untrusted certificate and a relay
// without STARTTLS are failures, audited, and the password is in no audit entry.
class SmtpTlsTest : public NotifierTest {
 protected:
  fs::path password_file(const std::string& password) {
    const fs::path file = dir_ / "relay-password";
    std::ofstream(file) << password << "\n";
    ::chmod(file.c_str(), 0600);
    return file;
  }

  EmailChannelConfig email(const std::string& url, const std::string& password,
                           std::optional<fs::path> ca_file) {
    EmailChannelConfig config;
    config.url = url;
    config.from = "kbix@agii.example";
    config.to = {"ops@agii.example"};
    config.require_starttls = true;
    config.username = kUser;
    config.password_file = password_file(password);
    config.ca_file = std::move(ca_file);
    return config;
  }

  // Sends one notice with one attempt; returns the audit log's text.
  std::string send(const EmailChannelConfig& email) {
    NotifyConfig config;
    config.email = email;
    config.attempts = 1;
    config.retry_delay = 0s;
    auto notifier = Notifier::start(config, dir_ / "notify-sent.json", *audit_);
    EXPECT_TRUE(notifier) << notifier.error().describe();
    if (!notifier) return "";
    EXPECT_TRUE((*notifier)->submit(
        {"run.failed", "run.failed:R1", "R1", "[kbix test] run R1 failed", "Run R1 failed."}));
    EXPECT_TRUE((*notifier)->flush(30s));
    std::string text;
    for (const auto& file : audit_log_files(dir_ / "audit")) {
      std::ifstream in(file);
      text += std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    return text;
  }

  static std::size_t count(const std::string& text, const std::string& what) {
    std::size_t found = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++found;
    return found;
  }
};

TEST_F(SmtpTlsTest, AMessageArrivesOverStarttlsAuthenticated) {
  SecureSmtpServer relay(dir_ / "relay", kUser, kPassword);
  const auto audit = send(email(relay.url(), kPassword, relay.certificate()));
  const auto messages = relay.messages();
  ASSERT_EQ(messages.size(), 1u) << relay.sessions_log();
  EXPECT_NE(messages[0].find("Subject: [kbix test] run R1 failed"), std::string::npos);
  EXPECT_NE(relay.sessions_log().find("auth ok kbix-relay"), std::string::npos);
  EXPECT_NE(relay.sessions_log().find("message tls=True auth=kbix-relay"), std::string::npos)
      << relay.sessions_log();
  EXPECT_EQ(count(audit, "\"notify.sent\""), 1u) << audit;
  EXPECT_EQ(audit.find(kPassword), std::string::npos);
}

TEST_F(SmtpTlsTest, AWrongPasswordIsAFailureAndThePasswordIsNotAudited) {
  SecureSmtpServer relay(dir_ / "relay", kUser, kPassword);
  const std::string wrong = "Wrong-Synthetic-Secret-0a1b";
  const auto audit = send(email(relay.url(), wrong, relay.certificate()));
  EXPECT_TRUE(relay.messages().empty());
  EXPECT_NE(relay.sessions_log().find("auth refused"), std::string::npos);
  EXPECT_EQ(count(audit, "\"notify.failed\""), 1u) << audit;
  EXPECT_EQ(audit.find(wrong), std::string::npos) << audit;
  EXPECT_EQ(audit.find(kPassword), std::string::npos);
}

TEST_F(SmtpTlsTest, AnUntrustedRelayCertificateIsRefusedBeforeAuthentication) {
  SecureSmtpServer relay(dir_ / "relay", kUser, kPassword);
  const auto audit = send(email(relay.url(), kPassword, std::nullopt));  // the system's CAs
  EXPECT_TRUE(relay.messages().empty());
  EXPECT_EQ(relay.sessions_log().find("auth"), std::string::npos) << "no AUTH was attempted";
  EXPECT_EQ(count(audit, "\"notify.failed\""), 1u) << audit;
}

TEST_F(SmtpTlsTest, APasswordIsNeverSentToARelayWithoutStarttls) {
  SmtpServer plain(dir_ / "plain");  // offers neither STARTTLS nor AUTH
  auto config = email(plain.url(), kPassword, std::nullopt);
  config.require_starttls = false;  // TLS is still required: a user name is configured
  const auto audit = send(config);
  EXPECT_TRUE(plain.messages().empty()) << "sent without TLS";
  EXPECT_EQ(count(audit, "\"notify.failed\""), 1u) << audit;
  EXPECT_EQ(audit.find(kPassword), std::string::npos);
}

}  // namespace
}  // namespace kbix::test
