// Municipal exports (issue 15) end to end through the daemon: one kbi-gemeenten extract of
// 20,000 synthetic people in 5 municipalities feeds Genk's art. 20 list and two instances of the
// participation-track template; Wetteren and Sint-Pieters-Leeuw are refused as ended; Genk is
// refused a second list within 12 months unless forced. Each list is opened by independent
// tools (msoffcrypto-tool + openpyxl through tests/unit/office/office_oracle.py) and compared
// with rows computed independently from the CSV (municipal_expected.py); the password is released
// once (audited), and is found in no log, audit entry, run database or file outside the sealed
// state.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <regex>

#include "e2e_support.hpp"
#include "kbix/core/protocol.hpp"
#include "kbix/runs/run_store.hpp"

namespace kbix::test {
namespace {

namespace fs = std::filesystem;

const fs::path kProtocols = KBIX_SOURCE_DIR "/config/protocols";
const std::string kOracle = KBIX_SOURCE_DIR "/tests/unit/office/office_oracle.py";
const std::string kExpected = KBIX_SOURCE_DIR "/tests/e2e/municipal_expected.py";
const std::string kStatus = KBIX_SOURCE_DIR "/tests/e2e/municipal_status.py";

struct Municipality {
  std::string exchange;  // exchange name
  std::string protocol;  // protocol file stem in <world>/protocols
  std::string name;
  std::string nis;
};

class MunicipalWorld {
 public:
  MunicipalWorld() : world_("e2e-municipal") {
    fs::create_directories(protocols());
    fs::create_directories(world_.dir() / "exchanges.d");
    fs::create_directories(world_.inbox_dir() / "kbi-gemeenten");
    // kbix.toml: the daemon-wide sections of the world's file, and an outbox.
    std::string daemon_wide;
    bool keep = true;
    for (const auto& line : read_lines(world_.config_file())) {
      if (!line.empty() && line[0] == '[') {
        keep = line == "[daemon]" || line == "[keys]" || line == "[audit]";
      }
      if (keep) daemon_wide += line + "\n";
      if (line == "[daemon]") daemon_wide += "outbox_dir = \"" + outbox().string() + "\"\n";
    }
    std::ofstream(world_.config_file()) << daemon_wide;
    for (const char* name :
         {"genk-art20-2021", "wetteren-amif507-2023", "sint-pieters-leeuw-amif507-2021"}) {
      fs::copy_file(kProtocols / (std::string(name) + ".toml"), protocol(name));
    }
    // The template as shipped ended on 31/12/2024; its text lets a new protocol replace it. The
    // test runs a renewed version: the same rules, id and end date changed.
    const std::string shipped = read_file(kProtocols / "template-participatie-netwerktraject.toml");
    std::string renewed = std::regex_replace(shipped, std::regex("(^|\\n)id = \"[^\"]*\""),
                                             "$1id = \"" + std::string(kTemplate) + "\"");
    renewed = std::regex_replace(renewed, std::regex("(^|\\n)valid_until = [0-9-]+"),
                                 "$1valid_until = 2029-01-01");
    std::ofstream(protocol(kTemplate)) << renewed;
    for (const auto& m : municipalities()) write_exchange(m);
  }

  static constexpr const char* kTemplate = "template-participatie-netwerktraject-test";

  static const std::vector<Municipality>& municipalities() {
    static const std::vector<Municipality> all = {
        {"genk", "genk-art20-2021", "Stad Genk", "71016"},
        {"participatie-gent", kTemplate, "Stad Gent", "44021"},
        {"participatie-leuven", kTemplate, "Stad Leuven", "24062"},
        {"wetteren", "wetteren-amif507-2023", "Gemeente Wetteren", "42025"},
        {"sint-pieters-leeuw", "sint-pieters-leeuw-amif507-2021", "Gemeente Sint-Pieters-Leeuw",
         "23077"}};
    return all;
  }

  ExchangeWorld& world() { return world_; }
  fs::path protocols() const { return world_.dir() / "protocols"; }
  fs::path protocol(const std::string& stem) const { return protocols() / (stem + ".toml"); }
  fs::path outbox() const { return world_.dir() / "outbox"; }
  fs::path status_dir(const Municipality& m) const { return world_.dir() / "status" / m.exchange; }
  fs::path status_inbox(const Municipality& m) const {
    return world_.inbox_dir() / ("status-" + m.exchange);
  }
  // The extract as generated, kept outside the world for the oracle (kbix removes the inbox's).
  fs::path extract() const { return kept_ / "kbi-gemeenten.csv"; }

