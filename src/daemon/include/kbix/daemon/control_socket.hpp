// ControlServer: the daemon's Unix control socket; send_control_request: its client.
//
// Under systemd the listening socket comes from kbix.socket (`inherited_fd`, with its group and
// mode already set; the file is systemd's and stays at stop). Otherwise the socket file is created
// with mode 0660 and group `control_group` (chgrp), in a directory kbix owns; a stale socket file
// is replaced only when nobody listens on it. Each connection
// carries one request line and gets one answer line. The peer's uid, gid and pid come from the
// kernel (SO_PEERCRED), never from the message: root and the daemon's own uid are always allowed,
// anyone else must be a member (primary or supplementary) of control_group; refused peers get
// control.forbidden and are reported through `on_refused` so the daemon can audit them.
// Fails closed: a peer whose SO_PEERCRED cannot be read is refused (never taken for root); each
// connection must send its request line within kControlReadDeadline (else it is closed) and at
// most kMaxControlMessageBytes; beyond kMaxControlConnections open connections a new one gets
// control.busy.
// Does NOT guarantee: protection from a member of the group (they may steer runs by design).
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "kbix/core/result.hpp"
#include "kbix/daemon/control_protocol.hpp"

namespace kbix {

using ControlHandler = std::function<nlohmann::json(const ControlRequest&, const PeerCredentials&)>;
using RefusalReporter = std::function<void(const PeerCredentials&, std::string_view why)>;

inline constexpr std::chrono::seconds kControlReadDeadline{5};
inline constexpr int kMaxControlConnections = 16;

class ControlServer {
 public:
  static Result<std::unique_ptr<ControlServer>> start(boost::asio::io_context& io,
                                                      const std::filesystem::path& socket_path,
                                                      const std::string& control_group,
                                                      ControlHandler handler,
                                                      RefusalReporter on_refused = {},
                                                      std::optional<int> inherited_fd = {});
  ~ControlServer();
  void stop();

  struct State;

 private:
  explicit ControlServer(std::shared_ptr<State> state) : state_(std::move(state)) {}
  std::shared_ptr<State> state_;
};

// Whether `peer` may use the socket (see above). Exposed for tests.
bool peer_is_allowed(const PeerCredentials& peer, const std::string& control_group);

Result<nlohmann::json> send_control_request(const std::filesystem::path& socket_path,
                                            const ControlRequest& request,
                                            std::chrono::seconds timeout);

}  // namespace kbix
