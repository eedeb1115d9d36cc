#include "office_test_support.hpp"

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "support/temp_dir.hpp"

namespace kbix::office::test {

void OfficeScratch::SetUp() {
  dir_ = kbix::test::make_temp_dir("kbix-office");
  work_ = dir_ / "work";
  std::filesystem::create_directory(work_);
}

void OfficeScratch::TearDown() {
  std::filesystem::remove_all(dir_);
}

Table synthetic_table() {
  Table table;
  table.header = {"rijksregisternummer", "voornaam", "naam", "telefoon", "opmerking", "gemeente"};
  table.rows = {
      {"00010112345", "Voorbeeld", "Een", "0470 12 34 56", "=1+1", "Genk"},
      {"01023054321", "Élodie", "Voorbeeld-Twee", "+32 470 98 76 54", "-5", "Sint-Pieters-Leeuw"},
      {"00000000097", "Zoë", "Voorbeeld Drie", "0032470111222", "@SUM(A1:A2)", "Wetteren"},
      {"09123100012", "Ñandú", "Voorbeeld Vier", "", "\tlinks ingesprongen", "Gent"},
      {"85073003328", "Çağrı", "Voorbeeld Vijf", "011 22 33 44", "regel een\nregel twee", "Liège"},
  };
  return table;
}

Outcome run(const std::string& command) {
  Outcome outcome;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return outcome;
  std::array<char, 4096> buffer{};
  while (const std::size_t n = std::fread(buffer.data(), 1, buffer.size(), pipe))
    outcome.output.append(buffer.data(), n);
  const int status = ::pclose(pipe);
  outcome.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return outcome;
}

void write_expected(const Table& table, const std::filesystem::path& file) {
  nlohmann::json rows = nlohmann::json::array();
  rows.push_back(table.header);
  for (const auto& row : table.rows) rows.push_back(row);
  std::ofstream(file) << rows.dump();
}

namespace {
// Debian's interpreter: the Debian packages msoffcrypto-tool and openpyxl are installed for it.
std::string oracle() {
  return std::string("/usr/bin/python3 ") + KBIX_OFFICE_ORACLE;
}
std::string quoted(const std::filesystem::path& path) {
  return "'" + path.string() + "'";
}
}  // namespace

Outcome oracle_agile(const std::filesystem::path& file, const Table& expected,
                     std::string_view password, const std::filesystem::path& scratch) {
  const auto expected_file = scratch / "expected.json";
  const auto password_file = scratch / "password.txt";
  write_expected(expected, expected_file);
  std::ofstream(password_file) << password;
  std::filesystem::permissions(
      password_file, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  auto outcome = run(oracle() + " agile " + quoted(file) + " " + quoted(expected_file) + " " +
                     quoted(password_file));
  std::filesystem::remove(password_file);
  return outcome;
}

Outcome oracle_xlsx(const std::filesystem::path& file, const Table& expected,
                    const std::filesystem::path& scratch) {
  const auto expected_file = scratch / "expected.json";
  write_expected(expected, expected_file);
  return run(oracle() + " xlsx " + quoted(file) + " " + quoted(expected_file));
}

Outcome oracle_flip(const std::filesystem::path& file, const std::filesystem::path& out,
                    std::string_view stream, std::size_t offset) {
  return run(oracle() + " flip " + quoted(file) + " " + quoted(out) + " '" + std::string(stream) +
             "' " + std::to_string(offset));
}

}  // namespace kbix::office::test
