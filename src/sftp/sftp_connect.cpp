// SftpClient::connect and the session plumbing: TCP connect, SSH options, host-key pinning,
// public-key authentication, deadlines and error mapping.
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>

#include "internal/sftp_session.hpp"
#include "kbix/core/file_safety.hpp"
#include "kbix/core/untrusted_text.hpp"

namespace kbix {

SftpClient::Session::~Session() {
  if (sftp != nullptr) sftp_free(sftp);
  if (ssh != nullptr && !broken && !deadline_passed) ssh_disconnect(ssh);
  if (ssh != nullptr) ssh_free(ssh);  // closes the socket once it was handed over
  if (!fd_handed_to_ssh && fd >= 0) ::close(fd);
}

namespace sftp_detail {

DeadlineWatchdog::DeadlineWatchdog(SftpClient::Session& session, std::chrono::milliseconds limit)
    : thread_([&session, limit](std::stop_token stop) {
        std::mutex mutex;
        std::condition_variable_any wakeup;
        std::unique_lock lock(mutex);
        wakeup.wait_for(lock, stop, limit, [] { return false; });
        if (stop.stop_requested()) return;
        session.deadline_passed = true;
        ::shutdown(session.fd, SHUT_RDWR);
      }) {}

std::string server_error_text(ssh_session ssh) {
  const char* text = ssh != nullptr ? ssh_get_error(ssh) : nullptr;
  return sanitize_untrusted_text(text != nullptr ? text : "");
}

Error session_failure(SftpClient::Session& session, std::string_view what) {
  const std::string prefix(what);
  if (session.deadline_passed) {
    session.broken = true;
    return {"sftp.timeout", prefix + ": deadline passed, connection closed"};
  }
  const std::string ssh_error = server_error_text(session.ssh);
  if (session.ssh == nullptr || !ssh_is_connected(session.ssh) ||
      (ssh_get_status(session.ssh) & (SSH_CLOSED | SSH_CLOSED_ERROR)) != 0) {
    session.broken = true;
    return {"sftp.connection_lost", prefix + ": connection lost: " + ssh_error};
  }
  const int status = session.sftp != nullptr ? sftp_get_error(session.sftp) : -1;
  switch (status) {
    case SSH_FX_NO_SUCH_FILE:
    case SSH_FX_NO_SUCH_PATH:
      return {"sftp.not_found", prefix + ": no such file or directory"};
    case SSH_FX_PERMISSION_DENIED:
      return {"sftp.permission_denied", prefix + ": permission denied"};
    case SSH_FX_FILE_ALREADY_EXISTS:
      return {"sftp.exists", prefix + ": already exists"};
    case SSH_FX_BAD_MESSAGE:
    case SSH_FX_OP_UNSUPPORTED:
      return {"sftp.protocol",
              prefix + ": server refused the request (" + std::to_string(status) + ")"};
    default:
      return {"sftp.remote_failure",
              prefix + ": failed (sftp status " + std::to_string(status) + "): " + ssh_error};
  }
}

std::string remote_path(const std::string& dir, const std::string& name) {
  if (dir.empty()) return name;
  if (dir.back() == '/') return dir + name;
  return dir + "/" + name;
}

}  // namespace sftp_detail

namespace {

using sftp_detail::DeadlineWatchdog;
using sftp_detail::server_error_text;

std::string errno_text(int error) {
  return std::strerror(error);
}

void set_keepalive(int fd, std::chrono::milliseconds interval) {
  const int on = 1;
  const int seconds = static_cast<int>(std::max<std::int64_t>(
      1, std::chrono::duration_cast<std::chrono::seconds>(interval).count()));
  const int probes = 3;
  // Best effort: a failure here only weakens dead-peer detection, the deadlines still hold.
  ::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &seconds, sizeof seconds);
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &seconds, sizeof seconds);
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &probes, sizeof probes);
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
}

