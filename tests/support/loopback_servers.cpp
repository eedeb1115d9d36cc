#include "support/loopback_servers.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace kbix::test {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

constexpr const char* kPython = "/usr/bin/python3";  // Debian's, where python3-aiosmtpd lives

pid_t spawn(const std::vector<std::string>& args, const fs::path& log) {
  std::vector<char*> argv;
  for (const auto& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = -1;
  const int spawned = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) throw std::runtime_error("cannot start " + args.front());
  return pid;
}

void stop(pid_t pid) {
  if (pid <= 0) return;
  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
}

std::string slurp(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

bool accepts_connections(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool connected =
      ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return connected;
}

// Files in `dir` sorted by name, read whole.
std::vector<std::string> read_sorted(const fs::path& dir, const std::string& suffix) {
  std::vector<fs::path> files;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(dir, error)) {
    if (entry.path().string().ends_with(suffix)) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end(), [](const fs::path& a, const fs::path& b) {
    // post-2 before post-10
    return std::make_pair(a.string().size(), a.string()) <
           std::make_pair(b.string().size(), b.string());
  });
  std::vector<std::string> contents;
  for (const auto& file : files) contents.push_back(slurp(file));
  return contents;
}

}  // namespace

int closed_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address);
  socklen_t size = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size);
  ::close(fd);
  return ntohs(address.sin_port);
}

SmtpServer::SmtpServer(const fs::path& dir) : maildir_(dir / "maildir") {
  fs::create_directories(dir);
  const auto check = spawn({kPython, "-c", "import aiosmtpd"}, dir / "aiosmtpd-check.log");
  int status = 0;
  ::waitpid(check, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw std::runtime_error(
        "python3-aiosmtpd is missing (the SMTP server of these tests): run scripts/install-deps");
  }
  for (int attempt = 0; attempt < 5 && pid_ < 0; ++attempt) {
    port_ = closed_loopback_port();
    pid_ = spawn({kPython, "-m", "aiosmtpd", "-n", "-l", "127.0.0.1:" + std::to_string(port_), "-c",
                  "aiosmtpd.handlers.Mailbox", maildir_.string()},
                 dir / "aiosmtpd.log");
    for (int wait = 0; wait < 100 && !accepts_connections(port_); ++wait) {
      std::this_thread::sleep_for(50ms);
      int exited = 0;
      if (::waitpid(pid_, &exited, WNOHANG) == pid_) {  // the port was taken meanwhile: again
        pid_ = -1;
        break;
      }
    }
  }
  if (pid_ < 0 || !accepts_connections(port_)) {
    throw std::runtime_error("aiosmtpd did not start; see " + (dir / "aiosmtpd.log").string());
  }
}

SmtpServer::~SmtpServer() {
  stop(pid_);
}

std::vector<std::string> SmtpServer::messages() const {
  return read_sorted(maildir_ / "new", "");
}

SecureSmtpServer::SecureSmtpServer(const fs::path& dir, const std::string& user,
                                   const std::string& password)
    : dir_(dir) {
  fs::create_directories(dir);
  const auto key = dir / "relay.key";
  const std::string make_certificate =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "
      "'/CN=127.0.0.1' -addext subjectAltName=IP:127.0.0.1 -keyout " +
      key.string() + " -out " + certificate().string() + " 2>" + (dir / "openssl.log").string();
  if (std::system(make_certificate.c_str()) != 0) {
    throw std::runtime_error("openssl could not make the relay's certificate");
  }
  pid_ = spawn({kPython, std::string(KBIX_SOURCE_DIR) + "/tests/support/smtp_tls_server.py",
                dir.string(), certificate().string(), key.string(), user, password},
               dir / "relay.log");
  for (int wait = 0; wait < 400 && !fs::exists(dir / "port"); ++wait) {
    std::this_thread::sleep_for(25ms);
  }
  if (!fs::exists(dir / "port")) {
    throw std::runtime_error("the STARTTLS relay did not start; see " +
                             (dir / "relay.log").string());
  }
  port_ = std::stoi(slurp(dir / "port"));
}

SecureSmtpServer::~SecureSmtpServer() {
  stop(pid_);
}

std::vector<std::string> SecureSmtpServer::messages() const {
  return read_sorted(dir_, ".eml");
}

std::string SecureSmtpServer::sessions_log() const {
  return slurp(dir_ / "sessions.log");
}

WebhookReceiver::WebhookReceiver(const fs::path& dir, int status) : dir_(dir) {
  fs::create_directories(dir);
  pid_ = spawn({kPython, std::string(KBIX_SOURCE_DIR) + "/tests/support/webhook_receiver.py",
                dir.string(), std::to_string(status)},
               dir / "receiver.log");
  for (int wait = 0; wait < 200 && !fs::exists(dir / "port"); ++wait) {
    std::this_thread::sleep_for(25ms);
  }
  if (!fs::exists(dir / "port")) {
    throw std::runtime_error("the webhook receiver did not start; see " +
                             (dir / "receiver.log").string());
  }
  port_ = std::stoi(slurp(dir / "port"));
}

WebhookReceiver::~WebhookReceiver() {
  stop(pid_);
}

std::vector<std::string> WebhookReceiver::posts() const {
  return read_sorted(dir_, ".json");
}

std::vector<std::string> WebhookReceiver::content_types() const {
  return read_sorted(dir_, ".type");
}

}  // namespace kbix::test
