// Socket activation: the daemon takes the listening control socket systemd passes (LISTEN_FDS,
// LISTEN_PID, fd 3), checks it is the configured Unix socket, serves on it without chmod/chown
// and leaves systemd's socket file in place at stop. Each case runs in a child process, because
// it puts a socket on fd 3 and sets the environment as systemd does.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <cstdlib>
#include <functional>
#include <thread>

#include "kbix/daemon/control_socket.hpp"
#include "kbix/daemon/systemd_notify.hpp"
#include "support/temp_dir.hpp"

namespace kbix {
namespace {

namespace fs = std::filesystem;

// What systemd does for kbix.socket: a listening socket on fd 3 and LISTEN_FDS/LISTEN_PID.
bool pass_listening_socket(const fs::path& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::snprintf(address.sun_path, sizeof address.sun_path, "%s", path.c_str());
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(fd, 4) != 0 || ::chmod(path.c_str(), 0660) != 0) {
    return false;
  }
  if (fd != 3 && (::dup2(fd, 3) != 3 || ::close(fd) != 0)) return false;
  ::setenv("LISTEN_FDS", "1", 1);
  ::setenv("LISTEN_PID", std::to_string(::getpid()).c_str(), 1);
  return true;
}

// Runs `body` in a child process; its return value is the child's exit code (0 = all good).
int in_child(const std::function<int()>& body) {
  const pid_t child = ::fork();
  if (child == 0) ::_exit(body());
  int status = 0;
  ::waitpid(child, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 100;
}

TEST(SocketActivation, TheDaemonServesOnThePassedSocketAndLeavesItsFile) {
  const fs::path dir = test::make_temp_dir("kbix-activation");
  const fs::path socket = dir / "control.sock";
  const int code = in_child([&] {
    if (!pass_listening_socket(socket)) return 1;
    auto inherited = inherited_listening_socket(socket);
    if (!inherited || !*inherited || **inherited != 3) return 2;
    if (std::getenv("LISTEN_FDS") != nullptr) return 3;  // not passed on to children
    boost::asio::io_context io;
    auto server = ControlServer::start(
        io, socket, "no-such-group-needed",
        [](const ControlRequest&, const PeerCredentials& peer) {
          return nlohmann::json{{"ok", true}, {"uid", peer.uid}};
        },
        {}, *inherited);
    if (!server) return 4;  // a missing control_group would have failed a self-made socket
    std::thread thread([&] { io.run(); });
    auto answer = send_control_request(socket, ControlRequest{}, std::chrono::seconds(5));
    const bool answered = answer && (*answer)["ok"] == true && (*answer)["uid"] == ::getuid();
    boost::asio::post(io, [&] { (*server)->stop(); });
    thread.join();
    if (!answered) return 5;
    if (!fs::exists(socket)) return 6;  // systemd's file, not ours to remove
    return 0;
  });
  EXPECT_EQ(code, 0) << "1 setup, 2 not taken, 3 env kept, 4 start, 5 no answer, 6 file removed";
  fs::remove_all(dir);
}

TEST(SocketActivation, ASocketForAnotherPathIsAConfigurationError) {
  const fs::path dir = test::make_temp_dir("kbix-activation");
  const int code = in_child([&] {
    if (!pass_listening_socket(dir / "other.sock")) return 1;
    auto inherited = inherited_listening_socket(dir / "control.sock");
    return !inherited && inherited.error().code == "config.socket" ? 0 : 2;
  });
  EXPECT_EQ(code, 0);
  fs::remove_all(dir);
}

TEST(SocketActivation, NothingPassedMeansNothingInherited) {
  const int code = in_child([] {
    ::unsetenv("LISTEN_FDS");
    ::unsetenv("LISTEN_PID");
    auto inherited = inherited_listening_socket("/run/kbix/control.sock");
    return inherited && !*inherited ? 0 : 1;
  });
  EXPECT_EQ(code, 0);
}

TEST(SocketActivation, FdsMeantForAnotherProcessAreIgnored) {
  const int code = in_child([] {
    ::setenv("LISTEN_FDS", "1", 1);
    ::setenv("LISTEN_PID", "1", 1);  // systemd passed them to PID 1, not to us
    auto inherited = inherited_listening_socket("/run/kbix/control.sock");
    return inherited && !*inherited ? 0 : 1;
  });
  EXPECT_EQ(code, 0);
}

}  // namespace
}  // namespace kbix