// One non-blocking connect per resolved address, all within `timeout`.
Result<int> open_tcp_connection(const SftpSettings& settings) {
  const std::string where = settings.host + ":" + std::to_string(settings.port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(settings.port);
  if (const int rc = ::getaddrinfo(settings.host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    return fail("sftp.connect_failed", where + ": cannot resolve host: " + gai_strerror(rc));
  }
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> addresses(found, ::freeaddrinfo);
  const auto deadline = std::chrono::steady_clock::now() + settings.connect_timeout;
  std::string last_problem = "no address";
  bool timed_out = false;
  for (const addrinfo* address = found; address != nullptr; address = address->ai_next) {
    const int fd = ::socket(address->ai_family, address->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                            address->ai_protocol);
    if (fd < 0) {
      last_problem = errno_text(errno);
      continue;
    }
    int error = 0;
    if (::connect(fd, address->ai_addr, address->ai_addrlen) != 0) {
      error = errno;
      if (error == EINPROGRESS) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        pollfd waiting{fd, POLLOUT, 0};
        const int ready =
            ::poll(&waiting, 1, static_cast<int>(std::max<std::int64_t>(0, left.count())));
        if (ready == 0) {
          error = ETIMEDOUT;
          timed_out = true;
        } else if (ready < 0) {
          error = errno;
        } else {
          socklen_t length = sizeof error;
          ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length);
        }
      }
    }
    if (error == 0) {
      // libssh drives the socket in blocking mode; our watchdog bounds each call.
      ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
      set_keepalive(fd, settings.keepalive_interval);
      return fd;
    }
    ::close(fd);
    last_problem = errno_text(error);
  }
  return fail(timed_out ? ErrorCode("sftp.timeout") : ErrorCode("sftp.connect_failed"),
              where + ": cannot connect: " + last_problem);
}

Status set_option(ssh_session ssh, ssh_options_e option, const void* value, const char* name) {
  if (ssh_options_set(ssh, option, value) != SSH_OK) {
    return fail("sftp.settings",
                std::string("invalid SSH option ") + name + ": " + server_error_text(ssh));
  }
  return ok();
}

Status apply_options(ssh_session ssh, const SftpSettings& settings) {
  const int no = 0;
  const unsigned int port = settings.port;
  // libssh's own timeout is only a backstop, set well past our deadlines: when it fired first, a
  // stall would surface as libssh's generic error instead of "sftp.timeout".
  const auto backstop = std::max(settings.connect_timeout, settings.operation_deadline) +
                        std::chrono::milliseconds(30000);
  const long timeout_seconds = static_cast<long>(backstop.count() / 1000);
  // PROCESS_CONFIG=0 first: no ~/.ssh/config or /etc/ssh/ssh_config may weaken the checks.
  KBIX_TRY(set_option(ssh, SSH_OPTIONS_PROCESS_CONFIG, &no, "process_config"));
  KBIX_TRY(set_option(ssh, SSH_OPTIONS_HOST, settings.host.c_str(), "host"));
  KBIX_TRY(set_option(ssh, SSH_OPTIONS_PORT, &port, "port"));
  KBIX_TRY(set_option(ssh, SSH_OPTIONS_USER, settings.user.c_str(), "user"));
  KBIX_TRY(
      set_option(ssh, SSH_OPTIONS_KNOWNHOSTS, settings.known_hosts_file.c_str(), "known_hosts"));
  KBIX_TRY(set_option(ssh, SSH_OPTIONS_GLOBAL_KNOWNHOSTS, "/dev/null", "global_known_hosts"));
  KBIX_TRY(set_option(ssh, SSH_OPTIONS_HOSTKEYS, settings.host_key_algorithms.c_str(),
                      "host_key_algorithms"));
  KBIX_TRY(
      set_option(ssh, SSH_OPTIONS_KEY_EXCHANGE, settings.key_exchange.c_str(), "key_exchange"));
  KBIX_TRY(set_option(ssh, SSH_OPTIONS_CIPHERS_C_S, settings.ciphers.c_str(), "ciphers"));
  KBIX_TRY(set_option(ssh, SSH_OPTIONS_CIPHERS_S_C, settings.ciphers.c_str(), "ciphers"));
  KBIX_TRY(set_option(ssh, SSH_OPTIONS_HMAC_C_S, settings.macs.c_str(), "macs"));
  KBIX_TRY(set_option(ssh, SSH_OPTIONS_HMAC_S_C, settings.macs.c_str(), "macs"));
  KBIX_TRY(set_option(ssh, SSH_OPTIONS_COMPRESSION, "no", "compression"));
  KBIX_TRY(set_option(ssh, SSH_OPTIONS_TIMEOUT, &timeout_seconds, "timeout"));
  return ok();
}

Result<std::string> offered_fingerprint(SftpClient::Session& session) {
  ssh_key key = nullptr;
  if (ssh_get_server_publickey(session.ssh, &key) != SSH_OK) {
    return fail("sftp.host_key_error", "cannot read the server's host key");
  }
  unsigned char* hash = nullptr;
  size_t hash_length = 0;
  const int rc = ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &hash_length);
  const std::string type = ssh_key_type_to_char(ssh_key_type(key));
  ssh_key_free(key);
  if (rc != SSH_OK) return fail("sftp.host_key_error", "cannot hash the server's host key");
  char* text = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hash_length);
  ssh_clean_pubkey_hash(&hash);
  if (text == nullptr) return fail("sftp.host_key_error", "cannot format the host key hash");
  std::string fingerprint = type + " " + text;
  ssh_string_free_char(text);
  return fingerprint;
}

