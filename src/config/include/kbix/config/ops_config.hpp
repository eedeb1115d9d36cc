// Operations configuration: the optional [notify] and [metrics] sections of kbix.toml
// (docs/operator-guide.md, "Alerting"). Both are off when their section is absent.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace kbix {

// [notify.email]: one message per event through an SMTP relay (usually 127.0.0.1).
struct EmailChannelConfig {
  std::string url;  // smtp://host[:port] or smtps://host[:port]
  std::string from;
  std::vector<std::string> to;
  bool require_starttls = false;  // smtp:// only: refuse to send without STARTTLS
  std::string username;           // empty: no authentication; set: TLS is required (smtp://
                                  // with STARTTLS or smtps://), the password never goes in clear
  std::optional<std::filesystem::path> password_file;  // first line; mode 0600
  // The CA certificate(s), PEM, the relay's TLS certificate is verified against (unset: the
  // system's store), e.g. an internal CA or the relay's own self-signed certificate.
  std::optional<std::filesystem::path> ca_file;
};

// [notify.webhook]: an HTTP(S) POST of a small JSON document (Teams/Slack-style incoming webhook).
struct WebhookChannelConfig {
  std::string url;
};

struct NotifyConfig {
  std::optional<EmailChannelConfig> email;
  std::optional<WebhookChannelConfig> webhook;
  std::chrono::seconds repeat_interval{24 * 3600};  // the same condition at most once per interval
  int attempts = 3;                                 // per message and channel, then notify.failed
  std::chrono::seconds retry_delay{10};
  std::chrono::seconds timeout{20};  // per attempt
  bool run_finished = false;         // also tell when a run finished (off by default)
  bool enabled() const { return email.has_value() || webhook.has_value(); }
};

// [metrics]: the node_exporter textfile collector's directory; kbix.prom is rewritten there.
struct MetricsConfig {
  std::optional<std::filesystem::path> textfile_dir;
};

}  // namespace kbix
