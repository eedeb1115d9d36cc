// Shared pieces of the office tests: the synthetic list and the independent readers.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <string_view>

#include "kbix/office/password.hpp"
#include "kbix/office/workbook.hpp"

namespace kbix::office::test {

// A small list of SYNTHETIC people ("Voorbeeld …"): INSZ-like strings with leading zeros, a
// phone 0470…, formula-looking cells (=1+1, +32…, -5, @SUM, a leading tab), accents, an empty cell.
Table synthetic_table();

// A scratch directory `dir_` with an empty private work directory `work_` inside, removed after.
class OfficeScratch : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;
  std::filesystem::path dir_;
  std::filesystem::path work_;
};

struct Outcome {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

// Runs a shell command line, capturing its output.
Outcome run(const std::string& command);

// Writes `table` as the oracle's EXPECTED.json.
void write_expected(const Table& table, const std::filesystem::path& file);

// office_oracle.py agile FILE EXPECTED PASSWORD_FILE (the password goes through a 0600 file).
Outcome oracle_agile(const std::filesystem::path& file, const Table& expected,
                     std::string_view password, const std::filesystem::path& scratch);
// office_oracle.py xlsx FILE EXPECTED
Outcome oracle_xlsx(const std::filesystem::path& file, const Table& expected,
                    const std::filesystem::path& scratch);
// office_oracle.py flip FILE OUT STREAM OFFSET
Outcome oracle_flip(const std::filesystem::path& file, const std::filesystem::path& out,
                    std::string_view stream, std::size_t offset);

}  // namespace kbix::office::test