// The pin is only as good as the file: one that others may change pins nothing.
Status check_known_hosts_file(const std::filesystem::path& file) {
  struct stat status {};
  if (::stat(file.c_str(), &status) != 0) return ok();  // missing: every host is unknown
  if ((status.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    return fail("security.known_hosts_mode",
                file.string() + ": writable by group or others, refusing to trust its host keys");
  }
  return ok();
}

Status verify_host_key(SftpClient::Session& session) {
  KBIX_ASSIGN_OR_RETURN(auto fingerprint, offered_fingerprint(session));
  const std::string where = session.settings.host + ":" + std::to_string(session.settings.port);
  const std::string file = session.settings.known_hosts_file.string();
  // Only an exact match in the pinned file is accepted; every other answer refuses.
  switch (ssh_session_is_known_server(session.ssh)) {
    case SSH_KNOWN_HOSTS_OK:
      session.host_key_fingerprint = fingerprint;
      return ok();
    case SSH_KNOWN_HOSTS_CHANGED:
    case SSH_KNOWN_HOSTS_OTHER:
      return fail("sftp.host_key_mismatch", where + " offered host key " + fingerprint +
                                                ", which does not match the key pinned in " + file);
    case SSH_KNOWN_HOSTS_UNKNOWN:
    case SSH_KNOWN_HOSTS_NOT_FOUND:
      return fail("sftp.host_key_unknown", where + " offered host key " + fingerprint +
                                               ", but no key is pinned for it in " + file);
    case SSH_KNOWN_HOSTS_ERROR:
    default:
      return fail("sftp.host_key_error", where + ": cannot check host key " + fingerprint +
                                             " against " + file + ": " +
                                             server_error_text(session.ssh));
  }
}

Status authenticate(SftpClient::Session& session) {
  const auto& settings = session.settings;
  ssh_key key = nullptr;
  if (ssh_pki_import_privkey_file(settings.identity_file.c_str(), nullptr, nullptr, nullptr,
                                  &key) != SSH_OK) {
    return fail("sftp.identity", settings.identity_file.string() +
                                     ": cannot read the private key (passphrases not supported)");
  }
  const int rc = ssh_userauth_publickey(session.ssh, nullptr, key);
  ssh_key_free(key);
  if (rc == SSH_AUTH_SUCCESS) return ok();
  if (rc == SSH_AUTH_ERROR) {
    return fail(sftp_detail::session_failure(session, "authentication"));
  }
  return fail("sftp.auth_failed", "user " + settings.user + " at " + settings.host + ":" +
                                      std::to_string(settings.port) +
                                      ": the server refused our public key");
}

Status establish(SftpClient::Session& session) {
  const auto& settings = session.settings;
  KBIX_TRY(apply_options(session.ssh, settings));
  KBIX_TRY(set_option(session.ssh, SSH_OPTIONS_FD, &session.fd, "fd"));
  DeadlineWatchdog watchdog(session, settings.connect_timeout);
  session.fd_handed_to_ssh = true;
  if (ssh_connect(session.ssh) != SSH_OK) {
    if (session.deadline_passed) {
      return fail("sftp.timeout", settings.host + ": SSH handshake did not finish in time");
    }
    return fail("sftp.connect_failed",
                settings.host + ": SSH handshake failed: " + server_error_text(session.ssh));
  }
  KBIX_TRY(verify_host_key(session));
  KBIX_TRY(authenticate(session));
  session.sftp = sftp_new(session.ssh);
  if (session.sftp == nullptr || sftp_init(session.sftp) != SSH_OK) {
    return fail(sftp_detail::session_failure(session, "starting the SFTP subsystem"));
  }
  return ok();
}

}  // namespace

Result<SftpClient> SftpClient::connect(const SftpSettings& settings) {
  KBIX_TRY(check_private_file(settings.identity_file));
  KBIX_TRY(check_known_hosts_file(settings.known_hosts_file));
  auto session = std::make_unique<Session>();
  session->settings = settings;
  auto fd = open_tcp_connection(settings);
  if (!fd) return fail(std::move(fd).error());
  session->fd = *fd;
  session->ssh = ssh_new();
  if (session->ssh == nullptr) return fail("sftp.connect_failed", "cannot create an SSH session");
  if (auto established = establish(*session); !established) {
    session->broken = true;
    spdlog::warn("sftp: connect to {}:{} failed: {}", settings.host, settings.port,
                 established.error().describe());
    return fail(std::move(established).error());
  }
  spdlog::info("sftp: connected to {}:{} as {} (cipher {})", settings.host, settings.port,
               settings.user, ssh_get_cipher_out(session->ssh));
  return SftpClient(std::move(session));
}

}  // namespace kbix
