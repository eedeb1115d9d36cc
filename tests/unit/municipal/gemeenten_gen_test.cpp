// kbix-gen's kbi-gemeenten extracts: deterministic, spread over five municipalities, with the
// awkward values the lists and workbooks must survive.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "gemeenten.hpp"
#include "gemeenten_oracle.hpp"
#include "kbix/core/protocol.hpp"
#include "support/temp_dir.hpp"

namespace {

namespace fs = std::filesystem;

std::vector<std::string> shipped_columns() {
  auto protocol = kbix::load_protocol(KBIX_SOURCE_DIR "/config/protocols/genk-art20-2021.toml");
  EXPECT_TRUE(protocol) << protocol.error().describe();
  return protocol ? protocol->extract_columns : std::vector<std::string>{};
}

std::string generate(const kbix::synthetic::GemeentenOptions& options,
                     const std::vector<std::string>& columns = shipped_columns()) {
  std::ostringstream out;
  auto counts = kbix::synthetic::write_gemeenten_extract(out, columns, options);
  EXPECT_TRUE(counts) << counts.error().describe();
  return out.str();
}

std::string read(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(GemeentenGenerator, TheSameSeedGivesTheSameBytes) {
  kbix::synthetic::GemeentenOptions options;
  options.people = 2000;
  options.seed = 5;
  options.invalid_rate = 0.02;
  options.duplicate_rate = 0.02;
  const std::string first = generate(options);
  EXPECT_EQ(generate(options), first);
  options.seed = 6;
  EXPECT_NE(generate(options), first);
}

TEST(GemeentenGenerator, KbixGenWritesTheSameFileForTheSameSeed) {
  const fs::path dir = kbix::test::make_temp_dir("kbix-gen-gemeenten");
  auto run = [&](const std::string& name, int seed) {
    const std::string command = std::string(KBIX_GEN) + " --gemeenten " + (dir / name).string() +
                                " --people 500 --seed " + std::to_string(seed) +
                                " --invalid-rate 0.02 --duplicate-rate 0.02 2>/dev/null";
    EXPECT_EQ(std::system(command.c_str()), 0) << command;
    return read(dir / name);
  };
  const std::string a = run("a.csv", 3);
  EXPECT_EQ(run("b.csv", 3), a);
  EXPECT_NE(run("c.csv", 4), a);
  EXPECT_EQ(kbix::test::parse_semicolon_csv(a).size(), 501u);
  fs::remove_all(dir);
}

TEST(GemeentenGenerator, KnowsEveryColumnOfTheFourProtocolsAndNoOther) {
  for (const char* file : {"genk-art20-2021.toml", "template-participatie-netwerktraject.toml",
                           "wetteren-amif507-2023.toml", "sint-pieters-leeuw-amif507-2021.toml"}) {
    auto protocol = kbix::load_protocol(std::string(KBIX_SOURCE_DIR "/config/protocols/") + file);
    ASSERT_TRUE(protocol);
    EXPECT_EQ(protocol->extract_columns, kbix::synthetic::gemeenten_columns()) << file;
  }
  std::ostringstream out;
  auto unknown = kbix::synthetic::write_gemeenten_extract(out, {"insz", "geboorteland"}, {});
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, "gen.unknown_column");
}

TEST(GemeentenGenerator, PeopleLiveInFiveMunicipalitiesWithAwkwardValues) {
  kbix::synthetic::GemeentenOptions options;
  options.people = 5000;
  options.seed = 11;
  options.invalid_rate = 0.04;
  options.duplicate_rate = 0.03;
  const auto rows = kbix::test::parse_semicolon_csv(generate(options));
  const auto& header = rows.front();
  EXPECT_EQ(header, shipped_columns());
  auto at = [&](const std::string& column) {
    return static_cast<std::size_t>(std::find(header.begin(), header.end(), column) -
                                    header.begin());
  };
  std::map<std::string, int> residents;
  int leading_zero_phones = 0, formula_like = 0, invalid = 0, dated = 0;
  std::set<std::string> seen;
  int repeats = 0;
  for (std::size_t r = 1; r < rows.size(); ++r) {
    const auto& row = rows[r];
    ASSERT_EQ(row.size(), header.size()) << "row " << r;
    ++residents[row[at("woonplaats_nis")]];
    if (row[at("telefoon")].rfind("04", 0) == 0) ++leading_zero_phones;
    for (const auto& cell : row) {
      if (!cell.empty() && (cell[0] == '=' || cell[0] == '+' || cell[0] == '@' || cell[0] == '-'))
        ++formula_like;
    }
    if (!kbix::test::independently_valid_insz(row[at("insz")])) {
      ++invalid;
    } else if (!seen.insert(row[at("insz")]).second) {
      ++repeats;
    }
    if (!row[at("datum_attest")].empty()) ++dated;
  }
  EXPECT_EQ(rows.size(), 5001u);
  for (const char* nis : {"71016", "42025", "23077", "44021", "24062"}) {
    EXPECT_GT(residents[nis], 700) << nis;
  }
  EXPECT_GT(leading_zero_phones, 3000);
  EXPECT_GT(formula_like, 100);
  EXPECT_NEAR(invalid, 200, 60);
  EXPECT_NEAR(repeats, 150, 50);
  EXPECT_GT(dated, 1000);
}

}  // namespace
