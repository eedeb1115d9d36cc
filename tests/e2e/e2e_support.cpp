#include "e2e/e2e_support.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <openssl/rand.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>

#include "kbix/domain/csv.hpp"
#include "kbix/domain/insz.hpp"
#include "kbix/domain/pseudonym.hpp"
#include "kbix/runs/run_store.hpp"
#include "support/privacy_sweep.hpp"

namespace kbix::test {

namespace fs = std::filesystem;

Daemon::Daemon(const ExchangeWorld& world) : log_(world.dir() / "daemon.log") {
  pid_ = ::fork();
  if (pid_ == 0) {
    const int fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    ::execl(KBIX_EXE, KBIX_EXE, "--config", world.config_file().c_str(), "daemon",
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  for (int i = 0; i < 200 && !fs::exists(world.socket()); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (!fs::exists(world.socket())) ADD_FAILURE() << "daemon did not start: " << read_file(log_);
}

int Daemon::stop() {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  return wait_exit();
}

int Daemon::wait_exit() {
  if (pid_ <= 0) return -1;
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

bool Daemon::wait_killed_by_sigkill() {
  if (pid_ <= 0) return false;
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
}

Daemon::~Daemon() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

SimulatorThread::SimulatorThread(const ExchangeWorld& world, sim::CorruptMode corrupt)
    : SimulatorThread([&] {
        auto o = world.simulator_options();
        o.corrupt = corrupt;
        return o;
      }()) {}

SimulatorThread::SimulatorThread(sim::SimulatorOptions options)
    : thread_([this, options = std::move(options)] {
        while (!stop_) {
          auto report = sim::process_pending(options);
          if (report) {
            files_ += report->files;
          } else {
            std::fprintf(stderr, "simulator: %s\n", report.error().describe().c_str());
          }
          std::this_thread::sleep_for(std::chrono::milliseconds(200));
        }
      }) {}

SimulatorThread::~SimulatorThread() {
  stop_ = true;
  thread_.join();
}

nlohmann::json wait_for_final_state(const ExchangeWorld& world, Daemon*, bool play_partner) {
  std::optional<SimulatorThread> partner;
  if (play_partner) partner.emplace(world);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  nlohmann::json last;
  while (std::chrono::steady_clock::now() < deadline) {
    const auto status = world.kbix("status --json");
    if (status.exit_code == 0) {
      last = nlohmann::json::parse(status.output, nullptr, false);
      if (!last.is_discarded() && !last["runs"].empty()) {
        const auto& run = last["runs"][0];
        const std::string state = run.value("state", "");
        if (state == "done" || state == "failed" || state == "cancelled") return run;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  ADD_FAILURE() << "no final state within 120 s: " << last.dump(2);
  return last;
}

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return true;
}

std::vector<std::string> read_lines(const fs::path& file) {
  std::ifstream in(file);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::string read_file(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

nlohmann::json read_json(const fs::path& file) {
  return nlohmann::json::parse(read_file(file), nullptr, false);
}

std::string join(const std::vector<std::string>& parts, char separator) {
  std::string joined;
  for (const auto& part : parts) {
    if (!joined.empty()) joined += separator;
    joined += part;
  }
  return joined;
}

std::vector<fs::path> files_under(const fs::path& dir) {
  return ExchangeWorld::files_under(dir);
}

std::vector<fs::path> files_with_suffix(const fs::path& dir, const std::string& suffix) {
  std::vector<fs::path> found;
  for (const auto& file : files_under(dir)) {
    if (file.filename().string().ends_with(suffix)) found.push_back(file);
  }
  return found;
}

std::uint64_t count_audit_events(const ExchangeWorld& world, const std::string& event) {
  std::uint64_t count = 0;
  for (const auto& file : files_under(world.state_dir() / "audit")) {
    if (file.filename().string().rfind("checkpoint", 0) == 0) continue;
    for (const auto& line : read_lines(file)) {
      const auto entry = nlohmann::json::parse(line, nullptr, false);
      if (!entry.is_discarded() && entry.is_object() && entry.value("event", "") == event) {
        ++count;
      }
    }
  }
  return count;
}

void expect_no_plaintext_left(const ExchangeWorld& world,
                              const std::set<std::string>& expected_outputs) {
  EXPECT_TRUE(files_under(world.inbox_dir()).empty()) << "the sealed extract left the inbox";
  for (const auto& file : files_under(world.state_dir())) {
    EXPECT_FALSE(file.filename().string().ends_with(".csv")) << "plaintext left: " << file;
    EXPECT_EQ(file.string().find("/work/"), std::string::npos) << "work file left: " << file;
  }
  std::set<std::string> published;
  for (const auto& file : files_under(world.output_dir())) {
    published.insert(fs::relative(file, world.output_dir()).string());
  }
  EXPECT_EQ(published, expected_outputs) << "output/ holds exactly the published files";
  // A sweep over empty logs proves nothing: the CLI printed, and a daemon's log has lines.
  EXPECT_FALSE(world.cli_transcript().empty()) << "no CLI output to sweep";
  const fs::path daemon_log = world.dir() / "daemon.log";
  if (fs::exists(daemon_log)) {
    EXPECT_GT(fs::file_size(daemon_log), 0u) << "empty daemon log";
  }
  ASSERT_TRUE(world.knows_personal_numbers()) << "the sweep needs the extract's INSZ";
  const auto found = world.personal_data_found();
  EXPECT_TRUE(found.empty()) << found.size() << " INSZ found, first: " << found.front();
}

std::set<std::string> published_files(const std::string& run_id) {
  const std::string stem = "vdab-derde-pijler-2023_" + run_id;
  // The output, its manifest and the run's privacy reports (docs/privacy.md), written out.
  return {stem + ".csv",
          stem + ".manifest.json",
          stem + ".quality.json",
          stem + ".quality.txt",
          stem + ".quality-partner.json",
          stem + ".quality-partner.txt",
          stem + ".disclosure.json",
          stem + ".disclosure.txt"};
}

std::string newest_run_id(const ExchangeWorld& world) {
  // from the run database itself: `status --json` needs a running daemon
  auto store = RunStore::open(world.state_dir() / "runs.sqlite3");
  if (!store) return "";
  auto runs = store->list();
  std::string newest;
  if (runs) {
    for (const auto& run : *runs) newest = std::max(newest, run.id);  // ids start with the time
  }
  return newest;
}

fs::path hmac_protocol_copy() {
  const fs::path dir = make_temp_dir("kbix-protocol");
  std::string text = read_file(KBIX_SOURCE_DIR "/config/protocols/vdab-derde-pijler-2023.toml");
  const std::string from = "pseudonym = \"none\"";
  text.replace(text.find(from), from.size(), "pseudonym = \"hmac-sha256\"");
  std::ofstream(dir / "vdab-hmac.toml") << text;
  return dir / "vdab-hmac.toml";
}

void write_random_key(const fs::path& file) {
  unsigned char key[32];
  RAND_bytes(key, sizeof key);
  std::ofstream(file, std::ios::binary).write(reinterpret_cast<const char*>(key), sizeof key);
  fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write);
}

namespace {
std::vector<std::vector<std::string>> parse_csv(const std::vector<std::string>& lines) {
  std::string text;
  for (const auto& line : lines) text += line + "\n";
  std::istringstream in(text);
  CsvReader reader(in, "test.csv");
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> fields;
  while (true) {
    auto more = reader.next(fields);
    if (!more) {
      ADD_FAILURE() << more.error().describe();
      break;
    }
    if (!*more) break;
    rows.push_back(fields);
  }
  return rows;
}
}  // namespace

void expect_rows_joined_to_their_own_profile(const std::vector<std::string>& extract_lines,
                                             const std::vector<std::string>& output_lines,
                                             const fs::path& pseudonym_key) {
  auto key = PseudonymKey::load(pseudonym_key);
  ASSERT_TRUE(key) << key.error().describe();
  const auto extract = parse_csv(extract_lines);
  const auto output = parse_csv(output_lines);
  ASSERT_GE(extract.size(), 2u);
  ASSERT_GE(output.size(), 2u);
  const auto& extract_header = extract[0];
  const auto& output_header = output[0];
  std::map<std::string, std::size_t> output_column;
  for (std::size_t i = 0; i < output_header.size(); ++i) output_column[output_header[i]] = i;
  ASSERT_TRUE(output_column.contains("pseudo_id"));
  std::map<std::string, const std::vector<std::string>*> by_pseudonym;
  for (std::size_t row = 1; row < extract.size(); ++row) {
    auto insz = Insz::parse(extract[row][0]);
    if (insz) by_pseudonym.emplace(key->pseudo_id(*insz), &extract[row]);
  }
  std::size_t checked = 0;
  for (std::size_t row = 1; row < output.size(); ++row) {
    const auto& out = output[row];
    const auto person = by_pseudonym.find(out[output_column["pseudo_id"]]);
    ASSERT_NE(person, by_pseudonym.end()) << "output row " << row << " has an unknown pseudo_id";
    for (std::size_t column = 1; column < extract_header.size(); ++column) {
      const auto at = output_column.find(extract_header[column]);
      ASSERT_NE(at, output_column.end()) << extract_header[column];
      EXPECT_EQ(out[at->second], (*person->second)[column])
          << "row " << row << " column " << extract_header[column];
    }
    ++checked;
  }
  EXPECT_GT(checked, (extract.size() - 1) / 2) << "most people come back from VDAB";
}

std::string reference_output(std::uint64_t people, std::uint64_t seed) {
  static std::mutex mutex;
  static std::map<std::pair<std::uint64_t, std::uint64_t>, std::string> cache;
  std::lock_guard lock(mutex);
  auto& cached = cache[{people, seed}];
  if (cached.empty()) {
    ExchangeWorld world("e2e-reference");
    world.generate_extract(people, seed);
    SimulatorThread partner(world);
    const auto once = world.kbix("run once --start --wait 60");
    EXPECT_EQ(once.exit_code, 0) << once.output;
    const auto outputs = files_with_suffix(world.output_dir(), ".csv");
    EXPECT_EQ(outputs.size(), 1u);
    if (!outputs.empty()) cached = read_file(outputs.front());
  }
  return cached;
}

}  // namespace kbix::test
