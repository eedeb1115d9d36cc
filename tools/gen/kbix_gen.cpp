// kbix-gen: synthetic KBI extracts (and matching VDAB returns) for tests, the demo and benchmarks.
// Deterministic from --seed; never real data.
#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "gemeenten.hpp"
#include "kbix/core/protocol.hpp"
#include "kbix/domain/csv.hpp"
#include "synthetic.hpp"

namespace {

struct Options {
  std::uint64_t people = 1000;
  std::uint64_t seed = 1;
  std::string extract_file;
  std::string return_file;
  std::string gemeenten_file;
  std::string as_of;  // gemeenten: the day certificate dates are spread before
  std::string protocol_file = KBIX_DEFAULT_PROTOCOL;
  double invalid_rate = 0.0;
  double duplicate_rate = 0.0;
  double empty_rate = 0.05;
  double unknown_rate = 0.05;
  double bis_rate = 0.03;
  std::uint64_t vdab_seed = 11;
  double bad_value_rate = 0.005;
};

double unit(std::uint64_t hash) {
  return static_cast<double>(hash >> 11) * 0x1.0p-53;
}

// --gemeenten: a kbi-gemeenten extract, with the extract columns of the protocol.
int generate_gemeenten(const Options& options) {
  auto protocol = kbix::load_protocol(options.protocol_file);
  if (!protocol) {
    std::cerr << "kbix-gen: " << protocol.error().describe() << "\n";
    return 2;
  }
  kbix::synthetic::GemeentenOptions gemeenten;
  gemeenten.people = options.people;
  gemeenten.seed = options.seed;
  gemeenten.invalid_rate = options.invalid_rate;
  gemeenten.duplicate_rate = options.duplicate_rate;
  gemeenten.bad_value_rate = options.bad_value_rate;
  if (!options.as_of.empty()) {
    const auto day = kbix::parse_date(options.as_of);
    if (!day) {
      std::cerr << "kbix-gen: --as-of must be a date like 2026-12-01\n";
      return 2;
    }
    gemeenten.as_of = *day;
  }
  std::ofstream out(options.gemeenten_file, std::ios::binary | std::ios::trunc);
  if (!out) {
    std::cerr << "kbix-gen: cannot write " << options.gemeenten_file << "\n";
    return 1;
  }
  auto counts = kbix::synthetic::write_gemeenten_extract(out, protocol->extract_columns, gemeenten);
  if (!counts) {
    std::cerr << "kbix-gen: " << counts.error().describe() << "\n";
    return 2;
  }
  if (!out.flush()) {
    std::cerr << "kbix-gen: write failed (disk full?)\n";
    return 1;
  }
  std::cerr << "kbix-gen: " << counts->rows << " rows (" << counts->invalid << " invalid INSZ, "
            << counts->duplicates << " duplicates) -> " << options.gemeenten_file << "\n";
  return 0;
}

int generate(const Options& options) {
  if (!options.gemeenten_file.empty()) return generate_gemeenten(options);
  auto protocol = kbix::load_protocol(options.protocol_file);
  if (!protocol) {
    std::cerr << "kbix-gen: " << protocol.error().describe() << "\n";
    return 2;
  }
  std::ofstream extract(options.extract_file, std::ios::binary | std::ios::trunc);
  if (!extract) {
    std::cerr << "kbix-gen: cannot write " << options.extract_file << "\n";
    return 1;
  }
  std::ofstream returned;
  if (!options.return_file.empty()) {
    returned.open(options.return_file, std::ios::binary | std::ios::trunc);
    if (!returned) {
      std::cerr << "kbix-gen: cannot write " << options.return_file << "\n";
      return 1;
    }
  }
  kbix::CsvWriter extract_writer(extract);
  kbix::CsvWriter return_writer(returned);
  extract_writer.write_row(protocol->extract_columns);
  if (returned.is_open()) return_writer.write_row(protocol->return_columns);

  std::vector<std::string> previous;  // INSZ already written, for duplicates
  std::uint64_t written = 0, invalid = 0, duplicates = 0, returned_rows = 0;
  for (std::uint64_t i = 0; i < options.people; ++i) {
    const std::uint64_t h = kbix::synthetic::mix(options.seed * 7919 + i);
    std::string insz;
    const double roll = unit(h);
    if (roll < options.invalid_rate) {
      insz = kbix::synthetic::make_invalid_insz(options.seed, i);
      ++invalid;
    } else if (roll < options.invalid_rate + options.duplicate_rate && !previous.empty()) {
      insz = previous[kbix::synthetic::mix(h) % previous.size()];
      ++duplicates;
    } else {
      insz = kbix::synthetic::make_insz(options.seed, i, options.bis_rate);
      if (previous.size() < 100000) previous.push_back(insz);
      if (returned.is_open()) {
        auto vdab = kbix::synthetic::vdab_fields(options.vdab_seed, insz, options.unknown_rate,
                                                 options.empty_rate);
        if (vdab) {
          return_writer.field(insz);
          for (const auto& value : *vdab) return_writer.field(value);
          return_writer.end_row();
          ++returned_rows;
        }
      }
    }
    extract_writer.field(insz);
    for (const auto& value : kbix::synthetic::kbi_profile(options.seed, i, options.empty_rate)) {
      extract_writer.field(value);
    }
    extract_writer.end_row();
    ++written;
  }
  extract.flush();
  if (!extract || (returned.is_open() && !returned.flush())) {
    std::cerr << "kbix-gen: write failed (disk full?)\n";
    return 1;
  }
  std::cerr << "kbix-gen: " << written << " rows (" << invalid << " invalid INSZ, " << duplicates
            << " duplicates) -> " << options.extract_file;
  if (returned.is_open())
    std::cerr << "; " << returned_rows << " returned -> " << options.return_file;
  std::cerr << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "kbix-gen - synthetic KBI extracts (and VDAB returns) for tests, demos and benchmarks.\n"
      "Deterministic: the same --seed gives the same file. The people are invented: INSZ numbers\n"
      "pass the checksum (both centuries, some BIS) but belong to no one.",
      "kbix-gen"};
  Options options;
  app.add_option("--people", options.people, "rows to write")->capture_default_str();
  app.add_option("--seed", options.seed, "seed of everything random")->capture_default_str();
  auto* extract = app.add_option("--extract", options.extract_file, "KBI extract to write (CSV)");
  auto* gemeenten = app.add_option(
      "--gemeenten", options.gemeenten_file,
      "instead: a kbi-gemeenten extract to write (CSV; people in Genk, Wetteren, "
      "Sint-Pieters-Leeuw, Gent and Leuven; columns of --protocol, by default the Genk protocol)");
  extract->excludes(gemeenten);
  app.add_option("--as-of", options.as_of,
                 "gemeenten: certificate dates fall in the 30 months before this day "
                 "(YYYY-MM-DD; default 2026-12-01, so the file does not depend on today)");
  app.add_option("--bad-value-rate", options.bad_value_rate,
                 "gemeenten: share of rows with an interest outside the closed list or a "
                 "malformed certificate date")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  app.add_option(
      "--return", options.return_file,
      "also write the VDAB return for the valid, unique people (as the simulator would)");
  app.add_option("--protocol", options.protocol_file, "protocol file with the column lists")
      ->capture_default_str();
  auto* protocol_option = app.get_option("--protocol");
  auto rate = CLI::Range(0.0, 1.0);
  app.add_option("--invalid-rate", options.invalid_rate, "share of rows with a wrong INSZ")
      ->check(rate)
      ->capture_default_str();
  app.add_option("--duplicate-rate", options.duplicate_rate, "share of rows repeating an INSZ")
      ->check(rate)
      ->capture_default_str();
  app.add_option("--empty-rate", options.empty_rate, "share of empty profile values")
      ->check(rate)
      ->capture_default_str();
  app.add_option("--unknown-rate", options.unknown_rate, "share of people unknown to VDAB")
      ->check(rate)
      ->capture_default_str();
  app.add_option("--bis-rate", options.bis_rate, "share of BIS numbers")
      ->check(rate)
      ->capture_default_str();
  app.add_option("--vdab-seed", options.vdab_seed, "seed of VDAB's answers (as the simulator)")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  if (options.extract_file.empty() && options.gemeenten_file.empty()) {
    std::cerr << "kbix-gen: give --extract FILE (KBI extract for VDAB) or --gemeenten FILE\n";
    return 2;
  }
  if (!options.gemeenten_file.empty() && protocol_option->count() == 0) {
    options.protocol_file = KBIX_GEMEENTEN_PROTOCOL;
  }
  return generate(options);
}
