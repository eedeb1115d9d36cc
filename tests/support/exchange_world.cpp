#include "support/exchange_world.hpp"

#include <sys/wait.h>

#include <array>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "kbix/domain/insz.hpp"
#include "kbix/sftp/sftp.hpp"

namespace kbix::test {

namespace fs = std::filesystem;

CommandOutcome run_shell(const std::string& command) {
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) throw std::runtime_error("popen failed: " + command);
  CommandOutcome outcome;
  std::array<char, 4096> buffer{};
  while (std::size_t n = std::fread(buffer.data(), 1, buffer.size(), pipe)) {
    outcome.output.append(buffer.data(), n);
  }
  const int status = ::pclose(pipe);
  if (WIFEXITED(status)) {
    outcome.exit_code = WEXITSTATUS(status);
    // sh reports a child killed by signal N as exit status 128 + N
    if (outcome.exit_code > 128) outcome.signal = outcome.exit_code - 128;
  } else if (WIFSIGNALED(status)) {
    outcome.signal = WTERMSIG(status);
  }
  return outcome;
}

ExchangeWorld::ExchangeWorld(std::string_view name, fs::path protocol_file)
    : dir_(make_temp_dir(std::string("kbix-") + std::string(name))),
      keys_(KBIX_ENVELOPE_TEST_KEYS),
      protocol_file_(protocol_file.empty() ? fs::path(KBIX_SOURCE_DIR) /
                                                 "config/protocols/vdab-derde-pijler-2023.toml"
                                           : std::move(protocol_file)) {
  for (const auto& sub : {"state", "output", "inbox", "sim"}) fs::create_directories(dir_ / sub);
  write_config();
}

ExchangeWorld::~ExchangeWorld() {
  std::error_code ignored;
  if (std::getenv("KBIX_KEEP_TEST_DIRS") == nullptr) fs::remove_all(dir_, ignored);
}

void ExchangeWorld::write_config(const std::string& envelope_profile,
                                 const std::string& extra_keys) {
  std::ofstream out(config_file());
  out << "[daemon]\n"
      << "state_dir = \"" << state_dir().string() << "\"\n"
      << "output_dir = \"" << output_dir().string() << "\"\n"
      << "inbox_dir = \"" << inbox_dir().string() << "\"\n"
      << "control_socket = \"" << socket().string() << "\"\n"
      << "control_group = \"\"\n"
      << "log_level = \"info\"\n\n"
      << "[protocol]\nfile = \"" << protocol_file_.string() << "\"\n\n"
      << "[schedule]\nrun_dates = [\"03-15\", \"09-15\"]\nreturn_deadline_days = 30\n\n"
      << "[keys]\n"
      << "signing_certificate = \"" << (keys_ / "agii-sign-rsa.crt").string() << "\"\n"
      << "signing_key = \"" << (keys_ / "agii-sign-rsa.key").string() << "\"\n"
      << "decryption_certificate = \"" << (keys_ / "agii-enc-rsa.crt").string() << "\"\n"
      << "decryption_key = \"" << (keys_ / "agii-enc-rsa.key").string() << "\"\n"
      << "expiry_warning_days = 30\n"
      << extra_keys << "\n"
      << "[partner]\nname = \"VDAB\"\n"
      << "encryption_certificate = \"" << (keys_ / "vdab-enc-rsa.crt").string() << "\"\n"
      << "signing_certificate = \"" << (keys_ / "vdab-sign-rsa.crt").string() << "\"\n"
      << "envelope_profile = \"" << envelope_profile << "\"\n\n"
      << "[sftp]\nhost = \"127.0.0.1\"\nport = " << sshd_.port() << "\n"
      << "user = \"" << sshd_.user() << "\"\n"
      << "identity_file = \"" << sshd_.client_key().string() << "\"\n"
      << "known_hosts_file = \"" << sshd_.known_hosts().string() << "\"\n"
      << "outbound_dir = \"naar-vdab\"\nreturn_dir = \"van-vdab\"\n"
      << "connect_timeout_seconds = 10\noperation_deadline_seconds = 60\n"
      << "keepalive_seconds = 30\npoll_interval_seconds = 1\nmin_file_age_seconds = 1\n\n"
      << "[audit]\ncheckpoint_every = 20\n";
}

