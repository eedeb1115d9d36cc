// municipal_bench: the way back of the template protocol at scale, for timing from outside
// (/usr/bin/time -v; docs/benchmarks.md). Prints each phase's wall and CPU time.
//   municipal_bench ROWS WORK_DIR KEYS_DIR [wide|xlsx]
// ROWS synthetic people get a row reference; the map is sealed and loaded again (KEYS_DIR: the
// example keys, keys-example/make-keys); a status return of ROWS rows (two columns, or with
// "wide" the list's ten other columns kept as exported; "xlsx": those as an Excel workbook
// written by kbix's own list writer) is read and the statuses published.
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

#include "kbix/municipal/row_references.hpp"
#include "kbix/municipal/status_return.hpp"
#include "kbix/office/workbook.hpp"

namespace {

// The i-th synthetic INSZ (valid checksum; distinct for i below 16.7 million).
std::string synthetic_insz(std::size_t i) {
  const std::size_t day = 1 + i % 28, month = 1 + (i / 28) % 12, year = 50 + (i / 336) % 50;
  const std::size_t serial = 1 + (i / 16'800) % 997;
  const std::size_t nine = ((year * 100 + month) * 100 + day) * 1000 + serial;
  const std::size_t check = 97 - nine % 97;
  return std::to_string(nine) + (check < 10 ? "0" : "") + std::to_string(check);
}

kbix::Sealer sealer(const std::filesystem::path& keys) {
  kbix::SealerConfig config;
  config.signing_certificate = keys / "agii-sign-rsa.crt";
  config.signing_key = keys / "agii-sign-rsa.key";
  config.recipient_certificates = {keys / "agii-enc-rsa.crt"};
  auto made = kbix::Sealer::create(config);
  if (!made) throw std::runtime_error(made.error().describe());
  return std::move(*made);
}

kbix::Opener opener(const std::filesystem::path& keys) {
  kbix::OpenerConfig config;
  config.our_certificate = keys / "agii-enc-rsa.crt";
  config.our_key = keys / "agii-enc-rsa.key";
  config.pinned_signer_certificates = {keys / "agii-sign-rsa.crt"};
  auto made = kbix::Opener::create(config);
  if (!made) throw std::runtime_error(made.error().describe());
  return std::move(*made);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4 && argc != 5) {
    std::cerr << "usage: municipal_bench ROWS WORK_DIR KEYS_DIR [wide|xlsx]\n";
    return 2;
  }
  const auto rows = static_cast<std::size_t>(std::stoull(argv[1]));
  const std::filesystem::path work = argv[2];
  const std::filesystem::path keys = argv[3];
  const std::string mode = argc == 5 ? argv[4] : "";
  const bool xlsx = mode == "xlsx";
  const bool wide = mode == "wide";
  const std::filesystem::path returned = work / (xlsx ? "return.xlsx" : "return.csv");
  std::filesystem::create_directories(work);
  using Clock = std::chrono::steady_clock;
  // Wall and process CPU time of each phase (the machine is shared: CPU time compares).
  auto phase = [last = Clock::now(), last_cpu = std::clock()](const char* name) mutable {
    const auto now = Clock::now();
    const std::clock_t cpu = std::clock();
    std::cout << name << ": "
              << std::chrono::duration_cast<std::chrono::milliseconds>(now - last).count()
              << " ms (CPU " << (cpu - last_cpu) * 1000 / CLOCKS_PER_SEC << " ms)\n";
    last = now;
    last_cpu = cpu;
  };

  auto map = kbix::municipal::RowReferences::empty("bench").value();
  for (std::size_t i = 0; i < rows; ++i) {
    if (!map.reference_for(synthetic_insz(i))) return 1;
  }
  phase("draw references");
  if (auto saved = map.save(sealer(keys), work / "refs.p7m"); !saved) {
    std::cerr << saved.error().describe() << "\n";
    return 1;
  }
  phase("seal map");
  auto loaded = kbix::municipal::RowReferences::load(opener(keys), work / "refs.p7m", "bench");
  if (!loaded || loaded->size() != rows) {
    std::cerr << (loaded ? "size differs" : loaded.error().describe()) << "\n";
    return 1;
  }
  phase("open map");
  if (xlsx) {
    // The list's columns as kbix's writer exports them, the status filled in.
    kbix::office::Table table;
    table.header = {"voornaam", "naam",        "straat",     "postcode",   "gemeente",   "telefoon",
                    "e-mail",   "contacttaal", "niveau_nt2", "interesses", "referentie", "status"};
    for (std::size_t i = 0; i < rows; ++i) {
      const std::string n = std::to_string(i);
      table.rows.push_back({"Voorbeeld", "Persoon " + n,
                            "Voorbeeldstraat " + std::to_string(i % 200), "3600", "Genk",
                            "0470 12 34 56", "voorbeeld" + n + "@example.org", "Nederlands", "1.2",
                            "buddy, sport en beweging", *map.reference_of(synthetic_insz(i)),
                            i % 3 == 0 ? "" : "gestart"});
    }
    std::filesystem::remove(returned);
    if (auto written = kbix::office::write_workbook(table, returned); !written) {
      std::cerr << written.error().describe() << "\n";
      return 1;
    }
  } else {
    std::ofstream out(returned, std::ios::binary | std::ios::trunc);
    out << (wide ? "voornaam;naam;straat;postcode;gemeente;telefoon;e-mail;contacttaal;"
                   "niveau_nt2;interesses;referentie;status\n"
                 : "referentie;status\n");
    for (std::size_t i = 0; i < rows; ++i) {
      if (wide) {
        out << "Voorbeeld;Persoon " << i << ";Voorbeeldstraat " << i % 200
            << ";3600;Genk;0470 12 34 56;voorbeeld" << i
            << "@example.org;Nederlands;1.2;buddy, sport en beweging;";
      }
      out << *map.reference_of(synthetic_insz(i)) << ';' << (i % 3 == 0 ? "" : "gestart") << '\n';
    }
  }
  phase(xlsx ? "write return (kbix's list writer)" : "write return (not kbix)");
  kbix::municipal::StatusReturnOptions options;
  options.max_bytes = 1ULL << 30;  // measure the reader, not the limit
  auto imported = kbix::municipal::read_status_return(returned, *loaded, options);
  if (!imported) {
    std::cerr << imported.error().describe() << "\n";
    return 1;
  }
  phase("read return");
  std::filesystem::remove(work / "statuses.csv");
  if (!kbix::municipal::publish_statuses(imported->statuses, "2026-12-02", work / "statuses.csv"))
    return 1;
  phase("publish");
  std::cout << rows << " rows, " << imported->statuses.size() << " statuses, return "
            << std::filesystem::file_size(returned) << " bytes, sealed map "
            << std::filesystem::file_size(work / "refs.p7m") << " bytes\n";
  return 0;
}
