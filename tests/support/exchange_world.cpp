#include "support/exchange_world.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>

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
    outcome.signaled = true;
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
  set_agii_certificates(keys_ / "agii-sign-rsa.crt", keys_ / "agii-enc-rsa.crt");
  write_config();
}

void ExchangeWorld::set_partner_signing_certificates(std::vector<fs::path> certificates) {
  partner_signing_ = std::move(certificates);
}

void ExchangeWorld::set_agii_certificates(const fs::path& signing, const fs::path& decryption) {
  agii_signing_ = signing;
  agii_decryption_ = decryption;
  if (std::find(checkpoint_signers_.begin(), checkpoint_signers_.end(), signing) ==
      checkpoint_signers_.end()) {
    checkpoint_signers_.push_back(signing);
  }
}

ExchangeWorld::~ExchangeWorld() {
  // Every end-to-end test's audit log must pass the independent verifier, checkpoints included.
  if (fs::exists(state_dir() / "audit" / "audit.jsonl")) {
    const auto verified = verify_audit_independently();
    if (verified.exit_code != 0) {
      ADD_FAILURE() << "tests/audit_verifier/verify_audit.py: " << verified.output;
    }
  }
  std::error_code ignored;
  if (std::getenv("KBIX_KEEP_TEST_DIRS") == nullptr) fs::remove_all(dir_, ignored);
}

CommandOutcome ExchangeWorld::verify_audit_independently() const {
  std::string certificates;
  for (const auto& signer : checkpoint_signers_)
    certificates += " --certificate " + signer.string();
  return run_shell("python3 " KBIX_SOURCE_DIR "/tests/audit_verifier/verify_audit.py" +
                   certificates + " " + (state_dir() / "audit").string());
}

void ExchangeWorld::write_config(const std::string& envelope_profile,
                                 const std::string& extra_keys) {
  std::string partner_signing_lines =
      "signing_certificate = \"" + (keys_ / "vdab-sign-rsa.crt").string() + "\"\n";
  if (!partner_signing_.empty()) {
    partner_signing_lines = "signing_certificates = [";
    for (const auto& file : partner_signing_) {
      partner_signing_lines +=
          "\"" + file.string() + "\"" + (&file == &partner_signing_.back() ? "" : ", ");
    }
    partner_signing_lines += "]\n";
  }
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
      << "signing_certificate = \"" << agii_signing_.string() << "\"\n"
      << "signing_key = \"" << fs::path(agii_signing_).replace_extension(".key").string() << "\"\n"
      << "decryption_certificate = \"" << agii_decryption_.string() << "\"\n"
      << "decryption_key = \"" << fs::path(agii_decryption_).replace_extension(".key").string()
      << "\"\n"
      << "expiry_warning_days = 30\n"
      << extra_keys << "\n"
      << "[partner]\nname = \"VDAB\"\n"
      << "encryption_certificate = \"" << (keys_ / "vdab-enc-rsa.crt").string() << "\"\n"
      << partner_signing_lines << "envelope_profile = \"" << envelope_profile << "\"\n\n"
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
  add_personal_numbers_of(extract);
  return extract;
}

void ExchangeWorld::add_personal_numbers_of(const fs::path& extract) {
  sweep_.add(insz_of_extract(extract));
}

CommandOutcome ExchangeWorld::kbix(const std::string& arguments,
                                   const std::string& environment) const {
  auto outcome = run_shell("exec env " + environment + " " + KBIX_EXE + " --config " +
                           config_file().string() + " " + arguments);
  std::lock_guard lock(transcript_mutex_);
  transcript_ += outcome.output;
  return outcome;
}

std::string ExchangeWorld::cli_transcript() const {
  std::lock_guard lock(transcript_mutex_);
  return transcript_;
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

std::vector<std::string> ExchangeWorld::personal_data_in(const fs::path& file) const {
  std::ifstream in(file, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::vector<std::string> found;
  for (const auto& hit : sweep_.find(buffer.str())) found.push_back(file.string() + ": " + hit);
  return found;
}

std::vector<std::string> ExchangeWorld::personal_data_found() const {
  std::vector<std::string> found;
  for (const auto& root : {dir_, sshd_.work_dir()}) {
    for (const auto& file : files_under(root)) {
      if (file.extension() == ".p7m" && parses_as_cms(file)) continue;  // ciphertext
      for (auto& hit : personal_data_in(file)) found.push_back(std::move(hit));
    }
  }
  for (const auto& hit : sweep_.find(cli_transcript())) found.push_back("CLI output: " + hit);
  return found;
}

}  // namespace kbix::test
