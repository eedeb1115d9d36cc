#include "kbix/daemon/control_socket.hpp"

#include <grp.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio.hpp>
#include <cstring>
#include <vector>

#include "kbix/core/untrusted_text.hpp"

namespace kbix {

namespace asio = boost::asio;
using Local = asio::local::stream_protocol;

namespace {

std::optional<gid_t> group_id(const std::string& name) {
  std::vector<char> buffer(16384);
  group entry{};
  group* found = nullptr;
  if (::getgrnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found) != 0 ||
      found == nullptr) {
    return std::nullopt;
  }
  return found->gr_gid;
}

std::pair<std::string, gid_t> user_of(uid_t uid) {
  std::vector<char> buffer(16384);
  passwd entry{};
  passwd* found = nullptr;
  if (::getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &found) != 0 || found == nullptr) {
    return {"uid-" + std::to_string(uid), static_cast<gid_t>(-1)};
  }
  return {found->pw_name, found->pw_gid};
}

nlohmann::json refused(std::string code, std::string message) {
  return {{"ok", false}, {"error", std::move(code)}, {"message", std::move(message)}};
}

}  // namespace

bool peer_is_allowed(const PeerCredentials& peer, const std::string& control_group) {
  if (peer.uid == kUnknownId) return false;
  if (peer.uid == 0 || peer.uid == ::geteuid()) return true;
  if (control_group.empty()) return false;
  const auto gid = group_id(control_group);
  if (!gid) return false;
  const auto [name, primary] = user_of(peer.uid);
  if (primary == *gid || peer.gid == *gid) return true;
  int count = 64;
  std::vector<gid_t> groups(static_cast<std::size_t>(count));
  if (::getgrouplist(name.c_str(), primary, groups.data(), &count) < 0) {
    groups.resize(static_cast<std::size_t>(count));
    if (::getgrouplist(name.c_str(), primary, groups.data(), &count) < 0) return false;
  }
  groups.resize(static_cast<std::size_t>(count));
  return std::find(groups.begin(), groups.end(), *gid) != groups.end();
}

// One accepted connection: its socket, its bounded read buffer, its deadline, and its place in
// the count of open connections (released when the last handler lets go of it).
struct ControlConnection {
  ControlConnection(Local::socket s, std::shared_ptr<std::atomic<int>> open)
      : socket(std::move(s)),
        buffer(kMaxControlMessageBytes + 1),
        deadline(socket.get_executor()),
        open_connections(std::move(open)) {}
  ~ControlConnection() { open_connections->fetch_sub(1); }
  Local::socket socket;
  asio::streambuf buffer;
  asio::steady_timer deadline;
  std::shared_ptr<std::atomic<int>> open_connections;
};

struct ControlServer::State : std::enable_shared_from_this<ControlServer::State> {
  State(asio::io_context& io, std::string group, ControlHandler h, RefusalReporter r)
      : acceptor(io),
        control_group(std::move(group)),
        handler(std::move(h)),
        on_refused(std::move(r)) {}
  Local::acceptor acceptor;
  std::filesystem::path path;
  bool owns_path = true;  // false: systemd's socket file, left in place
  std::string control_group;
  ControlHandler handler;
  RefusalReporter on_refused;
  bool stopped = false;
  std::shared_ptr<std::atomic<int>> open_connections = std::make_shared<std::atomic<int>>(0);

  void accept() {
    acceptor.async_accept([self = shared_from_this()](boost::system::error_code error,
                                                      Local::socket socket) {
      if (self->stopped) return;
      if (!error) {
        self->open_connections->fetch_add(1);
        self->serve(std::make_shared<ControlConnection>(std::move(socket), self->open_connections));
      }
      self->accept();
    });
  }

