#include "kbix/daemon/systemd_notify.hpp"

#include <sys/socket.h>
#include <systemd/sd-daemon.h>

#include <string>

namespace kbix {

void notify_ready() {
  sd_notify(0, "READY=1\nSTATUS=ready");
}
void notify_status(std::string_view status) {
  sd_notify(0, ("STATUS=" + std::string(status)).c_str());
}
void notify_reloading() {
  sd_notify(0, "RELOADING=1");
}
void notify_stopping() {
  sd_notify(0, "STOPPING=1");
}
void notify_watchdog() {
  sd_notify(0, "WATCHDOG=1");
}

Result<std::optional<int>> inherited_listening_socket(const std::filesystem::path& expected_path) {
  const int count = sd_listen_fds(1);  // 1: unset LISTEN_FDS, so children do not inherit them
  if (count < 0) return fail("config.socket", "sd_listen_fds failed");
  if (count == 0) return std::optional<int>();
  if (count > 1) {
    return fail("config.socket", "systemd passed " + std::to_string(count) +
                                     " sockets; kbix.socket must listen on exactly one");
  }
  const int fd = SD_LISTEN_FDS_START;
  const std::string path = expected_path.string();
  if (sd_is_socket_unix(fd, SOCK_STREAM, 1, path.c_str(), 0) <= 0) {
    return fail("config.socket", "the socket systemd passed is not a listening Unix socket at " +
                                     path + " ([daemon] control_socket and kbix.socket differ)");
  }
  return std::optional<int>(fd);
}

std::optional<std::chrono::microseconds> watchdog_interval() {
  std::uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return std::nullopt;
  return std::chrono::microseconds(usec);
}

}  // namespace kbix