  void generate(std::uint64_t people, std::uint64_t seed) {
    fs::remove(extract());
    const auto made =
        run_shell(std::string(KBIX_GEN_EXE) + " --gemeenten " + extract().string() + " --people " +
                  std::to_string(people) + " --seed " + std::to_string(seed));
    ASSERT_EQ(made.exit_code, 0) << made.output;
    world_.add_personal_numbers_of(extract());
    fs::copy_file(extract(), world_.inbox_dir() / "kbi-gemeenten" / "kbi-gemeenten.csv");
  }
  ~MunicipalWorld() {
    std::error_code ignored;
    fs::remove_all(kept_, ignored);
  }

 private:
  void write_exchange(const Municipality& m) {
    auto loaded = load_protocol(protocol(m.protocol));
    ASSERT_TRUE(loaded) << loaded.error().describe();
    std::ofstream file(world_.dir() / "exchanges.d" / (m.exchange + ".toml"));
    file << "[exchange]\nsource = \"kbi-gemeenten\"\nprotocol = \"" << protocol(m.protocol).string()
         << "\"\n\n[export]\nmunicipality = \"" << m.name << "\"\nresidence_nis = \"" << m.nis
         << "\"\n";
    if (loaded->export_rules && loaded->export_rules->status_return) {
      file << "status_dir = \"" << status_dir(m).string() << "\"\npoll_interval_seconds = 1\n";
    }
    if (loaded->export_rules && loaded->export_rules->trigger == ExportTrigger::schedule) {
      file << "\n[schedule]\nrun_dates = [\"01-15\"]\n";
    }
  }

