// The control protocol (strict parsing) and the control socket over a real Unix socket: answers,
// socket mode, and a peer outside the control group refused by its kernel-given uid.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <thread>

#include "kbix/daemon/control_socket.hpp"
#include "support/temp_dir.hpp"

namespace kbix {
namespace {

namespace fs = std::filesystem;

TEST(ControlProtocol, ParsesGoodRequestsAndRoundTrips) {
  auto start = parse_control_request(R"({"command":"run_start","force":true,"reason":"outage"})");
  ASSERT_TRUE(start) << start.error().describe();
  EXPECT_EQ(start->command, ControlCommand::run_start);
  EXPECT_TRUE(start->force);
  auto again = parse_control_request(serialize_control_request(*start));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->reason, "outage");
  auto show = parse_control_request(R"({"command":"run_show","run_id":"20261122T135500Z-3f9a"})");
  ASSERT_TRUE(show);
  EXPECT_EQ(show->run_id, "20261122T135500Z-3f9a");
}

TEST(ControlProtocol, RefusesEveryMalformedRequest) {
  const std::vector<std::string> bad = {
      "",
      "not json",
      "[]",
      "42",
      R"({})",
      R"({"command":1})",
      R"({"command":"reboot"})",
      R"({"command":"status","extra":1})",
      R"({"command":"status","run_id":"20261122T135500Z-3f9a"})",
      R"({"command":"run_show"})",
      R"({"command":"run_show","run_id":"../../etc/passwd"})",
      R"({"command":"run_show","run_id":"20261122T135500Z-3F9A"})",
      R"({"command":"run_start","force":"yes"})",
      R"({"command":"run_start","reason":7})",
      R"({"command":"run_start","reason":")" + std::string(501, 'x') + R"("})",
      R"({"command":"run_start","reason":"line\nbreak"})",
      R"({"command":"run_cancel","run_id":"20261122T135500Z-3f9a"})",
      R"({"command":"run_retry","run_id":"20261122T135500Z-3f9a","force":true})",
      R"({"command":"status"} trailing)",
      "{\"command\":\"status\"" + std::string(70000, ' ') + "}",
  };
  for (const auto& line : bad) {
    auto parsed = parse_control_request(line);
    ASSERT_FALSE(parsed) << line.substr(0, 80);
    EXPECT_EQ(parsed.error().code, "control.bad_request") << line.substr(0, 80);
  }
}

// Issue 15: the export commands carry a run, a channel and operator text; each field only where
// it belongs, and no personal data in any of them.
TEST(ControlProtocol, ExportCommandsParseStrictlyAndRoundTrip) {
  auto password = parse_control_request(
      R"({"command":"export_password","run_id":"20261122T135500Z-3f9a","channel":"sms",)"
      R"("again":true,"reason":"not received"})");
  ASSERT_TRUE(password) << password.error().describe();
  EXPECT_EQ(password->command, ControlCommand::export_password);
  EXPECT_TRUE(password->again);
  auto again = parse_control_request(serialize_control_request(*password));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->channel, "sms");
  EXPECT_TRUE(again->again);
  auto delivered = parse_control_request(
      R"({"command":"export_delivered","run_id":"20261122T135500Z-3f9a","channel":"sharepoint",)"
      R"("reference":"site genk"})");
  ASSERT_TRUE(delivered);
  EXPECT_EQ(parse_control_request(serialize_control_request(*delivered))->reference, "site genk");
  auto start = parse_control_request(
      R"({"command":"run_start","exchange":"genk","request_reference":"GENK-2026-041"})");
  ASSERT_TRUE(start);
  EXPECT_EQ(parse_control_request(serialize_control_request(*start))->request_reference,
            "GENK-2026-041");
  for (const std::string line :
       {R"({"command":"export_password","run_id":"20261122T135500Z-3f9a"})",
        R"({"command":"export_password","channel":"sms"})",
        R"({"command":"export_delivered","run_id":"20261122T135500Z-3f9a","channel":7})",
        R"({"command":"run_start","channel":"sms"})",
        R"({"command":"run_show","run_id":"20261122T135500Z-3f9a","again":true})",
        R"({"command":"export_password","run_id":"20261122T135500Z-3f9a","channel":"sms",)"
        R"("reference":"x"})",
        R"({"command":"status","request_reference":"R-1"})",
        R"({"command":"export_delivered","run_id":"20261122T135500Z-3f9a",)"
        R"("channel":"email","reference":"a
b"})"}) {
    auto parsed = parse_control_request(line);
    ASSERT_FALSE(parsed) << line;
    EXPECT_EQ(parsed.error().code, "control.bad_request") << line;
  }
  auto personal = parse_control_request(
      R"({"command":"export_delivered","run_id":"20261122T135500Z-3f9a","channel":"email",)"
      R"("reference":"for 85073003328"})");
  ASSERT_FALSE(personal);
  EXPECT_EQ(personal.error().code, "run.reason_personal_data");
}

