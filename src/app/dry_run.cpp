// `kbix run start --dry-run`: validates the KBI extract waiting in the inbox as a run would
// (schema, INSZ check, duplicates: the export rules) and prints the counts. It changes nothing:
// no run, no audit entry, no file written, nothing sent; the extract stays in the inbox.
#include <fstream>
#include <iostream>
#include <ostream>
#include <streambuf>

#include "internal/cli_commands.hpp"
#include "kbix/config/config.hpp"
#include "kbix/core/exit_code.hpp"
#include "kbix/domain/extract_export.hpp"
#include "kbix/exchange/exchange.hpp"

namespace kbix::cli {

namespace {

// Swallows the outbound column: a dry run writes nothing anywhere.
class NullBuffer final : public std::streambuf {
 protected:
  int overflow(int c) override { return traits_type::not_eof(c); }
  std::streamsize xsputn(const char*, std::streamsize n) override { return n; }
};

}  // namespace

int run_start_dry(const GlobalOptions& options) {
  auto config = load_config(options.config_file, options.exchange);
  if (!config) {
    std::cerr << "kbix: " << config.error().describe() << "\n";
    return kExitUsage;
  }
  auto extract = find_extract(config->inbox());
  if (!extract) {
    std::cerr << "kbix: " << extract.error().describe() << "\n";
    return kExitFailure;
  }
  std::ifstream in(*extract, std::ios::binary);
  if (!in) {
    std::cerr << "kbix: cannot read " << extract->string() << "\n";
    return kExitFailure;
  }
  NullBuffer discard;
  std::ostream nowhere(&discard);
  auto report = export_outbound(in, extract->filename().string(), config->protocol, nowhere);
  if (!report) {
    std::cout << "dry run: " << extract->filename().string()
              << " would be refused: " << report.error().describe() << "\n";
    return kExitFailure;
  }
  std::cout << "dry run (nothing changed): " << extract->filename().string() << "\n"
            << "  rows " << report->rows << ", valid " << report->exported << ", invalid "
            << report->invalid_insz << ", duplicate " << report->duplicate_insz << " (BIS "
            << report->bis_insz << ", calendar warnings " << report->calendar_warnings << ")\n";
  auto lines = [](const std::vector<std::uint64_t>& numbers) {
    std::string text;
    for (std::size_t i = 0; i < numbers.size() && i < 20; ++i) {
      text += (i ? ", " : "") + std::to_string(numbers[i]);
    }
    return text + (numbers.size() > 20 ? ", ..." : "");
  };
  if (!report->invalid_lines.empty())
    std::cout << "  invalid on lines " << lines(report->invalid_lines) << "\n";
  if (!report->duplicate_lines.empty()) {
    std::cout << "  duplicate on lines " << lines(report->duplicate_lines) << "\n";
  }
  return kExitOk;
}

}  // namespace kbix::cli
