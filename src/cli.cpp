#include "kbix/cli.hpp"

#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>

#include "kbix/config.hpp"
#include "kbix/logging.hpp"
#include "kbix_version.hpp"

namespace kbix {
namespace {

constexpr const char* kFooter =
    R"(Exit codes: 0 success, 1 runtime failure, 2 bad usage or configuration.
The configuration file defaults to $KBIX_CONFIG, else /etc/kbix/kbix.toml.
Documentation: docs/operator-guide.md; partners: docs/exchange-specification.md.)";

std::string default_config_path() {
  const char* from_env = std::getenv("KBIX_CONFIG");
  return from_env != nullptr && *from_env != '\0' ? from_env : "/etc/kbix/kbix.toml";
}

struct GlobalOptions {
  std::string config_file = default_config_path();
  std::string log_level;
};

int check_config(const GlobalOptions& options) {
  auto config = load_config(options.config_file);
  if (!config) {
    std::cerr << "kbix: " << config.error().describe() << "\n";
    return kExitUsage;
  }
  const Protocol& protocol = config->protocol;
  std::cout << "configuration OK: " << config->file.string() << "\n"
            << "  protocol " << protocol.id << " (" << protocol.partner << "), valid "
            << format_date(protocol.valid_from) << " until " << format_date(protocol.valid_until)
            << ", every " << protocol.cadence_months << " months, retention "
            << protocol.retention_years << " years, pseudonym " << to_string(protocol.pseudonym)
            << "\n";
  for (const auto& warning : config_warnings(*config)) {
    std::cout << "  warning: " << warning << "\n";
  }
  return kExitOk;
}

}  // namespace

int run_cli(int argc, char** argv) {
  CLI::App app{
      "kbix " KBIX_VERSION
      " - secure file exchange for AgII's data-sharing protocols.\n"
      "Sends VDAB an encrypted file of national register numbers, takes back the enriched\n"
      "return, merges and pseudonymises it for the monitoring team, and audits every step.",
      "kbix"};
  app.footer(kFooter);
  app.set_version_flag("--version", "kbix " KBIX_VERSION);
  app.require_subcommand(1);
  app.fallthrough();  // global options may also follow the subcommand

  GlobalOptions options;
  app.add_option("-c,--config", options.config_file, "configuration file (TOML)")
      ->capture_default_str();
  app.add_option("--log-level", options.log_level,
                 "trace, debug, info, warn, error, critical, off (overrides the configuration)");

  auto* check = app.add_subcommand(
      "check-config", "check the configuration file and the protocol it names, then exit");

  int exit_code = kExitOk;
  check->callback([&] { exit_code = check_config(options); });

  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& success) {
    return app.exit(success);  // --help, --version
  } catch (const CLI::ParseError& error) {
    app.exit(error);
    return kExitUsage;
  }
  return exit_code;
}

}  // namespace kbix