struct ServerThread {
  boost::asio::io_context io;
  std::unique_ptr<ControlServer> server;
  std::thread thread;
  std::vector<PeerCredentials> refused;
  std::mutex mutex;

  ServerThread(const fs::path& socket, const std::string& group) {
    auto started = ControlServer::start(
        io, socket, group,
        [](const ControlRequest& request, const PeerCredentials& peer) {
          return nlohmann::json{
              {"ok", true}, {"command", static_cast<int>(request.command)}, {"uid", peer.uid}};
        },
        [this](const PeerCredentials& peer, std::string_view) {
          std::lock_guard lock(mutex);
          refused.push_back(peer);
        });
    if (!started) throw std::runtime_error(started.error().describe());
    server = std::move(*started);
    thread = std::thread([this] { io.run(); });
  }
  ~ServerThread() {
    boost::asio::post(io, [this] { server->stop(); });
    io.stop();
    thread.join();
  }
};

TEST(ControlSocket, AnswersOverARealUnixSocketWithMode0660) {
  const fs::path dir = test::make_temp_dir("kbix-control");
  const fs::path socket = dir / "control.sock";
  {
    ServerThread server(socket, "");
    struct stat info {};
    ASSERT_EQ(::stat(socket.c_str(), &info), 0);
    EXPECT_EQ(info.st_mode & 0777, 0660u);
    ControlRequest status;
    auto answer = send_control_request(socket, status, std::chrono::seconds(5));
    ASSERT_TRUE(answer) << answer.error().describe();
    EXPECT_EQ((*answer)["ok"], true);
    EXPECT_EQ((*answer)["uid"], ::getuid()) << "uid from SO_PEERCRED";
  }
  EXPECT_FALSE(fs::exists(socket)) << "removed on stop";
  ControlRequest status;
  EXPECT_EQ(send_control_request(socket, status, std::chrono::seconds(1)).error().code,
            "control.unreachable");
  fs::remove_all(dir);
}

TEST(ControlSocket, ThePeerRuleRefusesAStrangerAndAllowsTheDaemonsOwnUser) {
  PeerCredentials stranger{65534, 65534, 1, "nobody"};
  EXPECT_FALSE(peer_is_allowed(stranger, ""));
  EXPECT_FALSE(peer_is_allowed(stranger, "root"));
  EXPECT_TRUE(peer_is_allowed(PeerCredentials{::geteuid(), 0, 1, "me"}, ""));
}

