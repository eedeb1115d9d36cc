// Fuzzes the control-socket request parser: a parsed request serialises and parses back equal.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "kbix/daemon/control_protocol.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto request =
      kbix::parse_control_request(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!request) {
    if (request.error().code != "control.bad_request") std::abort();
    return 0;
  }
  auto again = kbix::parse_control_request(kbix::serialize_control_request(*request));
  if (!again || again->command != request->command || again->run_id != request->run_id ||
      again->force != request->force || again->reason != request->reason) {
    std::abort();
  }
  return 0;
}
