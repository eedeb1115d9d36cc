#include "support/sshd_fixture.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace kbix::test {
namespace {

constexpr const char* kSshd = "/usr/sbin/sshd";
// OpenSSH's own SFTP server as a subsystem, so that it can log every request to a file of the
// test's (internal-sftp logs only to syslog, which a container does not have).
constexpr const char* kSftpServer = "/usr/lib/openssh/sftp-server";
constexpr auto kStartLimit = std::chrono::seconds(15);

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void write_text(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

// A port the kernel just handed out; sshd may still lose it in a race, start() then retries.
std::uint16_t free_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    if (fd >= 0) ::close(fd);
    throw std::runtime_error("cannot find a free loopback port");
  }
  ::close(fd);
  return ntohs(address.sin_port);
}

// -1 when the process is gone: it may exit between the /proc listing and this read, which then
// fails with ESRCH (an ifstream would throw from its buffer here; a plain read() just fails).
pid_t parent_of(pid_t pid) {
  const std::string path = "/proc/" + std::to_string(pid) + "/stat";
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  char buffer[1024];
  const ssize_t got = ::read(fd, buffer, sizeof buffer);
  ::close(fd);
  if (got <= 0) return -1;
  const std::string stat(buffer, static_cast<std::size_t>(got));
  const auto close_paren = stat.rfind(')');
  if (close_paren == std::string::npos) return -1;
  std::istringstream fields(stat.substr(close_paren + 2));
  char state = 0;
  pid_t parent = -1;
  fields >> state >> parent;
  return parent;
}

}  // namespace

void write_random_file(const std::filesystem::path& path, std::uint64_t size, std::uint64_t seed) {
  std::mt19937_64 engine(seed);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  std::vector<std::uint64_t> block(8192);
  std::uint64_t left = size;
  while (left > 0) {
    for (auto& word : block) word = engine();
    const auto bytes = std::min<std::uint64_t>(left, block.size() * sizeof(std::uint64_t));
    out.write(reinterpret_cast<const char*>(block.data()), static_cast<std::streamsize>(bytes));
    left -= bytes;
  }
  out.close();
  if (!out) throw std::runtime_error("cannot write " + path.string());
  std::filesystem::permissions(
      path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
}

std::string run_command(const std::string& command) {
  std::FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) throw std::runtime_error("cannot run: " + command);
  std::string output;
  std::array<char, 4096> buffer{};
  while (const std::size_t got = std::fread(buffer.data(), 1, buffer.size(), pipe)) {
    output.append(buffer.data(), got);
  }
  const int status = ::pclose(pipe);
  if (status != 0) {
    throw std::runtime_error("command failed (" + std::to_string(status) + "): " + command);
  }
  return output;
}

void make_ed25519_key(const std::filesystem::path& path) {
  run_command("ssh-keygen -q -t ed25519 -N '' -C kbix-test -f '" + path.string() + "'");
}

std::string key_fingerprint(const std::filesystem::path& public_key) {
  // "256 SHA256:abc... comment (ED25519)"
  std::istringstream line(run_command("ssh-keygen -l -E sha256 -f '" + public_key.string() + "'"));
  std::string bits;
  std::string fingerprint;
  line >> bits >> fingerprint;
  return fingerprint;
}

SshdServer::SshdServer(std::vector<std::string> remote_dirs) {
  work_dir_ = make_temp_dir("kbix-sshd");
  sftp_root_ = work_dir_ / "root";
  host_key_ = work_dir_ / "host_ed25519";
  client_key_ = work_dir_ / "client_ed25519";
  known_hosts_ = work_dir_ / "known_hosts";
  authorized_keys_ = work_dir_ / "authorized_keys";
  config_ = work_dir_ / "sshd_config";
  log_ = work_dir_ / "sshd.log";
  sftp_log_ = work_dir_ / "sftp-server.log";
  std::filesystem::create_directories(sftp_root_);
  for (const auto& dir : remote_dirs) std::filesystem::create_directories(sftp_root_ / dir);
  const passwd* account = ::getpwuid(::geteuid());
  if (account == nullptr) throw std::runtime_error("no passwd entry for the current user");
  user_ = account->pw_name;
  make_ed25519_key(host_key_);
  make_ed25519_key(client_key_);
  std::filesystem::copy_file(client_key_.string() + ".pub", authorized_keys_);
  // Privilege separation directory: only needed (and only creatable) as root.
  if (::geteuid() == 0) run_command("install -d -m 0755 /run/sshd");
  for (int attempt = 0; attempt < 5; ++attempt) {
    port_ = free_loopback_port();
    write_config();
    if (try_start()) {
      write_known_hosts(known_hosts_, host_public_key());
      return;
    }
  }
  throw std::runtime_error("sshd did not start; see " + log_.string());
}

SshdServer::~SshdServer() {
  stop();
  std::error_code ignored;
  std::filesystem::remove_all(work_dir_, ignored);
}

SftpSettings SshdServer::client_settings() const {
  SftpSettings settings;
  settings.host = "127.0.0.1";
  settings.port = port_;
  settings.user = user_;
  settings.identity_file = client_key_;
  settings.known_hosts_file = known_hosts_;
  settings.connect_timeout = std::chrono::seconds(10);
  settings.operation_deadline = std::chrono::seconds(120);
  settings.min_age = std::chrono::seconds(0);
  settings.poll_settle = std::chrono::milliseconds(100);
  return settings;
}

void SshdServer::write_known_hosts(const std::filesystem::path& file,
                                   const std::filesystem::path& public_key) const {
  std::istringstream key(read_file(public_key));
  std::string type;
  std::string base64;
  key >> type >> base64;
  write_text(file, "[127.0.0.1]:" + std::to_string(port_) + " " + type + " " + base64 + "\n");
}

