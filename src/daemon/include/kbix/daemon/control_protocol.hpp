// The operator control protocol over the daemon's Unix socket: one JSON object per line, at most
// 64 KiB, answered by one JSON object per line.
//
// Requests: {"command":"status","exchange":"..."} |
// {"command":"run_start","exchange":"...","force":bool,"reason":"..."} (exchange optional when
// only one is configured) |
// {"command":"run_show","run_id":"..."} | {"command":"run_cancel","run_id":"...","reason":"..."} |
// {"command":"run_retry","run_id":"..."} |
// {"command":"export_password","run_id":"...","channel":"sms","again":bool,"reason":"..."} |
// {"command":"export_delivered","run_id":"...","channel":"sharepoint","reference":"..."};
// run_start of an export on request also carries "request_reference". The answer to
// export_password holds the password: the only message that carries a secret, never logged. Parsing
// is strict (unknown fields, wrong types, a bad run id, a reason over 500 characters or with
// control characters: control.bad_request), since the socket's peers are only as trusted as the
// group that may open it. A reason holding an INSZ-like number is refused
// (run.reason_personal_data) before anything changes: it would be audited and shown in `kbix
// status`. Answers: {"ok":true,...} or {"ok":false,"error":CODE,"message":TEXT}.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "kbix/core/result.hpp"

namespace kbix {

enum class ControlCommand {
  status,
  run_start,
  run_show,
  run_cancel,
  run_retry,
  export_password,
  export_delivered
};

struct ControlRequest {
  ControlCommand command = ControlCommand::status;
  std::string run_id;
  std::string exchange;  // status, run_start: which exchange ("" = all / the only one)
  bool force = false;
  std::string reason;
  std::string request_reference;  // run_start of an export on request
  std::string channel;            // export_password, export_delivered
  bool again = false;             // export_password: a second release
  std::string reference;          // export_delivered
};

inline constexpr std::size_t kMaxControlMessageBytes = 64 * 1024;

Result<ControlRequest> parse_control_request(std::string_view line);
std::string serialize_control_request(const ControlRequest& request);

// Defaults are "unknown" (never uid 0): a peer whose credentials were not read is nobody.
inline constexpr std::uint32_t kUnknownId = 0xFFFFFFFFu;

struct PeerCredentials {
  std::uint32_t uid = kUnknownId;
  std::uint32_t gid = kUnknownId;
  std::int32_t pid = 0;
  std::string user_name;
};

}  // namespace kbix
