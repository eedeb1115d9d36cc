// Run ids and the remote file names derived from them (docs/exchange-specification.md).
//
// A run id is "YYYYMMDDTHHMMSSZ-xxxx": the UTC start time and 4 random lowercase hex digits, so
// ids sort by time and two runs started in the same second differ. Return names carry the run id,
// so a return is matched to its run without guessing; anything else is not a return of ours.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace kbix {

std::string make_run_id(std::chrono::system_clock::time_point now);
bool is_valid_run_id(std::string_view text);

// "<protocol-id>_<run-id>.csv.p7m"
std::string outbound_remote_name(std::string_view protocol_id, std::string_view run_id);
// "<protocol-id>_<run-id>-verrijkt.csv.p7m"
std::string return_remote_name(std::string_view protocol_id, std::string_view run_id);
// The run id of a return name of this protocol, or nullopt for any other name.
std::optional<std::string> run_id_from_return_name(std::string_view protocol_id,
                                                   std::string_view remote_name);

}  // namespace kbix