fs::path ExchangeWorld::generate_extract(std::uint64_t people, std::uint64_t seed,
                                         const std::string& extra_arguments) {
  const fs::path extract = inbox_dir() / "kbi-extract.csv";
  const auto made =
      run_shell(std::string(KBIX_GEN_EXE) + " --people " + std::to_string(people) + " --seed " +
                std::to_string(seed) + " --extract " + extract.string() + " " + extra_arguments);
  if (made.exit_code != 0) throw std::runtime_error("kbix-gen failed: " + made.output);
  return extract;
}

CommandOutcome ExchangeWorld::kbix(const std::string& arguments,
                                   const std::string& environment) const {
  return run_shell(environment + " " + KBIX_EXE + " --config " + config_file().string() + " " +
                   arguments);
}

sim::SimulatorOptions ExchangeWorld::simulator_options() const {
  sim::SimulatorOptions options;
  options.sftp = sshd_.client_settings();
  options.inbox_dir = "naar-vdab";
  options.outbox_dir = "van-vdab";
  options.vdab_decryption_certificate = keys_ / "vdab-enc-rsa.crt";
  options.vdab_decryption_key = keys_ / "vdab-enc-rsa.key";
  options.vdab_signing_certificate = keys_ / "vdab-sign-rsa.crt";
  options.vdab_signing_key = keys_ / "vdab-sign-rsa.key";
  options.agii_signing_certificate = keys_ / "agii-sign-rsa.crt";
  options.agii_encryption_certificate = keys_ / "agii-enc-rsa.crt";
  options.protocol_file = protocol_file_;
  options.work_dir = dir_ / "sim";
  options.seed = 11;
  return options;
}

sim::SimulatorReport ExchangeWorld::simulate_partner() const {
  auto report = sim::process_pending(simulator_options());
  if (!report) throw std::runtime_error("simulator: " + report.error().describe());
  return *report;
}

std::vector<fs::path> ExchangeWorld::files_under(const fs::path& dir) {
  std::vector<fs::path> files;
  std::error_code error;
  for (const auto& entry : fs::recursive_directory_iterator(dir, error)) {
    if (entry.is_regular_file()) files.push_back(entry.path());
  }
  return files;
}

std::uint64_t ExchangeWorld::count_insz_like(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  std::uint64_t found = 0;
  auto is_digit = [](char c) { return c >= '0' && c <= '9'; };
  // A number inside a hex token (a SHA-256 in the audit log) is not an INSZ: demand boundaries
  // that are not letters or digits, as around any CSV cell, JSON string or log word.
  auto is_word = [&](char c) { return is_digit(c) || std::isalpha(static_cast<unsigned char>(c)); };
  for (std::size_t start = 0; start < text.size(); ++start) {
    if (!is_digit(text[start]) || (start > 0 && is_word(text[start - 1]))) continue;
    std::string digits;
    std::size_t at = start;
    while (at < text.size() && digits.size() < 12) {
      if (is_digit(text[at])) {
        digits += text[at];
      } else if ((text[at] == '.' || text[at] == '-') && at + 1 < text.size() &&
                 is_digit(text[at + 1]) && !digits.empty()) {
        // a separator between digits, as in 85.07.30-033.28
      } else {
        break;
      }
      ++at;
    }
    const bool bounded = at >= text.size() || !is_word(text[at]);
    if (digits.size() == 11 && bounded && is_valid_insz_digits(digits)) ++found;
  }
  return found;
}

}  // namespace kbix::test