  ExchangeWorld world_;
  fs::path kept_ = [] {
    char pattern[] = "/tmp/kbix-gemeenten-XXXXXX";
    return fs::path(::mkdtemp(pattern));
  }();
};

std::map<std::string, RunRecord> newest_runs(const ExchangeWorld& world) {
  std::map<std::string, RunRecord> newest;
  auto store = RunStore::open(world.state_dir() / "runs.sqlite3");
  if (!store) return newest;
  auto runs = store->list();
  if (!runs) return newest;
  for (const auto& run : *runs) newest.try_emplace(run.exchange, run);
  return newest;
}

std::string run_id_of(const CommandOutcome& started) {
  std::smatch match;
  static const std::regex id("started ([0-9]{8}T[0-9]{6}Z-[0-9a-f]{4})");
  return std::regex_search(started.output, match, id) ? match[1].str() : "";
}

// Starts Genk's list with the request reference `reference` and waits until it is placed: its
// run id and outbox file, or both empty when it was not (the failure is reported).
struct PlacedList {
  std::string id;
  fs::path file;
};
PlacedList place_genk_list(ExchangeWorld& world, const Daemon& daemon,
                           const std::string& reference) {
  const auto started = world.kbix("run start genk --request-ref " + reference);
  EXPECT_EQ(started.exit_code, 0) << started.output;
  const bool placed = eventually(
      [&] {
        auto runs = newest_runs(world);
        return runs.contains("genk") && runs["genk"].state == RunState::placed;
      },
      std::chrono::seconds(60));
  EXPECT_TRUE(placed) << read_file(daemon.log_file());
  if (started.exit_code != 0 || !placed) return {};
  return {run_id_of(started), newest_runs(world)["genk"].facts.value("outbox_file", "")};
}

std::string today_text() {
  return format_date(std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now()));
}

// The rows a list must hold, computed by municipal_expected.py from the extract.
fs::path expected_rows(MunicipalWorld& setup, const Municipality& m, const fs::path& out) {
  auto genk = load_protocol(setup.protocol("genk-art20-2021"));
  auto loaded = load_protocol(setup.protocol(m.protocol));
  EXPECT_TRUE(genk && loaded);
  const ExportRules& rules = *loaded->export_rules;
  std::vector<std::string> fields = rules.fields;
  std::string command = kExpected + " " + setup.extract().string() + " " + out.string() +
                        " --fields " + join(fields, ',') + " --residence " +
                        genk->export_rules->scope.column + "=" + m.nis;
  if (rules.scope.kind != ExportScope::Kind::residence) command += " --scope " + rules.scope.column;
  if (rules.person_retention) {
    command += " --retention " + rules.person_retention->date_column + ":" +
               std::to_string(rules.person_retention->months) + " --today " + today_text();
  }
  for (const auto& column : rules.closed_lists) {
    const ColumnDomain& domain = loaded->domains.at(column);
    command +=
        " --closed '" + column + "=" + domain.separator + "=" + join(domain.codes, '|') + "'";
  }
  const auto made = run_shell(command);
  EXPECT_EQ(made.exit_code, 0) << made.output;
  return out;
}

// The oracle's files (expected rows hold INSZ, a password file the password) live outside the
// world, which the privacy scans read whole.
struct Scratch {
  Scratch() {
    char pattern[] = "/tmp/kbix-municipal-XXXXXX";
    dir = ::mkdtemp(pattern);
  }
  ~Scratch() {
    std::error_code ignored;
    fs::remove_all(dir, ignored);
  }
  fs::path dir;
};

struct PasswordFile {
  explicit PasswordFile(const std::string& password) {
    char pattern[] = "/tmp/kbix-password-XXXXXX";
    const int fd = ::mkstemp(pattern);
    path = pattern;
    std::ofstream(path) << password;
    if (fd >= 0) ::close(fd);
  }
  ~PasswordFile() {
    std::error_code ignored;
    fs::remove(path, ignored);
  }
  fs::path path;
};

// The template's status return: a good file is published with each person's INSZ (matched here
// through the expected rows, independently of kbix); an unknown reference, a value outside the
// closed list, a duplicated reference or an oversized file is refused whole, nothing published.
void check_status_return(MunicipalWorld& setup, const Municipality& m, const fs::path& list,
                         const fs::path& password, const fs::path& expected,
                         const fs::path& scratch) {
  ExchangeWorld& world = setup.world();
  auto protocol = load_protocol(setup.protocol(m.protocol));
  ASSERT_TRUE(protocol && protocol->export_rules);
  std::vector<std::string> codes = protocol->export_rules->status_codes;
  if (codes.empty()) codes = {"toegeleid", "gestart", "afgerond"};
  const fs::path good = scratch / (m.exchange + "-status.csv");
  const auto made = run_shell(kStatus + " " + list.string() + " " + password.string() + " " +
                              good.string() + " good '" + join(codes, ',') + "'");
  ASSERT_EQ(made.exit_code, 0) << made.output;
  const auto imported_before = count_audit_events(world, "export.status_imported");
  fs::copy_file(good, setup.status_inbox(m) / "terug.csv");
  ASSERT_TRUE(eventually(
      [&] { return count_audit_events(world, "export.status_imported") > imported_before; },
      std::chrono::seconds(30)));
  EXPECT_FALSE(fs::exists(setup.status_inbox(m) / "terug.csv"));
  const auto published = files_under(setup.status_dir(m));
  ASSERT_EQ(published.size(), 1u);
  // Row i of the list is the person on line i of expected.insz; status i % codes as sent.
  const auto insz = read_lines(expected.string() + ".insz");
  const auto lines = read_lines(published.front());
  ASSERT_EQ(lines.size(), insz.size() + 1);
  EXPECT_EQ(lines.front().substr(0, 12), "insz;status;");
  for (std::size_t i = 0; i < insz.size(); ++i) {
    EXPECT_EQ(lines[i + 1].substr(0, lines[i + 1].rfind(';')),
              insz[i] + ";" + codes[i % codes.size()])
        << "row " << i;
  }
  fs::remove(published.front());  // the statuses file is the test's to take away (it holds INSZ)

  const auto refused_before = count_audit_events(world, "export.status_refused");
  int kinds = 0;
  for (const char* kind : {"unknown_reference", "bad_value", "duplicate_reference", "oversized"}) {
    const fs::path bad = setup.status_inbox(m) / (std::string(kind) + ".csv");
    const auto wrote =
        run_shell(kStatus + " " + list.string() + " " + password.string() + " " +
                  (scratch / "bad.csv").string() + " " + kind + " '" + join(codes, ',') + "'");
    ASSERT_EQ(wrote.exit_code, 0) << wrote.output;
    fs::rename(scratch / "bad.csv", bad);
    ++kinds;
  }
  ASSERT_TRUE(eventually(
      [&] { return count_audit_events(world, "export.status_refused") >= refused_before + kinds; },
      std::chrono::seconds(30)));
  EXPECT_TRUE(files_under(setup.status_dir(m)).empty()) << "a refused file publishes nothing";
  for (const auto& file : files_under(setup.status_inbox(m))) {
    EXPECT_EQ(file.extension(), ".refused") << file;
    fs::remove(file);  // the refused files hold references only, but they are the test's
  }
}

TEST(MunicipalExports, ThreeListsEachExactlyItsPeopleAndFieldsEndedOnesRefused) {
  MunicipalWorld setup;
  ExchangeWorld& world = setup.world();
  const Scratch scratch;
  setup.generate(20000, 2026);
  const auto checked = world.kbix("check-config");
  EXPECT_EQ(checked.exit_code, 78) << checked.output;  // two protocols have ended
  EXPECT_NE(checked.output.find("wetteren"), std::string::npos) << checked.output;

  Daemon daemon(world);
  std::map<std::string, std::string> runs;
  for (const auto& m : MunicipalWorld::municipalities()) {
    const std::string extra = m.exchange == "genk" ? " --request-ref GENK-2026-041" : "";
    const auto started = world.kbix("run start " + m.exchange + extra);
    if (m.exchange == "wetteren" || m.exchange == "sint-pieters-leeuw") {
      EXPECT_EQ(started.exit_code, 1) << started.output;
      EXPECT_NE(started.output.find("schedule.protocol_ended"), std::string::npos)
          << started.output;
      continue;
    }
    ASSERT_EQ(started.exit_code, 0) << m.exchange << ": " << started.output;
    runs[m.exchange] = run_id_of(started);
  }
  ASSERT_TRUE(eventually(
      [&] {
        auto newest = newest_runs(world);
        for (const auto& [exchange, id] : runs) {
          if (!newest.contains(exchange) || newest[exchange].state != RunState::placed) {
            return false;
          }
        }
        return true;
      },
      std::chrono::seconds(120)))
      << read_file(daemon.log_file());
  // The extract left the inbox once the three exchanges that still run had sealed it.
  EXPECT_TRUE(fs::is_empty(world.inbox_dir() / "kbi-gemeenten"));

  const auto newest = newest_runs(world);
  for (const auto& m : MunicipalWorld::municipalities()) {
    if (!runs.contains(m.exchange)) continue;
    SCOPED_TRACE(m.exchange);
    const RunRecord& run = newest.at(m.exchange);
    const fs::path list = run.facts.value("outbox_file", "");
    ASSERT_TRUE(fs::exists(list)) << list;
    struct stat info {};
    ASSERT_EQ(::stat(list.c_str(), &info), 0);
    EXPECT_EQ(info.st_mode & 0777, 0640u);
    EXPECT_EQ(list.extension(), ".xlsx");

    const auto released = world.kbix("export password " + run.id + " --channel sms");
    ASSERT_EQ(released.exit_code, 0) << released.output;
    const std::string password = released.output.substr(0, released.output.find('\n'));
    ASSERT_EQ(password.size(), 23u) << "no password line";
    const PasswordFile secret(password);
    fs::path expected = expected_rows(setup, m, scratch.dir / (m.exchange + ".json"));
    if (m.protocol == MunicipalWorld::kTemplate) {
      // The template's lists carry a random row reference as their last column: every other
      // cell must equal the oracle's rows; the references are distinct and of their shape. The
      // expected file then takes the references read back, for the cell-by-cell check below.
      const fs::path dumped = scratch.dir / (m.exchange + "-dump.json");
      const auto dump = run_shell(kStatus + " " + list.string() + " " + secret.path.string() + " " +
                                  dumped.string() + " dump x");
      ASSERT_EQ(dump.exit_code, 0) << dump.output;
      auto rows = read_json(dumped);
      auto want = read_json(expected);
      ASSERT_EQ(rows.size(), want.size());
      ASSERT_EQ(rows[0].back(), "referentie");
      std::set<std::string> references;
      static const std::regex shape("R-[2-9A-HJKMNP-Z]{5}(-[2-9A-HJKMNP-Z]{5}){3}");
      for (std::size_t i = 0; i < rows.size(); ++i) {
        auto cells = rows[i];
        const std::string reference = cells.back();
        cells.erase(cells.size() - 1);
        EXPECT_EQ(cells, want[i]) << "row " << i;
        if (i > 0) {
          EXPECT_TRUE(std::regex_match(reference, shape)) << reference;
          references.insert(reference);
        }
        want[i].push_back(reference);
      }
      EXPECT_EQ(references.size(), rows.size() - 1);
      std::ofstream(expected = scratch.dir / (m.exchange + "-with-references.json")) << want.dump();
      fs::copy_file(scratch.dir / (m.exchange + ".json.insz"), expected.string() + ".insz");
    }
    const auto opened = run_shell(kOracle + " agile " + list.string() + " " + expected.string() +
                                  " " + secret.path.string());
    EXPECT_EQ(opened.exit_code, 0) << opened.output;
    // A wrong password and a flipped byte are refused by the independent reader.
    const PasswordFile wrong("ABCDEFG-HJKMNPR-STUVWXY");
    EXPECT_EQ(run_shell(kOracle + " agile " + list.string() + " " + expected.string() + " " +
                        wrong.path.string())
                  .exit_code,
              3);
    const fs::path flipped = world.dir() / "flipped.xlsx";
    ASSERT_EQ(run_shell(kOracle + " flip " + list.string() + " " + flipped.string() +
                        " EncryptedPackage 4000")
                  .exit_code,
              0);
    EXPECT_EQ(run_shell(kOracle + " agile " + flipped.string() + " " + expected.string() + " " +
                        secret.path.string())
                  .exit_code,
              4);
    fs::remove(flipped);

    // A second release needs --again and a reason; both releases are audited without the value.
    const auto twice = world.kbix("export password " + run.id + " --channel sms");
    EXPECT_EQ(twice.exit_code, 1);
    EXPECT_NE(twice.output.find("export.password_released"), std::string::npos) << twice.output;
    const auto again = world.kbix("export password " + run.id +
                                  " --channel phone --again --reason \"SMS not received\"");
    EXPECT_EQ(again.exit_code, 0) << again.output;
    EXPECT_EQ(again.output.substr(0, again.output.find('\n')), password);

    // The password is nowhere outside the sealed state: not in the log, the audit log, the run
    // database, the outbox or any other file of the world (the list is encrypted).
    for (const auto& file : files_under(world.dir())) {
      EXPECT_EQ(read_file(file).find(password), std::string::npos) << file;
    }
    // The oracle compared the header with the protocol's fields (no filter column leaves) and
    // every row; a list this short would show nothing.
    EXPECT_GT(read_json(expected).size(), 10u);

    if (m.protocol == MunicipalWorld::kTemplate) {
      check_status_return(setup, m, list, secret.path, expected, scratch.dir);
    }

    const auto delivered =
        world.kbix("export delivered " + run.id + " --channel sharepoint --reference \"site " +
                   m.exchange + "\"");
    ASSERT_EQ(delivered.exit_code, 0) << delivered.output;
  }
  ASSERT_TRUE(eventually(
      [&] {
        auto now = newest_runs(world);
        for (const auto& [exchange, id] : runs) {
          if (now[exchange].state != RunState::done) return false;
        }
        return true;
      },
      std::chrono::seconds(60)))
      << read_file(daemon.log_file());
  EXPECT_TRUE(files_under(setup.outbox()).empty()) << "the outbox copies are removed";
  EXPECT_EQ(count_audit_events(world, "export.password_released"), 2 * runs.size());
  EXPECT_EQ(count_audit_events(world, "export.delivered"), runs.size());

  // Genk: at most one list per 12 months; a forced one needs a reason.
  setup.generate(200, 2027);
  const auto soon = world.kbix("run start genk --request-ref GENK-2026-042");
  EXPECT_EQ(soon.exit_code, 1) << soon.output;
  EXPECT_NE(soon.output.find("--force"), std::string::npos) << soon.output;
  const auto no_reference = world.kbix("run start genk --force --reason \"council request\"");
  EXPECT_EQ(no_reference.exit_code, 1);
  EXPECT_NE(no_reference.output.find("run.request_reference_required"), std::string::npos)
      << no_reference.output;
  const auto forced =
      world.kbix("run start genk --request-ref GENK-2026-042 --force --reason \"council request\"");
  EXPECT_EQ(forced.exit_code, 0) << forced.output;
  EXPECT_EQ(daemon.stop(), 0);
  // The second extract still waits for the template exchanges: the test's own input, not a leak.
  fs::remove(world.inbox_dir() / "kbi-gemeenten" / "kbi-gemeenten.csv");
  EXPECT_TRUE(world.personal_data_found().empty()) << join(world.personal_data_found(), '\n');
}

}  // namespace
}  // namespace kbix::test

