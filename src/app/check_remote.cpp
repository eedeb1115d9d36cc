// `kbix check-remote`: the preflight an operator runs before a run (or after a change at the
// partner): one line per check, exit 0 when all pass, 1 otherwise.
//
//   connect    the pinned host key and our SSH key (no password is ever tried)
//   seal       a test envelope sealed to the partner's encryption certificate (and our own)
//   <dir>      for the outbound and the return directory (an export that delivers by SFTP: the
//              municipality's drop directory, and the probe sealed to AgII's own certificate):
//              it exists (listing), and a probe can be
//              written, renamed and removed. The probe is the sealed test envelope (nothing
//              readable lands on the server, inv. 2) under a name no reader accepts
//              (kbix-check-remote-<random>.probe: readers take only *.p7m).
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <random>

#include "internal/cli_commands.hpp"
#include "kbix/config/config.hpp"
#include "kbix/core/exit_code.hpp"
#include "kbix/envelope/envelope.hpp"
#include "kbix/exchange/exchange_keys.hpp"
#include "kbix/sftp/sftp.hpp"

namespace kbix::cli {

namespace fs = std::filesystem;

namespace {

struct CheckPrinter {
  bool all_ok = true;
  void line(bool ok, const std::string& what, const std::string& detail) {
    all_ok = all_ok && ok;
    std::cout << (ok ? "OK   " : "FAIL ") << what << (detail.empty() ? "" : ": " + detail) << "\n";
  }
  void skip(const std::string& what, const std::string& why) {
    all_ok = false;
    std::cout << "SKIP " << what << ": " << why << "\n";
  }
};

std::string random_hex() {
  std::random_device random;
  const auto value = (static_cast<std::uint64_t>(random()) << 32) | random();
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(value));
  return text;
}

// A private scratch directory for the probe, removed on scope exit.
struct ScratchDir {
  fs::path path;
  ScratchDir() {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern =
        std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/kbix-check-remote-XXXXXX";
    if (::mkdtemp(pattern.data()) != nullptr) path = pattern;
  }
  ~ScratchDir() {
    std::error_code ignored;
    if (!path.empty()) fs::remove_all(path, ignored);
  }
};

void check_directory(SftpClient& client, const std::string& dir, const std::string& role,
                     const std::optional<fs::path>& probe, CheckPrinter& out) {
  const std::string what = role + " directory " + dir;
  auto listing = client.list(dir);
  out.line(bool(listing), what + " exists", listing ? "" : listing.error().describe());
  if (!listing) {
    out.skip(what + " writable", "the directory cannot be listed");
    return;
  }
  if (!probe) {
    out.skip(what + " writable", "no sealed probe to write");
    return;
  }
  const std::string name = "kbix-check-remote-" + random_hex() + ".probe";
  auto written = client.upload(*probe, dir, name);
  if (!written) {
    out.line(false, what + " writable",
             "cannot write and rename a probe: " + written.error().describe());
    return;
  }
  auto removed = client.remove(dir, name);
  out.line(bool(removed), what + " writable",
           removed
               ? "probe " + name + " written, renamed and removed"
               : "probe " + name + " written and renamed but NOT removed (remove it by hand): " +
                     removed.error().describe());
}

}  // namespace

int check_remote(const GlobalOptions& options) {
  auto config = load_config(options.config_file, options.exchange);
  if (!config) {
    std::cerr << "kbix: " << config.error().describe() << "\n";
    return kExitUsage;
  }
  if (config->is_export() && !config->delivers_by_sftp()) {
    std::cerr << "kbix: exchange " << config->exchange.name
              << " has no remote server: its lists wait in the outbox for an operator ([export] "
                 "delivery = \"outbox\")\n";
    return kExitUsage;
  }
  CheckPrinter out;
  const auto& sftp = config->sftp;
  // An SFTP drop to a municipality has one directory, and its probe is sealed to AgII's own
  // certificate (the municipality may have none); a round trip's is sealed to the partner.
  const bool drop = config->delivers_by_sftp();
  std::vector<std::pair<std::string, std::string>> directories = {{"outbound", sftp.outbound_dir}};
  if (drop) {
    directories = {{"drop", sftp.outbound_dir}};
  } else {
    directories.emplace_back("return", sftp.return_dir);
  }

  ScratchDir scratch;
  std::optional<fs::path> probe;
  const std::string seal_what =
      drop ? std::string("seal a test envelope to AgII's own certificate")
           : "seal a test envelope to " + config->partner.name + "'s encryption certificate";
  auto sealer = drop ? Result<SealerConfig>(snapshot_sealer_config(*config))
                     : outbound_sealer_config(*config);
  if (scratch.path.empty()) {
    out.line(false, seal_what, "cannot create a scratch directory");
  } else if (!sealer) {
    out.line(false, seal_what, sealer.error().describe());
  } else {
    const fs::path plain = scratch.path / "probe.txt";
    std::ofstream(plain) << "kbix check-remote probe: no data\n";
    auto made = Sealer::create(*sealer);
    auto sealed = made ? made->seal(plain, scratch.path / "probe.p7m")
                       : Result<SealReport>(fail(made.error()));
    out.line(bool(sealed), seal_what,
             sealed ? std::to_string(sealed->sealed_bytes) + " bytes" +
                          (drop ? "" : ", profile " + config->partner.envelope_profile)
                    : sealed.error().describe());
    if (sealed) probe = scratch.path / "probe.p7m";
  }

  const std::string connect_what =
      "connect to " + sftp.connection.user + "@" + sftp.connection.host + ":" +
      std::to_string(sftp.connection.port) + " (pinned host key, key authentication)";
  auto client = SftpClient::connect(sftp.connection);
  if (!client) {
    out.line(false, connect_what, client.error().describe());
    for (const auto& [role, dir] : directories) {
      out.skip(role + " directory " + dir + " exists", "no connection");
      out.skip(role + " directory " + dir + " writable", "no connection");
    }
    return kExitFailure;
  }
  out.line(true, connect_what, client->host_key_fingerprint());
  for (const auto& [role, dir] : directories) check_directory(*client, dir, role, probe, out);
  return out.all_ok ? kExitOk : kExitFailure;
}

}  // namespace kbix::cli
