#include "internal/cli_reports.hpp"

#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <sstream>

#include "kbix/config/config.hpp"
#include "kbix/core/exit_code.hpp"
#include "kbix/core/file_safety.hpp"
#include "kbix/reports/evidence.hpp"
#include "kbix/runs/run_id.hpp"
#include "kbix/runs/run_store.hpp"

namespace kbix::cli {

namespace fs = std::filesystem;

namespace {

struct ReportOptions {
  std::string run_id;
  bool quality = false;
  bool partner = false;
  bool disclosure = false;
};

struct EvidenceOptions {
  std::string run_id;
  std::string from;
  std::string to;
  std::string output_dir = ".";
};

std::optional<Config> load_quietly(const GlobalOptions& options) {
  auto config = load_config(options.config_file, options.exchange);
  if (!config) {
    std::cerr << "kbix: " << config.error().describe() << "\n";
    return std::nullopt;
  }
  return std::move(*config);
}

std::optional<std::string> read_text(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

int run_report(const GlobalOptions& options, const ReportOptions& report) {
  auto config = load_quietly(options);
  if (!config) return kExitUsage;
  if (!is_valid_run_id(report.run_id)) {
    std::cerr << "kbix: '" << report.run_id << "' is not a run id\n";
    return kExitUsage;
  }
  const fs::path dir = config->daemon.state_dir / "runs" / report.run_id;
  std::string name = report.disclosure ? "disclosure"
                     : report.partner  ? "quality-partner"
                                       : "quality";
  name += options.json ? ".json" : ".txt";
  const auto text = read_text(dir / name);
  if (!text) {
    std::cerr << "kbix: run " << report.run_id << " has no " << name
              << " (the report is written when the return is merged; a purged run has none)\n";
    return kExitFailure;
  }
  std::cout << *text;
  return kExitOk;
}

std::optional<std::chrono::sys_days> parse_day(const std::string& text) {
  std::istringstream in(text);
  int year = 0;
  unsigned month = 0;
  unsigned day = 0;
  char dash1 = 0;
  char dash2 = 0;
  if (text.size() != 10 || !(in >> year >> dash1 >> month >> dash2 >> day) || dash1 != '-' ||
      dash2 != '-') {
    return std::nullopt;
  }
  const std::chrono::year_month_day ymd{std::chrono::year{year}, std::chrono::month{month},
                                        std::chrono::day{day}};
  if (!ymd.ok()) return std::nullopt;
  return std::chrono::sys_days{ymd};
}

EvidenceSources sources_of(const Config& config) {
  EvidenceSources sources;
  sources.audit_dir = config.daemon.state_dir / "audit";
  sources.checkpoint_certificate = config.keys.signing_certificate;
  sources.runs_dir = config.daemon.state_dir / "runs";
  sources.output_dir = config.daemon.output_dir;
  sources.known_hosts_file = config.sftp.connection.known_hosts_file;
  sources.protocol_id = config.protocol.id;
  sources.envelope_profile = config.partner.envelope_profile;
  sources.certificates = {{"partner encryption", config.partner.encryption_certificate},
                          {"partner signing", config.partner.signing_certificate},
                          {"AgII signing (files, checkpoints)", config.keys.signing_certificate},
                          {"AgII decryption", config.keys.decryption_certificate}};
  return sources;
}

int evidence(const GlobalOptions& options, const EvidenceOptions& request) {
  auto config = load_quietly(options);
  if (!config) return kExitUsage;
  EvidenceScope scope;
  std::string stem;
  if (!request.run_id.empty()) {
    if (!is_valid_run_id(request.run_id)) {
      std::cerr << "kbix: '" << request.run_id << "' is not a run id\n";
      return kExitUsage;
    }
    scope.run_id = request.run_id;
    stem = "evidence_" + request.run_id;
  } else {
    scope.from = parse_day(request.from);
    scope.to = parse_day(request.to);
    if (!scope.from || !scope.to) {
      std::cerr << "kbix: give RUN_ID, or --from and --to as YYYY-MM-DD\n";
      return kExitUsage;
    }
    stem = "evidence_" + request.from + "_" + request.to;
  }
  EvidenceSources sources = sources_of(*config);
  const fs::path database = config->daemon.state_dir / "runs.sqlite3";
  if (::access(database.c_str(), R_OK) == 0) {
    auto store = RunStore::open(database);
    if (!store) {
      std::cerr << "kbix: " << store.error().describe() << "\n";
      return kExitFailure;
    }
    auto runs = store->list(config->exchange.name);
    if (!runs) {
      std::cerr << "kbix: " << runs.error().describe() << "\n";
      return kExitFailure;
    }
    sources.runs = std::move(*runs);
  }
  auto report = build_evidence(sources, scope);
  if (!report) {
    std::cerr << "kbix: " << report.error().describe() << "\n";
    return report.error().code == "evidence.unknown_run" ? kExitFailure : kExitUsage;
  }
  const fs::path html = fs::path(request.output_dir) / (config->protocol.id + "_" + stem + ".html");
  const fs::path json = fs::path(request.output_dir) / (config->protocol.id + "_" + stem + ".json");
  for (const auto& [file, content] : {std::pair{html, evidence_html(*report)},
                                      std::pair{json, evidence_json(*report).dump(2) + "\n"}}) {
    if (auto written = write_file_atomically(file, content, 0640); !written) {
      std::cerr << "kbix: " << written.error().describe() << "\n";
      return kExitFailure;
    }
  }
  std::cout << "evidence written: " << html.string() << " and " << json.string() << "\n"
            << "audit chain: "
            << (report->chain.ok ? "intact" : "BROKEN (" + report->chain.first_problem + ")")
            << "; " << report->runs.size() << " run(s)\n";
  return report->chain.ok ? kExitOk : kExitFailure;
}

}  // namespace

void add_report_commands(CLI::App& app, CLI::App& run, GlobalOptions& options, int& exit_code) {
  static ReportOptions report_options;
  auto* report = run.add_subcommand(
      "report", "print a run's privacy reports (counts only): data quality or disclosure risk");
  report->add_option("RUN_ID", report_options.run_id, "run id")->required();
  auto* quality = report->add_flag("--quality", report_options.quality,
                                   "the article 7 data-quality report for AgII's data team");
  report->add_flag("--partner", report_options.partner,
                   "the article 7 summary for the partner (no values, no line numbers)");
  report
      ->add_flag("--disclosure", report_options.disclosure,
                 "the disclosure-risk report of the pseudonymised output")
      ->excludes(quality);
  report->add_flag("--json", options.json, "print JSON instead of text");
  report->callback([&] { exit_code = run_report(options, report_options); });

  static EvidenceOptions evidence_options;
  auto* evidence_command = app.add_subcommand(
      "evidence",
      "write the DPO's evidence report (HTML and JSON) for one run or a period, from the audit "
      "log and the run record; exit 1 when the audit chain is broken");
  evidence_command->add_option("RUN_ID", evidence_options.run_id, "run id");
  evidence_command->add_option("--from", evidence_options.from, "first day, YYYY-MM-DD (UTC)");
  evidence_command->add_option("--to", evidence_options.to, "last day, YYYY-MM-DD (UTC)");
  evidence_command
      ->add_option("--output-dir", evidence_options.output_dir, "where to write the two files")
      ->capture_default_str();
  evidence_command->callback([&] { exit_code = evidence(options, evidence_options); });
}

}  // namespace kbix::cli