void SshdServer::write_config() {
  std::ostringstream config;
  config << "ListenAddress 127.0.0.1:" << port_ << "\n"
         << "HostKey " << host_key_.string() << "\n"
         << "PidFile none\n"
         << "UsePAM no\n"
         << "UseDNS no\n"
         << "PasswordAuthentication no\n"
         << "KbdInteractiveAuthentication no\n"
         << "PubkeyAuthentication yes\n"
         << "AuthorizedKeysFile " << authorized_keys_.string() << "\n"
         << "StrictModes no\n"
         << "PermitRootLogin prohibit-password\n"
         << "AllowUsers " << user_ << "\n"
         << "X11Forwarding no\n"
         << "AllowTcpForwarding no\n"
         << "MaxStartups 50\n"
         << "LogLevel INFO\n"
         // sshd runs the subsystem through the user's shell: the redirection keeps the log
         << "Subsystem sftp " << kSftpServer << " -e -l VERBOSE -d " << sftp_root_.string()
         << " 2>>" << sftp_log_.string() << "\n";
  write_text(config_, config.str());
  run_command(std::string(kSshd) + " -t -f '" + config_.string() + "' 2>&1");
}

bool SshdServer::try_start() {
  const auto log_offset = std::filesystem::exists(log_) ? std::filesystem::file_size(log_) : 0;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, log_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  std::vector<std::string> args = {kSshd, "-D", "-e", "-f", config_.string()};
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, kSshd, &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("cannot spawn sshd");
  pid_ = pid;
  const auto limit = std::chrono::steady_clock::now() + kStartLimit;
  while (std::chrono::steady_clock::now() < limit) {
    const std::string log = read_file(log_);
    const std::string fresh = log.size() > log_offset ? log.substr(log_offset) : "";
    if (fresh.find("Server listening on") != std::string::npos) return true;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      if (fresh.find("Address already in use") != std::string::npos) return false;
      throw std::runtime_error("sshd exited at start: " + fresh);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  stop();
  throw std::runtime_error("sshd did not report listening; see " + log_.string());
}

void SshdServer::start() {
  if (running()) return;
  for (int attempt = 0; attempt < 50; ++attempt) {
    if (try_start()) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // port in TIME_WAIT or taken
  }
  throw std::runtime_error("sshd could not bind port " + std::to_string(port_) + " again");
}

std::vector<pid_t> SshdServer::process_tree() const {
  std::vector<pid_t> tree;
  if (pid_ <= 0) return tree;
  tree.push_back(pid_);
  std::vector<pid_t> all;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (!name.empty() && name.find_first_not_of("0123456789") == std::string::npos) {
      all.push_back(static_cast<pid_t>(std::stol(name)));
    }
  }
  for (std::size_t i = 0; i < tree.size(); ++i) {
    for (const pid_t candidate : all) {
      if (parent_of(candidate) == tree[i]) tree.push_back(candidate);
    }
  }
  return tree;
}

void SshdServer::signal_tree(int signal) {
  for (const pid_t pid : process_tree()) ::kill(pid, signal);
}

void SshdServer::reap() {
  if (pid_ <= 0) return;
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

void SshdServer::kill() {
  signal_tree(SIGKILL);
  reap();
}

void SshdServer::stop() {
  if (!running()) return;
  const auto tree = process_tree();
  for (const pid_t pid : tree) {
    if (pid != pid_) ::kill(pid, SIGKILL);
  }
  ::kill(pid_, SIGTERM);
  ::kill(pid_, SIGCONT);
  reap();
}

namespace {
// Lines of sftp-server's log like `open "/…/naar-vdab/x" flags WRITE,CREATE,TRUNCATE mode 0600`
// or `rename old "/…/naar-vdab/x.part" new "/…/naar-vdab/x"` (posix-rename for OpenSSH clients).
std::uint64_t count_requests(const std::filesystem::path& log, const std::string& dir,
                             bool rename) {
  std::ifstream in(log);
  std::uint64_t count = 0;
  // paths are logged as the client sent them: relative ("naar-vdab/x") or absolute
  // ("/…/naar-vdab/x")
  auto names_dir = [&](const std::string& line, std::size_t from) {
    const auto quote = line.find('"', from);
    if (quote == std::string::npos) return false;
    const auto end = line.find('"', quote + 1);
    const std::string path = line.substr(quote + 1, end - quote - 1);
    return path.rfind(dir + "/", 0) == 0 || path.find("/" + dir + "/") != std::string::npos;
  };
  for (std::string line; std::getline(in, line);) {
    if (rename) {
      const bool renamed =
          line.rfind("rename old \"", 0) == 0 || line.rfind("posix-rename old \"", 0) == 0;
      const auto target = line.find(" new \"");
      if (renamed && target != std::string::npos && names_dir(line, target)) ++count;
    } else if (line.rfind("open \"", 0) == 0 && names_dir(line, 0) &&
               line.find("\" flags WRITE") != std::string::npos) {
      ++count;
    }
  }
  return count;
}
}  // namespace

std::uint64_t SshdServer::files_written_in(const std::string& dir) const {
  return count_requests(sftp_log_, dir, /*rename=*/false);
}

std::uint64_t SshdServer::renames_in(const std::string& dir) const {
  return count_requests(sftp_log_, dir, /*rename=*/true);
}

void SshdServer::freeze() {
  signal_tree(SIGSTOP);
}

void SshdServer::thaw() {
  signal_tree(SIGCONT);
}

}  // namespace kbix::test
