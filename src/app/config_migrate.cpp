// `kbix config migrate`: the exchange of a single-exchange kbix.toml moves into exchanges.d.
//
// The move is textual, so comments and layout stay: the [schedule], [partner] and [sftp]
// sections (with the comment lines just above them) go verbatim into exchanges.d/<name>.toml,
// [protocol] file = X becomes [exchange] protocol = X, and kbix.toml keeps everything else. The
// result is loaded before anything is replaced; the old file stays as kbix.toml.pre-migrate.
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "internal/cli_commands.hpp"
#include "kbix/config/config.hpp"
#include "kbix/core/exit_code.hpp"
#include "kbix/core/file_safety.hpp"

namespace kbix::cli {

namespace {

namespace fs = std::filesystem;

struct Section {
  std::string name;  // "" for the lines before the first header
  std::vector<std::string> lines;
};

std::string trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t\r");
  return std::string(text.substr(first, last - first + 1));
}

// "[sftp]" -> "sftp"; "" for a line that is no table header.
std::string header_name(const std::string& line) {
  const std::string text = trim(line);
  if (text.size() < 3 || text.front() != '[' || text[1] == '[') return {};
  const auto close = text.find(']');
  if (close == std::string::npos) return {};
  return trim(std::string_view(text).substr(1, close - 1));
}

// Splits at table headers; the comment and blank lines just above a header go with it.
std::vector<Section> split_sections(std::istream& in) {
  std::vector<Section> sections{{}};
  std::string line;
  while (std::getline(in, line)) {
    const std::string name = header_name(line);
    if (name.empty()) {
      sections.back().lines.push_back(line);
      continue;
    }
    Section next{name, {}};
    auto& previous = sections.back().lines;
    while (!previous.empty()) {
      const std::string text = trim(previous.back());
      if (!text.empty() && text.front() != '#') break;
      next.lines.insert(next.lines.begin(), previous.back());
      previous.pop_back();
    }
    next.lines.push_back(line);
    sections.push_back(std::move(next));
  }
  return sections;
}

bool belongs_to_exchange(const std::string& section) {
  const std::string top = section.substr(0, section.find('.'));
  return top == "protocol" || top == "schedule" || top == "partner" || top == "sftp";
}

// [protocol] file = "X"  ->  [exchange] name, source, protocol = "X".
void write_exchange_table(std::ostream& out, const Section& protocol, const std::string& name) {
  for (const auto& line : protocol.lines) {
    const std::string text = trim(line);
    if (header_name(line) == "protocol") {
      out << "[exchange]\n"
          << "name = \"" << name << "\"\n"
          << "source = \"kbi-" << name << "\"  # the extract goes to <inbox_dir>/kbi-" << name
          << "/\n";
    } else if (text.starts_with("file") && text.find('=') != std::string::npos &&
               trim(std::string_view(text).substr(0, text.find('='))) == "file") {
      out << "protocol " << text.substr(text.find('=')) << "\n";  // the value and its comment
    } else {
      out << line << "\n";
    }
  }
}

}  // namespace

int config_migrate(const GlobalOptions& options, bool dry_run) {
  const fs::path file = options.config_file;
  auto site = load_site_config(file);
  if (!site) {
    std::cerr << "kbix: " << site.error().describe() << "\n";
    return kExitConfig;
  }
  if (!site->single_exchange_form) {
    std::cout << "nothing to migrate: " << file.string() << " holds no exchange of its own ("
              << site->exchanges.size() << " exchange file(s) in "
              << site->base.daemon.exchanges_dir.string() << ")\n";
    return kExitOk;
  }
  const std::string name = site->exchanges.front().exchange.name;
  const fs::path exchanges_dir = site->base.daemon.exchanges_dir;
  const fs::path exchange_file = exchanges_dir / (name + ".toml");

  std::ifstream in(file, std::ios::binary);
  auto sections = split_sections(in);
  std::ostringstream daemon_text;
  std::ostringstream exchange_text;
  exchange_text << "# Exchange " << name << ", moved out of " << file.filename().string()
                << " by `kbix config migrate`.\n"
                << "# Relative paths are resolved against the directory of kbix.toml.\n\n";
  for (const auto& section : sections) {
    if (section.name == "protocol") write_exchange_table(exchange_text, section, name);
  }
  for (const auto& section : sections) {
    if (section.name == "protocol") continue;
    std::ostream& out = belongs_to_exchange(section.name) ? exchange_text : daemon_text;
    for (const auto& line : section.lines) out << line << "\n";
  }
  if (dry_run) {
    std::cout << "# --- " << file.string() << "\n"
              << daemon_text.str() << "# --- " << exchange_file.string() << "\n"
              << exchange_text.str();
    return kExitOk;
  }
  std::error_code error;
  if (fs::exists(exchange_file, error)) {
    std::cerr << "kbix: " << exchange_file.string() << " exists already; nothing changed\n";
    return kExitFailure;
  }
  fs::create_directories(exchanges_dir, error);
  const fs::path backup = file.string() + ".pre-migrate";
  fs::copy_file(file, backup, fs::copy_options::overwrite_existing, error);
  if (error) {
    std::cerr << "kbix: cannot keep a copy as " << backup.string() << ": " << error.message()
              << "; nothing changed\n";
    return kExitFailure;
  }
  const auto mode = fs::status(file, error).permissions();
  // The exchange file gets kbix.toml's mode: the daemon's user must read both (0644 installed).
  auto written =
      write_file_atomically(exchange_file, exchange_text.str(),
                            error ? 0640 : static_cast<::mode_t>(mode & fs::perms::mask));
  if (written) written = write_file_atomically(file, daemon_text.str(), 0640);
  fs::permissions(file, mode, error);
  auto check = written ? load_site_config(file) : Result<SiteConfig>(fail(written.error()));
  if (!check || check->exchanges.size() != 1 || !check->refused.empty()) {
    const std::string why = !check                    ? check.error().describe()
                            : !check->refused.empty() ? check->refused.front().error.describe()
                                                      : std::string("the exchange did not load");
    fs::copy_file(backup, file, fs::copy_options::overwrite_existing, error);
    fs::remove(exchange_file, error);
    std::cerr << "kbix: the migrated configuration does not load (" << why << "); " << file.string()
              << " is restored, nothing changed\n";
    return kExitFailure;
  }
  const Config& migrated = check->exchanges.front();
  std::cout << "migrated exchange " << name << " into " << exchange_file.string() << "\n"
            << "  " << file.string()
            << " keeps the daemon-wide settings (old file: " << backup.string() << ")\n"
            << "  the KBI extract now goes to " << migrated.inbox().string() << "/\n"
            << "  returns that match no run are now kept in " << migrated.quarantine_dir().string()
            << "/\n"
            << "  existing runs join the exchange at the next start (by their protocol id)\n"
            << "  reload the daemon: systemctl reload kbix\n";
  return kExitOk;
}

}  // namespace kbix::cli
