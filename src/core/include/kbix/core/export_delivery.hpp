// How a municipal export's list reaches the municipality ([export] delivery in its exchange
// file): "outbox" (the default: an operator delivers it from the exchange's outbox and records
// it with `kbix export delivered`) or "sftp" (kbix drops it on the municipality's SFTP server
// itself, through the same transport as the VDAB round trip).
//
// Only the name and its spelling in the file; who performs which step is the run table's
// (kbix/runs/run_state.hpp), how the drop is made is the engine's (kbix/exchange).
#pragma once

#include <optional>
#include <string_view>

namespace kbix {

enum class ExportDelivery { outbox, sftp };

constexpr std::string_view to_string(ExportDelivery delivery) {
  return delivery == ExportDelivery::sftp ? "sftp" : "outbox";
}

constexpr std::optional<ExportDelivery> parse_export_delivery(std::string_view text) {
  if (text == "outbox") return ExportDelivery::outbox;
  if (text == "sftp") return ExportDelivery::sftp;
  return std::nullopt;
}

}  // namespace kbix
