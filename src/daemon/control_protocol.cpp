#include "kbix/daemon/control_protocol.hpp"

#include <nlohmann/json.hpp>
#include <set>

#include "kbix/config/config.hpp"
#include "kbix/core/untrusted_text.hpp"
#include "kbix/domain/output_scan.hpp"
#include "kbix/runs/run_id.hpp"

namespace kbix {

namespace {

constexpr std::string_view kCommands[] = {"status",          "run_start", "run_show",
                                          "run_cancel",      "run_retry", "export_password",
                                          "export_delivered"};

Unexpected<Error> bad(const std::string& why) {
  return fail("control.bad_request", "bad control request: " + why);
}

bool has_control_characters(std::string_view text) {
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7F) return true;
  }
  return false;
}

// An optional one-line text field of at most `limit` characters without personal data.
Status read_text_field(const nlohmann::json& json, const char* key, std::size_t limit,
                       std::string& out) {
  if (!json.contains(key)) return ok();
  if (!json[key].is_string()) return bad(std::string(key) + " must be a string");
  out = json[key];
  if (out.size() > limit) {
    return bad(std::string(key) + " longer than " + std::to_string(limit) + " characters");
  }
  if (has_control_characters(out)) return bad(std::string(key) + " holds control characters");
  if (contains_insz_like_number(out)) {  // operator text is audited and shown
    return fail("run.reason_personal_data",
                std::string(key) +
                    " looks like it holds a national register number (INSZ); leave personal "
                    "data out (a ticket number is fine)");
  }
  return ok();
}

}  // namespace

Result<ControlRequest> parse_control_request(std::string_view line) {
  if (line.size() > kMaxControlMessageBytes) return bad("larger than 64 KiB");
  const auto json = nlohmann::json::parse(line, nullptr, false);
  if (json.is_discarded() || !json.is_object()) return bad("not a JSON object");
  static const std::set<std::string> kFields = {"command", "run_id",    "force",
                                                "reason",  "exchange",  "channel",
                                                "again",   "reference", "request_reference"};
  for (const auto& [key, value] : json.items()) {
    if (!kFields.contains(key)) return bad("unknown field '" + key.substr(0, 40) + "'");
  }
  if (!json.contains("command") || !json["command"].is_string()) return bad("no command");
  const std::string command = json["command"];
  ControlRequest request;
  std::size_t index = 0;
  for (; index < std::size(kCommands); ++index) {
    if (kCommands[index] == command) break;
  }
  if (index == std::size(kCommands)) return bad("unknown command");
  request.command = static_cast<ControlCommand>(index);
  if (json.contains("run_id")) {
    if (!json["run_id"].is_string() || !is_valid_run_id(json["run_id"].get<std::string>())) {
      return bad("run_id is not a run id like 20261122T135500Z-3f9a");
    }
    request.run_id = json["run_id"];
  }
  if (json.contains("exchange")) {
    if (!json["exchange"].is_string() || !is_exchange_name(json["exchange"].get<std::string>())) {
      return bad("exchange is not an exchange name (lower-case letters, digits and '-')");
    }
    request.exchange = json["exchange"];
  }
  if (json.contains("force")) {
    if (!json["force"].is_boolean()) return bad("force must be true or false");
    request.force = json["force"];
  }
  if (json.contains("reason")) {
    if (!json["reason"].is_string()) return bad("reason must be a string");
    request.reason = json["reason"];
    if (request.reason.size() > 500) return bad("reason longer than 500 characters");
    if (has_control_characters(request.reason)) return bad("reason holds control characters");
    if (contains_insz_like_number(request.reason)) {  // operator text is audited and shown
      return fail("run.reason_personal_data",
                  "the reason looks like it holds a national register number (INSZ); describe "
                  "the reason without personal data (a ticket number is fine)");
    }
  }
  KBIX_TRY(read_text_field(json, "request_reference", 100, request.request_reference));
  KBIX_TRY(read_text_field(json, "channel", 20, request.channel));
  KBIX_TRY(read_text_field(json, "reference", 200, request.reference));
  if (json.contains("again")) {
    if (!json["again"].is_boolean()) return bad("again must be true or false");
    request.again = json["again"];
  }
  const bool is_export_command = request.command == ControlCommand::export_password ||
                                 request.command == ControlCommand::export_delivered;
  if (is_export_command && request.channel.empty()) return bad(command + " needs a channel");
  if (!is_export_command && (!request.channel.empty() || request.again)) {
    return bad(command + " takes no channel");
  }
  if (request.command != ControlCommand::export_delivered && !request.reference.empty()) {
    return bad(command + " takes no reference");
  }
  if (request.command != ControlCommand::run_start && !request.request_reference.empty()) {
    return bad(command + " takes no request_reference");
  }
  const bool needs_id = request.command == ControlCommand::run_show ||
                        request.command == ControlCommand::run_cancel ||
                        request.command == ControlCommand::run_retry || is_export_command;
  if (needs_id && request.run_id.empty()) return bad(command + " needs run_id");
  if (!needs_id && !request.run_id.empty()) return bad(command + " takes no run_id");
  if (request.command == ControlCommand::run_cancel && request.reason.empty()) {
    return bad("run_cancel needs a reason");
  }
  const bool takes_exchange =
      request.command == ControlCommand::status || request.command == ControlCommand::run_start;
  if (!takes_exchange && !request.exchange.empty()) return bad(command + " takes no exchange");
  if (request.force && request.command != ControlCommand::run_start) {
    return bad("only run_start can be forced");
  }
  return request;
}

std::string serialize_control_request(const ControlRequest& request) {
  nlohmann::json json = {{"command", kCommands[static_cast<std::size_t>(request.command)]}};
  if (!request.run_id.empty()) json["run_id"] = request.run_id;
  if (!request.exchange.empty()) json["exchange"] = request.exchange;
  if (request.force) json["force"] = true;
  if (!request.reason.empty()) json["reason"] = request.reason;
  if (!request.request_reference.empty()) json["request_reference"] = request.request_reference;
  if (!request.channel.empty()) json["channel"] = request.channel;
  if (request.again) json["again"] = true;
  if (!request.reference.empty()) json["reference"] = request.reference;
  return dump_json(json);
}

}  // namespace kbix