namespace kbix::test {
namespace {

// When a protocol ends, kbix removes what it still holds for it (the outbox copy, the list, the
// sealed password, the row references), cancels the run and audits it (invariant 15).
TEST(MunicipalExports, WhenTheProtocolEndsWhatKbixHoldsForItIsRemovedAndAudited) {
  MunicipalWorld setup;
  ExchangeWorld& world = setup.world();
  setup.generate(2000, 2028);
  Daemon daemon(world);
  const auto started = world.kbix("run start participatie-gent");
  ASSERT_EQ(started.exit_code, 0) << started.output;
  const std::string id = run_id_of(started);
  ASSERT_TRUE(eventually(
      [&] {
        auto runs = newest_runs(world);
        return runs.contains("participatie-gent") &&
               runs["participatie-gent"].state == RunState::placed;
      },
      std::chrono::seconds(60)))
      << read_file(daemon.log_file());
  const fs::path placed = newest_runs(world)["participatie-gent"].facts.value("outbox_file", "");
  ASSERT_TRUE(fs::exists(placed));
  const fs::path run_dir = world.state_dir() / "runs" / id;
  ASSERT_TRUE(fs::exists(run_dir / "password.p7m"));
  ASSERT_TRUE(fs::exists(world.state_dir() / "references" / "participatie-gent.p7m"));

  // The renewed template ends today: reload, and the next look at the exchange cleans up.
  const fs::path protocol = setup.protocol(MunicipalWorld::kTemplate);
  std::ofstream(protocol.string() + ".new")
      << std::regex_replace(read_file(protocol), std::regex("(^|\\n)valid_until = [0-9-]+"),
                            "$1valid_until = " + today_text());
  fs::rename(protocol.string() + ".new", protocol);
  ASSERT_EQ(::kill(daemon.pid(), SIGHUP), 0);
  ASSERT_TRUE(eventually([&] { return count_audit_events(world, "export.protocol_ended") >= 2; },
                         std::chrono::seconds(30)))
      << read_file(daemon.log_file());
  EXPECT_FALSE(fs::exists(placed));
  EXPECT_FALSE(fs::exists(run_dir));
  EXPECT_FALSE(fs::exists(world.state_dir() / "references" / "participatie-gent.p7m"));
  EXPECT_EQ(newest_runs(world)["participatie-gent"].state, RunState::cancelled);
  const auto status = world.kbix("status participatie-gent");
  EXPECT_NE(status.output.find("protocol ended"), std::string::npos) << status.output;
  const auto again = world.kbix("run start participatie-gent");
  EXPECT_NE(again.output.find("schedule.protocol_ended"), std::string::npos) << again.output;
  EXPECT_EQ(daemon.stop(), 0);
  fs::remove(world.inbox_dir() / "kbi-gemeenten" / "kbi-gemeenten.csv");
  EXPECT_TRUE(world.personal_data_found().empty()) << join(world.personal_data_found(), '\n');
}

}  // namespace
}  // namespace kbix::test

