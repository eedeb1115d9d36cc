// Real servers on 127.0.0.1 for the notification tests: Debian's python3-aiosmtpd as the SMTP
// relay (messages land in a Maildir) and python3's http.server as a webhook receiver. Both are
// child processes stopped by their PID. Missing Python modules are a test failure, never a skip.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

namespace kbix::test {

class SmtpServer {
 public:
  explicit SmtpServer(const std::filesystem::path& dir);  // throws when it cannot start
  ~SmtpServer();
  int port() const { return port_; }
  std::string url() const { return "smtp://127.0.0.1:" + std::to_string(port_); }
  // The messages received so far, whole (headers and body), oldest first.
  std::vector<std::string> messages() const;

 private:
  std::filesystem::path maildir_;
  pid_t pid_ = -1;
  int port_ = 0;
};

// A relay that demands STARTTLS and AUTH (tests/support/smtp_tls_server.py, python3-aiosmtpd),
// with a self-signed certificate for IP 127.0.0.1 made by the openssl CLI (certificate()).
class SecureSmtpServer {
 public:
  SecureSmtpServer(const std::filesystem::path& dir, const std::string& user,
                   const std::string& password);  // throws when it cannot start
  ~SecureSmtpServer();
  std::string url() const { return "smtp://127.0.0.1:" + std::to_string(port_); }
  std::filesystem::path certificate() const { return dir_ / "relay.crt"; }
  std::vector<std::string> messages() const;  // whole, oldest first
  std::string sessions_log() const;           // what the relay saw: TLS, AUTH results

 private:
  std::filesystem::path dir_;
  pid_t pid_ = -1;
  int port_ = 0;
};

class WebhookReceiver {
 public:
  // `status`: the HTTP status it answers every POST with.
  explicit WebhookReceiver(const std::filesystem::path& dir, int status = 200);
  ~WebhookReceiver();
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/hook"; }
  std::vector<std::string> posts() const;  // bodies, oldest first
  std::vector<std::string> content_types() const;

 private:
  std::filesystem::path dir_;
  pid_t pid_ = -1;
  int port_ = 0;
};

// A loopback port nothing listens on (bound once, then released): a channel that is down.
int closed_loopback_port();

}  // namespace kbix::test
