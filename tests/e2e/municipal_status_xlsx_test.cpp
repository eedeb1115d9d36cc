// The template's status return as an Excel workbook, end to end through the daemon: the list
// goes out (participation track, one municipality), the employee opens it with the password the
// operator released (msoffcrypto-tool), fills in a status column for some rows and saves it as
// .xlsx (openpyxl: tests/e2e/municipal_status_xlsx.py); dropped in the status inbox it is
// imported and kbix publishes exactly those statuses, each with the INSZ of its row (matched
// here through municipal_expected.py's rows, independently of kbix). The same workbook still
// password-protected, or with a status outside the list, is refused and renamed ".refused".
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <regex>
#include <sstream>

#include "e2e_support.hpp"
#include "kbix/core/protocol.hpp"
#include "kbix/runs/run_store.hpp"

namespace kbix::test {
namespace {

namespace fs = std::filesystem;

const fs::path kShippedTemplate =
    KBIX_SOURCE_DIR "/config/protocols/template-participatie-netwerktraject.toml";
const std::string kExpectedRows = KBIX_SOURCE_DIR "/tests/e2e/municipal_expected.py";
const std::string kFillIn = KBIX_SOURCE_DIR "/tests/e2e/municipal_status_xlsx.py";
constexpr const char* kExchange = "participatie-gent";
constexpr const char* kGent = "44021";

// A private directory outside the world (the oracle's rows hold INSZ, the password file the
// password), which the privacy sweep reads whole.
struct Private {
  Private() {
    char pattern[] = "/tmp/kbix-status-xlsx-XXXXXX";
    dir = ::mkdtemp(pattern);
  }
  ~Private() {
    std::error_code ignored;
    fs::remove_all(dir, ignored);
  }
  fs::path dir;
};

// One exchange of the template (renewed: the shipped text ended on 31/12/2024) for Gent.
void write_template_exchange(ExchangeWorld& world, const fs::path& protocol) {
  std::string text = read_file(kShippedTemplate);
  text = std::regex_replace(text, std::regex("(^|\\n)valid_until = [0-9-]+"),
                            "$1valid_until = 2029-01-01");
  std::ofstream(protocol) << text;
  std::string config;
  bool daemon_wide = true;
  for (const auto& line : read_lines(world.config_file())) {
    if (!line.empty() && line[0] == '[')
      daemon_wide = line == "[daemon]" || line == "[keys]" || line == "[audit]";
    if (!daemon_wide) continue;
    config += line + "\n";
    if (line == "[daemon]")
      config += "outbox_dir = \"" + (world.dir() / "outbox").string() + "\"\n";
  }
  std::ofstream(world.config_file()) << config;
  fs::create_directories(world.dir() / "exchanges.d");
  std::ofstream(world.dir() / "exchanges.d" / (std::string(kExchange) + ".toml"))
      << "[exchange]\nsource = \"kbi-gemeenten\"\nprotocol = \"" << protocol.string()
      << "\"\n\n[export]\nmunicipality = \"Stad Gent\"\nresidence_nis = \"" << kGent
      << "\"\nstatus_dir = \"" << (world.dir() / "status").string()
      << "\"\npoll_interval_seconds = 1\n\n[schedule]\nrun_dates = [\"01-15\"]\n";
}

// municipal_expected.py's rows of the list: OUT.json and OUT.json.insz (row i's INSZ on line i).
std::vector<std::string> expected_insz(const Protocol& protocol, const fs::path& extract,
                                       const fs::path& out) {
  const ExportRules& rules = *protocol.export_rules;
  std::string command = kExpectedRows + " " + extract.string() + " " + out.string() + " --fields " +
                        join(rules.fields, ',') + " --residence " + rules.scope.residence_column +
                        "=" + kGent + " --scope " + rules.scope.column;
  if (rules.person_retention) {
    const auto today = std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now());
    command += " --retention " + rules.person_retention->date_column + ":" +
               std::to_string(rules.person_retention->months) + " --today " + format_date(today);
  }
  for (const auto& column : rules.closed_lists) {
    const ColumnDomain& domain = protocol.domains.at(column);
    command +=
        " --closed '" + column + "=" + domain.separator + "=" + join(domain.codes, '|') + "'";
  }
  const auto made = run_shell(command);
  EXPECT_EQ(made.exit_code, 0) << made.output;
  return read_lines(out.string() + ".insz");
}

TEST(MunicipalStatusXlsx, AStatusWorkbookSavedByTheEmployeeIsPublishedExactly) {
  ExchangeWorld world("e2e-status-xlsx");
  const Private scratch;
  const fs::path protocol_file = world.dir() / "template-test.toml";
  write_template_exchange(world, protocol_file);
  auto protocol = load_protocol(protocol_file);
  ASSERT_TRUE(protocol && protocol->export_rules) << protocol.error().describe();
  const std::vector<std::string>& codes = protocol->export_rules->status_codes;
  ASSERT_GE(codes.size(), 3u);

  const fs::path extract = scratch.dir / "kbi-gemeenten.csv";
  const auto made = run_shell(std::string(KBIX_GEN_EXE) + " --gemeenten " + extract.string() +
                              " --people 3000 --seed 1515");
  ASSERT_EQ(made.exit_code, 0) << made.output;
  world.add_personal_numbers_of(extract);
  fs::create_directories(world.inbox_dir() / "kbi-gemeenten");
  fs::copy_file(extract, world.inbox_dir() / "kbi-gemeenten" / "kbi-gemeenten.csv");
  const auto insz = expected_insz(*protocol, extract, scratch.dir / "expected.json");
  ASSERT_GT(insz.size(), 10u);

  Daemon daemon(world);
  const auto started = world.kbix(std::string("run start ") + kExchange);
  ASSERT_EQ(started.exit_code, 0) << started.output;
  RunRecord run;
  ASSERT_TRUE(eventually(
      [&] {
        auto store = RunStore::open(world.state_dir() / "runs.sqlite3");
        if (!store) return false;
        auto runs = store->list();
        if (!runs || runs->empty() || runs->front().state != RunState::placed) return false;
        run = runs->front();
        return true;
      },
      std::chrono::seconds(120)))
      << read_file(daemon.log_file());
  const fs::path list = run.facts.value("outbox_file", "");
  ASSERT_TRUE(fs::exists(list)) << list;
  const auto released = world.kbix("export password " + run.id + " --channel sms");
  ASSERT_EQ(released.exit_code, 0) << released.output;
  const fs::path password = scratch.dir / "password.txt";
  std::ofstream(password) << released.output.substr(0, released.output.find('\n'));

  // The employee's workbook: a status for every second person.
  const fs::path filled = scratch.dir / "Status Gent.XLSX";
  const auto saved = run_shell(kFillIn + " " + list.string() + " " + password.string() + " '" +
                               filled.string() + "' '" + join(codes, ',') + "'");
  ASSERT_EQ(saved.exit_code, 0) << saved.output;
  std::vector<std::string> want = {"insz;status;datum_ontvangen"};
  std::istringstream rows(saved.output);
  for (std::string line; std::getline(rows, line);) {
    const auto semicolon = line.find(';');
    want.push_back(insz.at(std::stoul(line.substr(0, semicolon))) + ";" +
                   line.substr(semicolon + 1) + ";");
  }
  ASSERT_GT(want.size(), 5u);

  const fs::path inbox = world.inbox_dir() / (std::string("status-") + kExchange);
  ASSERT_TRUE(eventually([&] { return fs::exists(inbox); }, std::chrono::seconds(30)));
  fs::copy_file(filled, inbox / filled.filename());
  ASSERT_TRUE(eventually([&] { return count_audit_events(world, "export.status_imported") == 1; },
                         std::chrono::seconds(30)))
      << read_file(daemon.log_file());
  EXPECT_FALSE(fs::exists(inbox / filled.filename()));
  const auto published = files_under(world.dir() / "status");
  ASSERT_EQ(published.size(), 1u);
  auto lines = read_lines(published.front());
  ASSERT_EQ(lines.size(), want.size());
  for (std::size_t i = 0; i < lines.size(); ++i) {
    // The date received is today's; the rest is exactly what the employee filled in.
    const std::string without_date =
        i == 0 ? lines[i] : lines[i].substr(0, lines[i].rfind(';') + 1);
    EXPECT_EQ(without_date, want[i]) << "line " << i;
  }
  fs::remove(published.front());  // it holds INSZ: the test's to take away

  // Refused whole: the list itself sent back (still password-protected), and the filled-in
  // workbook with one status changed to a value outside the closed list.
  fs::copy_file(list, inbox / "terug-met-wachtwoord.xlsx");
  const auto edited = run_shell("cd '" + scratch.dir.string() +
                                "' && mkdir bad && cd bad && /usr/bin/python3 -c \"import openpyxl,"
                                "sys; wb=openpyxl.load_workbook(sys.argv[1]); ws=wb.worksheets[0];"
                                " ws.cell(row=2, column=ws.max_column, value='misschien');"
                                " wb.save('bad.xlsx')\" '" +
                                filled.string() + "'");
  ASSERT_EQ(edited.exit_code, 0) << edited.output;
  fs::copy_file(scratch.dir / "bad" / "bad.xlsx", inbox / "onbekende-status.xlsx");
  ASSERT_TRUE(eventually([&] { return count_audit_events(world, "export.status_refused") == 2; },
                         std::chrono::seconds(30)))
      << read_file(daemon.log_file());
  EXPECT_TRUE(fs::exists(inbox / "terug-met-wachtwoord.xlsx.refused"));
  EXPECT_TRUE(fs::exists(inbox / "onbekende-status.xlsx.refused"));
  EXPECT_TRUE(files_under(world.dir() / "status").empty()) << "a refused file publishes nothing";
  std::string audit;
  for (const auto& file : files_under(world.state_dir() / "audit")) audit += read_file(file);
  EXPECT_NE(audit.find("status.encrypted_workbook"), std::string::npos);
  EXPECT_NE(audit.find("status.unknown_status"), std::string::npos);
  EXPECT_EQ(audit.find("misschien"), std::string::npos) << "a refusal never echoes a cell";
  for (const auto& file : files_under(inbox)) fs::remove(file);
  EXPECT_EQ(daemon.stop(), 0);
  EXPECT_TRUE(world.personal_data_found().empty()) << join(world.personal_data_found(), '\n');
}

}  // namespace
}  // namespace kbix::test