namespace kbix::test {
namespace {

// A municipality with its own certificate gets the CMS profile: the stock openssl cms opens it
// with the municipality's key and verifies AgII's signature; the workbook inside holds exactly
// the list; there is no password to release.
TEST(MunicipalExports, AMunicipalityWithItsOwnCertificateGetsACmsFileOpenSslOpens) {
  MunicipalWorld setup;
  ExchangeWorld& world = setup.world();
  const fs::path keys = KBIX_ENVELOPE_TEST_KEYS;
  std::ofstream(world.dir() / "exchanges.d" / "genk.toml", std::ios::app)
      << "profile = \"cms\"\nrecipient_certificate = \"" << (keys / "vdab-enc-rsa.crt").string()
      << "\"\n";
  const Scratch scratch;
  setup.generate(3000, 2029);
  Daemon daemon(world);
  const PlacedList list = place_genk_list(world, daemon, "GENK-2026-050");
  ASSERT_FALSE(list.id.empty());
  const std::string& id = list.id;
  const fs::path& placed = list.file;
  EXPECT_EQ(placed.extension(), ".p7m");
  const fs::path signed_der = scratch.dir / "signed.der";
  const fs::path workbook = scratch.dir / "list.xlsx";
  ASSERT_EQ(run_shell("openssl cms -decrypt -binary -inform DER -in " + placed.string() +
                      " -recip " + (keys / "vdab-enc-rsa.crt").string() + " -inkey " +
                      (keys / "vdab-enc-rsa.key").string() + " -out " + signed_der.string())
                .exit_code,
            0);
  const auto verified =
      run_shell("openssl cms -verify -binary -inform DER -in " + signed_der.string() + " -CAfile " +
                (keys / "agii-sign-rsa.crt").string() + " -purpose any -out " + workbook.string());
  ASSERT_EQ(verified.exit_code, 0) << verified.output;
  const Municipality genk = MunicipalWorld::municipalities().front();
  const fs::path expected = expected_rows(setup, genk, scratch.dir / "genk.json");
  const auto opened = run_shell(kOracle + " xlsx " + workbook.string() + " " + expected.string());
  EXPECT_EQ(opened.exit_code, 0) << opened.output;
  const auto password = world.kbix("export password " + id + " --channel sms");
  EXPECT_EQ(password.exit_code, 1);
  EXPECT_NE(password.output.find("export.no_password"), std::string::npos) << password.output;
  EXPECT_EQ(daemon.stop(), 0);
  // The extract still waits for the template exchanges: the test's own input, not a leak.
  fs::remove(world.inbox_dir() / "kbi-gemeenten" / "kbi-gemeenten.csv");
  EXPECT_TRUE(world.personal_data_found().empty()) << join(world.personal_data_found(), '\n');
}

}  // namespace
}  // namespace kbix::test