TEST(ControlSocket, APeerOutsideTheGroupIsRefusedAndReported) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to connect as another uid (CI runs as root)";
  const fs::path dir = test::make_temp_dir("kbix-control");
  ::chmod(dir.c_str(), 0755);
  const fs::path socket = dir / "control.sock";
  ServerThread server(socket, "root");  // group root: nobody (65534) is not a member
  ::chmod(socket.c_str(), 0666);        // let the kernel connect; kbix itself must refuse
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  const pid_t child = ::fork();
  if (child == 0) {
    ::close(pipe_fds[0]);
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(3);
    ControlRequest status;
    auto answer = send_control_request(socket, status, std::chrono::seconds(5));
    const std::string text = answer ? answer->dump() : answer.error().code;
    (void)!::write(pipe_fds[1], text.data(), text.size());
    ::_exit(0);
  }
  ::close(pipe_fds[1]);
  std::string text;
  char buffer[1024];
  for (ssize_t n; (n = ::read(pipe_fds[0], buffer, sizeof buffer)) > 0;) {
    text.append(buffer, static_cast<std::size_t>(n));
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_EQ(WEXITSTATUS(status), 0);
  const auto answer = nlohmann::json::parse(text, nullptr, false);
  ASSERT_FALSE(answer.is_discarded()) << text;
  EXPECT_EQ(answer["ok"], false);
  EXPECT_EQ(answer["error"], "control.forbidden");
  std::lock_guard lock(server.mutex);
  ASSERT_EQ(server.refused.size(), 1u);
  EXPECT_EQ(server.refused[0].uid, 65534u);
  fs::remove_all(dir);
}

// Issue 13 item 4: operator text is guarded like file content.
TEST(ControlProtocol, AReasonHoldingAnInszIsRefusedBeforeAnythingChanges) {
  for (const std::string reason : {"cancel for 85073003328", "wrong person 85.07.30-033.28"}) {
    auto parsed = parse_control_request(
        R"({"command":"run_cancel","run_id":"20261122T135500Z-3f9a","reason":")" + reason + "\"}");
    ASSERT_FALSE(parsed) << reason;
    EXPECT_EQ(parsed.error().code, "run.reason_personal_data");
    EXPECT_EQ(parsed.error().message.find("85"), std::string::npos) << parsed.error().message;
  }
  EXPECT_TRUE(parse_control_request(
      R"({"command":"run_cancel","run_id":"20261122T135500Z-3f9a","reason":"ticket 4711"})"));
}

// Issue 13 item 11: the socket fails closed.
TEST(ControlSocket, APeerWhoseCredentialsAreUnknownIsNeverTakenForRoot) {
  EXPECT_FALSE(peer_is_allowed(PeerCredentials{}, ""));
  EXPECT_FALSE(peer_is_allowed(PeerCredentials{}, "root"));
}

int connect_raw(const fs::path& socket) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::snprintf(address.sun_path, sizeof address.sun_path, "%s", socket.c_str());
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

TEST(ControlSocket, ASilentPeerIsDisconnectedAtTheReadDeadline) {
  const fs::path dir = test::make_temp_dir("kbix-control");
  ServerThread server(dir / "control.sock", "");
  const int fd = connect_raw(dir / "control.sock");
  ASSERT_GE(fd, 0);
  timeval limit{static_cast<time_t>(kControlReadDeadline.count() * 6), 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
  char byte = 0;
  const ssize_t got = ::recv(fd, &byte, 1, 0);
  EXPECT_EQ(got, 0) << "the server closes a connection that sends nothing (errno " << errno << ")";
  ::close(fd);
  fs::remove_all(dir);
}

TEST(ControlSocket, ConnectionsBeyondTheCapAreToldBusy) {
  const fs::path dir = test::make_temp_dir("kbix-control");
  ServerThread server(dir / "control.sock", "");
  std::vector<int> idle;
  for (int i = 0; i < kMaxControlConnections; ++i) {
    idle.push_back(connect_raw(dir / "control.sock"));
    ASSERT_GE(idle.back(), 0);
  }
  // The server has taken the idle ones once a request on a fresh connection is answered.
  ControlRequest status;
  auto answer = send_control_request(dir / "control.sock", status, std::chrono::seconds(5));
  ASSERT_TRUE(answer) << answer.error().describe();
  EXPECT_EQ((*answer)["ok"], false) << answer->dump();
  EXPECT_EQ((*answer)["error"], "control.busy") << answer->dump();
  for (const int fd : idle) ::close(fd);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace kbix
