// kbix-partner-sim: plays VDAB over SFTP (see partner_sim.hpp and docs/partner-simulator.md).
#include <CLI/CLI.hpp>
#include <atomic>
#include <csignal>
#include <iostream>
#include <thread>

#include "kbix/core/logging.hpp"
#include "partner_sim/partner_sim.hpp"

namespace {
std::atomic<bool> stop_requested{false};
extern "C" void on_stop(int) {
  stop_requested = true;
}
}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  CLI::App app{
      "kbix-partner-sim - plays VDAB for demos and tests: picks up AgII's outbound file over\n"
      "SFTP, opens it with VDAB's key (AgII's signature pinned), enriches each INSZ with\n"
      "deterministic synthetic VDAB values, seals the return to AgII and uploads it.\n"
      "Never for real data.",
      "kbix-partner-sim"};
  kbix::sim::SimulatorOptions options;
  std::string host = "127.0.0.1", corrupt = "none";
  int port = 22, poll_ms = 1000;
  long long min_age_ms = 0;
  bool once = false;
  std::string identity, known_hosts;
  app.add_option("--host", host, "SFTP server")->capture_default_str();
  app.add_option("--port", port, "SFTP port")->capture_default_str();
  app.add_option("--user", options.sftp.user, "SFTP user")->required();
  app.add_option("--identity", identity, "SSH private key (0600)")->required();
  app.add_option("--known-hosts", known_hosts, "pinned host key (known_hosts format)")->required();
  app.add_option("--inbox", options.inbox_dir, "remote dir with AgII's files")
      ->capture_default_str();
  app.add_option("--outbox", options.outbox_dir, "remote dir for returns")->capture_default_str();
  app.add_option("--vdab-decryption-certificate", options.vdab_decryption_certificate)->required();
  app.add_option("--vdab-decryption-key", options.vdab_decryption_key)->required();
  app.add_option("--vdab-signing-certificate", options.vdab_signing_certificate)->required();
  app.add_option("--vdab-signing-key", options.vdab_signing_key)->required();
  app.add_option("--agii-signing-certificate", options.agii_signing_certificate,
                 "the only signer accepted on outbound files")
      ->required();
  app.add_option("--agii-encryption-certificate", options.agii_encryption_certificate,
                 "returns are encrypted to this")
      ->required();
  app.add_option("--protocol", options.protocol_file, "protocol file (return columns)")->required();
  app.add_option("--work-dir", options.work_dir, "local scratch directory")->required();
  app.add_option("--profile", options.envelope_profile, "gcm or cbc")->capture_default_str();
  app.add_option("--seed", options.seed, "seed of VDAB's answers")->capture_default_str();
  app.add_option("--unknown-rate", options.unknown_rate, "share of people VDAB does not know")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  app.add_option("--empty-rate", options.empty_rate, "share of empty VDAB values")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  app.add_option("--min-age-ms", min_age_ms, "ignore files younger than this")
      ->capture_default_str();
  app.add_option("--poll-ms", poll_ms, "pause between passes")->capture_default_str();
  app.add_flag("--once", once, "one pass, then exit");
  app.add_option("--corrupt", corrupt,
                 "TEST ONLY: make a bad return: extra-column, missing-column, unsent-insz, "
                 "duplicate-insz, flip-byte, wrong-signer, other-profile, replay, oversized")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  auto mode = kbix::sim::parse_corrupt_mode(corrupt);
  if (!mode) {
    std::cerr << "kbix-partner-sim: " << mode.error().describe() << "\n";
    return 2;
  }
  options.corrupt = *mode;
  options.sftp.host = host;
  options.sftp.port = static_cast<std::uint16_t>(port);
  options.sftp.identity_file = identity;
  options.sftp.known_hosts_file = known_hosts;
  options.sftp.connect_timeout = std::chrono::seconds(10);
  options.sftp.operation_deadline = std::chrono::seconds(300);
  options.min_file_age = std::chrono::milliseconds(min_age_ms);

  (void)kbix::setup_logging("warn");  // stderr; the simulator reports its own lines below
  std::signal(SIGTERM, on_stop);
  std::signal(SIGINT, on_stop);
  int exit_code = 0;
  while (!stop_requested) {
    auto report = kbix::sim::process_pending(options);
    if (!report) {
      std::cerr << "kbix-partner-sim: " << report.error().describe() << "\n";
      exit_code = 1;
    } else {
      exit_code = 0;
      for (const auto& name : report->returns_uploaded) {
        std::cerr << "kbix-partner-sim: returned " << name << " (" << report->people_returned
                  << " of " << report->people_received << " people known)\n";
      }
    }
    if (once) break;
    for (int waited = 0; waited < poll_ms && !stop_requested; waited += 50) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  return exit_code;
}