namespace kbix::test {
namespace {

// The zip-aes256 profile through the engine: 7z opens the archive with the released password and
// the workbook inside holds exactly the list; a wrong password is refused by 7z.
TEST(MunicipalExports, TheZipProfileOpensWith7zAndTheReleasedPassword) {
  MunicipalWorld setup;
  ExchangeWorld& world = setup.world();
  std::ofstream(world.dir() / "exchanges.d" / "genk.toml", std::ios::app)
      << "profile = \"zip-aes256\"\n";
  const Scratch scratch;
  setup.generate(3000, 2030);
  Daemon daemon(world);
  const PlacedList list = place_genk_list(world, daemon, "GENK-2026-051");
  ASSERT_FALSE(list.id.empty());
  const std::string& id = list.id;
  const fs::path& placed = list.file;
  EXPECT_EQ(placed.extension(), ".zip");
  const auto released = world.kbix("export password " + id + " --channel phone");
  ASSERT_EQ(released.exit_code, 0) << released.output;
  const std::string password = released.output.substr(0, released.output.find('\n'));
  EXPECT_NE(run_shell("7z t -pABCDEFG-HJKMNPR-STUVWXY " + placed.string()).exit_code, 0);
  const auto unpacked =
      run_shell("7z x -y -p" + password + " -o" + scratch.dir.string() + " " + placed.string());
  ASSERT_EQ(unpacked.exit_code, 0) << unpacked.output;
  const fs::path workbook = scratch.dir / (placed.stem().string() + ".xlsx");
  ASSERT_TRUE(fs::exists(workbook)) << unpacked.output;
  const Municipality genk = MunicipalWorld::municipalities().front();
  const fs::path expected = expected_rows(setup, genk, scratch.dir / "genk.json");
  const auto opened = run_shell(kOracle + " xlsx " + workbook.string() + " " + expected.string());
  EXPECT_EQ(opened.exit_code, 0) << opened.output;
  EXPECT_EQ(daemon.stop(), 0);
  fs::remove(world.inbox_dir() / "kbi-gemeenten" / "kbi-gemeenten.csv");
  for (const auto& file : files_under(world.dir())) {
    EXPECT_EQ(read_file(file).find(password), std::string::npos) << file;
  }
  EXPECT_TRUE(world.personal_data_found().empty()) << join(world.personal_data_found(), '\n');
}

}  // namespace
}  // namespace kbix::test
