// office_bench: one protected municipal file from ROWS synthetic rows of 10 text columns, for
// timing from outside (/usr/bin/time -v; docs/benchmarks.md). Prints the phases' wall times.
//   office_bench ROWS xlsx-agile|zip-aes256 WORK_DIR OUTPUT
#include <chrono>
#include <filesystem>
#include <iostream>
#include <string>

#include "kbix/office/password.hpp"
#include "kbix/office/protected_file.hpp"

namespace {

// Obviously fake people: "Voorbeeld 17", INSZ-like 11-digit strings with leading zeros.
kbix::office::Table synthetic_rows(std::size_t rows) {
  kbix::office::Table table;
  table.header = {"rijksregisternummer",
                  "voornaam",
                  "naam",
                  "straat",
                  "postcode",
                  "gemeente",
                  "telefoon",
                  "e-mail",
                  "contacttaal",
                  "niveau_nt2"};
  table.rows.reserve(rows);
  for (std::size_t i = 0; i < rows; ++i) {
    std::string number = std::to_string(i);
    number.insert(0, 11 - std::min<std::size_t>(11, number.size()), '0');
    table.rows.push_back({number, "Voorbeeld", "Persoon " + std::to_string(i),
                          "Voorbeeldstraat " + std::to_string(i % 200), "3600", "Genk",
                          "0470 " + number.substr(5),
                          "voorbeeld" + std::to_string(i) + "@example.org", "Nederlands", "1.2"});
  }
  return table;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::cerr << "usage: office_bench ROWS xlsx-agile|zip-aes256 WORK_DIR OUTPUT\n";
    return 2;
  }
  const auto rows = static_cast<std::size_t>(std::stoull(argv[1]));
  auto profile = kbix::office::parse_file_profile(argv[2]);
  if (!profile) {
    std::cerr << profile.error().describe() << "\n";
    return 2;
  }
  using Clock = std::chrono::steady_clock;
  const auto ms = [](Clock::duration d) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  };
  const auto start = Clock::now();
  const auto table = synthetic_rows(rows);
  auto password = kbix::office::FilePassword::generate();
  if (!password) return 1;
  const auto made = Clock::now();
  auto written = kbix::office::write_protected_file(table, *profile, *password, argv[3], argv[4]);
  const auto done = Clock::now();
  if (!written) {
    std::cerr << written.error().describe() << "\n";
    return 1;
  }
  std::cerr << "rows " << rows << ", file " << std::filesystem::file_size(argv[4])
            << " bytes; make rows " << ms(made - start) << " ms, write protected file "
            << ms(done - made) << " ms\n";
  return 0;
}