  static void answer(const std::shared_ptr<ControlConnection>& connection,
                     const nlohmann::json& reply) {
    auto text = std::make_shared<std::string>(
        reply.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
    asio::async_write(connection->socket, asio::buffer(*text),
                      [connection, text](boost::system::error_code, std::size_t) {
                        boost::system::error_code ignored;
                        connection->deadline.cancel();
                        connection->socket.shutdown(Local::socket::shutdown_both, ignored);
                      });
  }

  // Fails closed (issue 13 item 11): a peer whose credentials the kernel cannot give is refused,
  // never taken for root; the request line must arrive within kControlReadDeadline and fit in
  // kMaxControlMessageBytes; beyond kMaxControlConnections open connections a new one is told
  // control.busy and closed.
  void serve(const std::shared_ptr<ControlConnection>& connection) {
    connection->deadline.expires_after(kControlReadDeadline);
    connection->deadline.async_wait([weak = std::weak_ptr<ControlConnection>(connection)](
                                        const boost::system::error_code& error) {
      if (error) return;  // cancelled: the answer is on its way
      if (auto alive = weak.lock()) {
        boost::system::error_code ignored;
        alive->socket.close(ignored);  // a slow or silent peer loses its connection
      }
    });
    // A refusal is answered after the request line is read: closing a Unix socket with unread
    // data resets it, and the peer would never see why.
    std::optional<nlohmann::json> refusal;
    if (open_connections->load() > kMaxControlConnections) {
      refusal = refused("control.busy", "too many open control connections; try again");
    }
    PeerCredentials peer;
    ucred credentials{};
    socklen_t length = sizeof credentials;
    if (::getsockopt(connection->socket.native_handle(), SOL_SOCKET, SO_PEERCRED, &credentials,
                     &length) == 0 &&
        length == sizeof credentials) {
      peer.uid = credentials.uid;
      peer.gid = credentials.gid;
      peer.pid = credentials.pid;
      peer.user_name = user_of(peer.uid).first;
    } else if (!refusal) {
      peer.user_name = "(unknown peer)";
      if (on_refused) on_refused(peer, "the kernel gave no peer credentials (SO_PEERCRED)");
      refusal = refused("control.forbidden", "the peer's credentials are unknown");
    }
    serve_peer(connection, peer, std::move(refusal));
  }

  void serve_peer(const std::shared_ptr<ControlConnection>& connection, PeerCredentials peer,
                  std::optional<nlohmann::json> refusal) {
    asio::async_read_until(
        connection->socket, connection->buffer, '\n',
        [self = shared_from_this(), connection, peer, refusal](boost::system::error_code error,
                                                               std::size_t bytes) {
          nlohmann::json reply;
          if (error == asio::error::operation_aborted || !connection->socket.is_open()) {
            return;  // the deadline closed it
          } else if (refusal) {
            reply = *refusal;
          } else if (!peer_is_allowed(peer, self->control_group)) {
            if (self->on_refused) self->on_refused(peer, "not a member of the control group");
            reply = refused("control.forbidden", "user " + peer.user_name +
                                                     " may not use the kbix control socket "
                                                     "(ask for membership of group '" +
                                                     self->control_group + "')");
          } else if (error) {
            reply = refused("control.bad_request", "no complete request line (max 64 KiB)");
          } else {
            const auto begin = asio::buffers_begin(connection->buffer.data());
            std::string line(begin, begin + static_cast<std::ptrdiff_t>(bytes));
            // A daemon boundary: one bad request fails only itself (the handler audits).
            try {
              auto request = parse_control_request(line);
              reply = request ? self->handler(*request, peer)
                              : refused(request.error().code, request.error().message);
            } catch (const std::exception&) {
              reply = refused("daemon.internal_error", "the request failed inside the daemon");
            }
          }
          answer(connection, reply);
        });
  }
};

Result<std::unique_ptr<ControlServer>> ControlServer::start(
    asio::io_context& io, const std::filesystem::path& socket_path,
    const std::string& control_group, ControlHandler handler, RefusalReporter on_refused,
    std::optional<int> inherited_fd) {
  auto state =
      std::make_shared<State>(io, control_group, std::move(handler), std::move(on_refused));
  state->path = socket_path;
  if (inherited_fd) {
    boost::system::error_code error;
    state->acceptor.assign(Local(), *inherited_fd, error);
    if (error) {
      return fail("control.listen", socket_path.string() +
                                        ": cannot use the socket from systemd: " + error.message());
    }
    state->owns_path = false;
    state->accept();
    return std::unique_ptr<ControlServer>(new ControlServer(state));
  }
  std::error_code fs_error;
  std::filesystem::create_directories(socket_path.parent_path(), fs_error);
  if (std::filesystem::exists(std::filesystem::symlink_status(socket_path, fs_error))) {
    Local::socket probe(io);
    boost::system::error_code error;
    probe.connect(Local::endpoint(socket_path.string()), error);
    if (!error) {
      return fail("control.in_use", socket_path.string() + ": another kbix daemon listens here");
    }
    std::filesystem::remove(socket_path, fs_error);
  }
  std::optional<gid_t> gid;
  if (!control_group.empty()) {
    gid = group_id(control_group);
    if (!gid) {
      return fail("control.no_group", "control_group '" + control_group + "' does not exist");
    }
  }
  boost::system::error_code error;
  state->acceptor.open(Local(), error);
  if (!error) state->acceptor.bind(Local::endpoint(socket_path.string()), error);
  if (!error) state->acceptor.listen(16, error);
  if (error) {
    return fail("control.listen", socket_path.string() + ": cannot listen: " + error.message());
  }
  if (::chmod(socket_path.c_str(), 0660) != 0 ||
      (gid && ::chown(socket_path.c_str(), static_cast<uid_t>(-1), *gid) != 0)) {
    return fail("control.listen", socket_path.string() + ": cannot set mode 0660 and group");
  }
  state->accept();
  return std::unique_ptr<ControlServer>(new ControlServer(state));
}

void ControlServer::stop() {
  if (!state_ || state_->stopped) return;
  state_->stopped = true;
  boost::system::error_code ignored;
  state_->acceptor.close(ignored);
  std::error_code fs_ignored;
  if (state_->owns_path) std::filesystem::remove(state_->path, fs_ignored);
}

ControlServer::~ControlServer() {
  stop();
}

Result<nlohmann::json> send_control_request(const std::filesystem::path& socket_path,
                                            const ControlRequest& request,
                                            std::chrono::seconds timeout) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail("control.unreachable", "cannot create a socket");
  timeval limit{static_cast<time_t>(timeout.count()), 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  const std::string path = socket_path.string();
  if (path.size() >= sizeof address.sun_path) {
    ::close(fd);
    return fail("control.unreachable", path + ": socket path too long");
  }
  std::copy(path.begin(), path.end(), address.sun_path);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    const int error = errno;
    ::close(fd);
    return fail("control.unreachable",
                "cannot reach the kbix daemon at " + path + ": " + std::strerror(error));
  }
  const std::string line = serialize_control_request(request) + "\n";
  std::size_t sent = 0;
  while (sent < line.size()) {
    const ssize_t n = ::send(fd, line.data() + sent, line.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      ::close(fd);
      return fail("control.unreachable", "the daemon closed the connection");
    }
    sent += static_cast<std::size_t>(n);
  }
  std::string answer;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n < 0) {
      ::close(fd);
      return fail("control.timeout",
                  "no answer from the daemon within " + std::to_string(timeout.count()) + " s");
    }
    if (n == 0) break;
    answer.append(buffer, static_cast<std::size_t>(n));
    if (answer.size() > 64 * 1024 * 1024) break;
  }
  ::close(fd);
  auto json = nlohmann::json::parse(answer, nullptr, false);
  if (json.is_discarded() || !json.is_object()) {
    return fail("control.bad_answer", "the daemon's answer is not JSON");
  }
  return json;
}

}  // namespace kbix
