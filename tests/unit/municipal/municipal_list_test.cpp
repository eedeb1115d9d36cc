// Each municipal list holds exactly its protocol's fields (art. 3) for exactly its people
// (invariant 14), compared with rows computed independently from the same synthetic extract.
#include "kbix/municipal/municipal_list.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "gemeenten.hpp"
#include "gemeenten_oracle.hpp"
#include "support/temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
using namespace std::chrono;
using kbix::municipal::ListRequest;

const std::string kProtocols = KBIX_SOURCE_DIR "/config/protocols/";
const sys_days kToday{2026y / December / 2};

// Art. 3 of each protocol, written out from the texts.
const std::vector<std::string> kGenkFields = {"insz", "inburgeringscontract_getekend",
                                              "attest_behaald"};
const std::vector<std::string> kAmifFields = {
    "voornaam", "naam",  "straat",      "huisnummer",        "postcode", "gemeente",
    "telefoon", "email", "contacttaal", "niveau_nederlands", "status_mo"};
const std::vector<std::string> kTemplateFields = {
    "naam",      "voornaam",   "straat", "huisnummer",  "postcode",
    "gemeente",  "telefoon",   "email",  "contacttaal", "niveau_nederlands",
    "status_mo", "interesses", "noden"};
// Template art. 3: "(1) buddy, ... (11) nood aan gratis activiteit. Ook kan 'geen' ..."
const std::set<std::string> kInterests = {"buddy",
                                          "Nederlands oefenen",
                                          "iets leren/cursus",
                                          "informeel participeren",
                                          "cultuur/kunst/creativiteit",
                                          "sport en beweging",
                                          "stage/voorbereiden op werk",
                                          "vrijwilligerswerk",
                                          "geen"};
const std::set<std::string> kNeeds = {"nood aan kinderopvang", "nood aan gezinsactiviteit",
                                      "nood aan gratis activiteit", "geen"};
const std::vector<std::string> kFilterColumns = {"woonplaats_nis", "deelname_traject",
                                                 "toestemming", "datum_attest"};

kbix::Protocol load(const std::string& name) {
  auto protocol = kbix::load_protocol(kProtocols + name);
  EXPECT_TRUE(protocol) << protocol.error().describe();
  return protocol ? *protocol : kbix::Protocol{};
}

std::string read(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

class MunicipalListTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = kbix::test::make_temp_dir("kbix-municipal"); }
  void TearDown() override { fs::remove_all(dir_); }

  // A synthetic extract (kbix-gen's library) with the shipped extract columns.
  fs::path generate(std::uint64_t people, std::uint64_t seed) {
    kbix::synthetic::GemeentenOptions options;
    options.people = people;
    options.seed = seed;
    options.invalid_rate = 0.03;
    options.duplicate_rate = 0.03;
    options.bad_value_rate = 0.02;
    const fs::path file = dir_ / "kbi-gemeenten.csv";
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    auto counts = kbix::synthetic::write_gemeenten_extract(
        out, load("genk-art20-2021.toml").extract_columns, options);
    EXPECT_TRUE(counts) << counts.error().describe();
    return file;
  }

  // An extract written by hand: the shipped header, then `rows` (each a full row of 20 cells).
  fs::path write_rows(const std::vector<std::vector<std::string>>& rows) {
    const auto columns = load("genk-art20-2021.toml").extract_columns;
    const fs::path file = dir_ / "hand.csv";
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    for (std::size_t i = 0; i < columns.size(); ++i) out << (i ? ";" : "") << columns[i];
    out << "\n";
    for (const auto& row : rows) {
      for (std::size_t i = 0; i < row.size(); ++i) out << (i ? ";" : "") << row[i];
      out << "\n";
    }
    return file;
  }

  kbix::Result<kbix::municipal::MunicipalList> list(const kbix::Protocol& protocol,
                                                    const std::string& nis, const fs::path& file,
                                                    sys_days today = kToday) {
    const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    EXPECT_GE(fd, 0);
    auto result = kbix::municipal::make_municipal_list(protocol, ListRequest{nis, today}, fd,
                                                       file.filename().string());
    ::close(fd);
    return result;
  }

  // The list of `protocol` for `rules.nis` equals the oracle's, row for row, and the counts add up.
  void expect_as_oracle(const std::string& protocol_file, const kbix::test::OracleRules& rules,
                        const fs::path& extract) {
    const auto protocol = load(protocol_file);
    auto made = list(protocol, rules.nis, extract);
    ASSERT_TRUE(made) << made.error().describe();
    const auto expected = kbix::test::expected_list(read(extract), rules);
    EXPECT_EQ(made->table.header, rules.fields) << protocol_file;
    EXPECT_EQ(made->table.rows, expected.rows) << protocol_file;
    EXPECT_EQ(made->insz, expected.insz) << protocol_file;
    const auto& counts = made->counts;
    EXPECT_EQ(counts.rows, expected.rows_read);
    EXPECT_EQ(counts.invalid, expected.invalid);
    EXPECT_EQ(counts.duplicates, expected.duplicates);
    EXPECT_EQ(counts.out_of_scope, expected.out_of_scope);
    EXPECT_EQ(counts.left_out_for_retention, expected.retention);
    EXPECT_EQ(counts.invalid_values, expected.invalid_values);
    EXPECT_EQ(counts.in_scope, made->table.rows.size());
    EXPECT_EQ(counts.in_scope + counts.out_of_scope + counts.left_out_for_retention +
                  counts.invalid_values,
              counts.rows - counts.invalid - counts.duplicates)
        << "every valid person is in the list or left out for one counted reason";
    EXPECT_GT(counts.in_scope, 0u);
    EXPECT_GT(counts.out_of_scope, 0u);
    EXPECT_GT(counts.invalid, 0u);
    EXPECT_GT(counts.duplicates, 0u);
    for (const auto& filter : kFilterColumns) {
      EXPECT_EQ(std::count(made->table.header.begin(), made->table.header.end(), filter), 0)
          << filter << " is a filter column of " << protocol_file << ", never exported";
    }
    for (const auto& row : made->table.rows) ASSERT_EQ(row.size(), rules.fields.size());
  }

  fs::path dir_;
};

TEST_F(MunicipalListTest, GenkGetsArticle3ForItsResidentsOnly) {
  const auto extract = generate(3000, 7);
  kbix::test::OracleRules rules;
  rules.fields = kGenkFields;
  rules.scope_column = "woonplaats_nis";
  rules.scope_is_residence = true;
  rules.nis = "71016";
  expect_as_oracle("genk-art20-2021.toml", rules, extract);
}

TEST_F(MunicipalListTest, TheTemplateGetsParticipantsOfItsMunicipalityWithinRetention) {
  const auto extract = generate(3000, 8);
  kbix::test::OracleRules rules;
  rules.fields = kTemplateFields;
  rules.scope_column = "deelname_traject";
  rules.residence_column = "woonplaats_nis";
  rules.retention_column = "datum_attest";
  rules.first_kept_day = "2026-06-02";  // 2 December 2026 minus 6 months
  rules.closed_lists = {{"interesses", kInterests}, {"noden", kNeeds}};
  for (const std::string nis : {"44021", "24062"}) {  // two instances: Gent, Leuven
    rules.nis = nis;
    expect_as_oracle("template-participatie-netwerktraject.toml", rules, extract);
  }
  const auto made = list(load("template-participatie-netwerktraject.toml"), "44021", extract);
  ASSERT_TRUE(made);
  EXPECT_GT(made->counts.left_out_for_retention, 0u);
  EXPECT_GT(made->counts.invalid_values, 0u);
}

TEST_F(MunicipalListTest, WetterenGetsParticipantsAndSintPietersLeeuwPeopleWhoConsented) {
  const auto extract = generate(3000, 9);
  kbix::test::OracleRules rules;
  rules.fields = kAmifFields;
  rules.scope_column = "deelname_traject";
  rules.residence_column = "woonplaats_nis";
  rules.nis = "42025";
  expect_as_oracle("wetteren-amif507-2023.toml", rules, extract);
  rules.scope_column = "toestemming";
  rules.nis = "23077";
  expect_as_oracle("sint-pieters-leeuw-amif507-2021.toml", rules, extract);
}

TEST_F(MunicipalListTest, RetentionKeepsSixMonthsToTheDayAndAnEmptyDate) {
  // insz;naam;voornaam;straat;huisnummer;postcode;gemeente;telefoon;email;woonplaats_nis;
  // contacttaal;niveau_nederlands;status_mo;contract;attest;datum_attest;deelname;toestemming;
  // interesses;noden
  auto row = [](const std::string& insz, const std::string& date) {
    return std::vector<std::string>{
        insz,   "Peeters", "Amina",         "Kerkstraat", "1",
        "9000", "Gent",    "0470 11 22 33", "",           "44021",
        "Dari", "A2",      "lopend",        "ja",         date.empty() ? "nee" : "ja",
        date,   "ja",      "nee",           "buddy",      ""};
  };
  const auto extract = write_rows({
      row("85073003328", "2026-06-02"),  // exactly 6 months before: kept
      row("85073003229", "2026-06-01"),  // one day more: left out
      row("85073003130", ""),            // no certificate date: kept
      row("85073003031", "2026-13-01"),  // not a date: left out as an invalid value
  });
  auto made = list(load("template-participatie-netwerktraject.toml"), "44021", extract);
  ASSERT_TRUE(made) << made.error().describe();
  EXPECT_EQ(made->counts.in_scope, 2u);
  EXPECT_EQ(made->counts.left_out_for_retention, 1u);
  EXPECT_EQ(made->counts.invalid_values, 1u);
  EXPECT_EQ(made->invalid_value_lines, std::vector<std::uint64_t>{5});
  EXPECT_EQ(made->insz, (std::vector<std::string>{"85073003328", "85073003130"}));
  // A day later, the first one is out as well.
  auto later =
      list(load("template-participatie-netwerktraject.toml"), "44021", extract, kToday + days{1});
  ASSERT_TRUE(later);
  EXPECT_EQ(later->counts.left_out_for_retention, 2u);
}

TEST(RetentionCutoff, IsCalendarMonthsClampedToTheEndOfAShorterMonth) {
  using kbix::municipal::retention_cutoff;
  EXPECT_EQ(retention_cutoff(sys_days{2026y / December / 2}, 6), sys_days{2026y / June / 2});
  EXPECT_EQ(retention_cutoff(sys_days{2026y / August / 31}, 6), sys_days{2026y / February / 28});
  EXPECT_EQ(retention_cutoff(sys_days{2024y / August / 31}, 6), sys_days{2024y / February / 29});
  EXPECT_EQ(retention_cutoff(sys_days{2027y / March / 15}, 6), sys_days{2026y / September / 15});
  EXPECT_EQ(retention_cutoff(sys_days{2027y / January / 31}, 14), sys_days{2025y / November / 30});
}

TEST_F(MunicipalListTest, InvalidInszAndRepeatsAreCountedByLineAndTheFirstRowWins) {
  auto row = [](const std::string& insz, const std::string& nis, const std::string& contract) {
    return std::vector<std::string>{insz, "N", "V", "S",      "1",   "3600", "Genk", "", "", nis,
                                    "",   "",  "",  contract, "nee", "",     "",     "", "", ""};
  };
  const auto extract = write_rows({
      row("85.07.30-033.28", "71016", "ja"),  // separators: the canonical digits are exported
      row("85073003329", "71016", "ja"),      // wrong check digits
      row("85073003328", "71016", "nee"),     // the same person again: the first row wins
      row("85073003229", "42025", "ja"),      // lives elsewhere
  });
  auto made = list(load("genk-art20-2021.toml"), "71016", extract);
  ASSERT_TRUE(made) << made.error().describe();
  EXPECT_EQ(made->counts.rows, 4u);
  EXPECT_EQ(made->counts.invalid, 1u);
  EXPECT_EQ(made->counts.duplicates, 1u);
  EXPECT_EQ(made->counts.out_of_scope, 1u);
  EXPECT_EQ(made->invalid_lines, std::vector<std::uint64_t>{3});
  EXPECT_EQ(made->duplicate_lines, std::vector<std::uint64_t>{4});
  ASSERT_EQ(made->table.rows.size(), 1u);
  EXPECT_EQ(made->table.rows[0], (std::vector<std::string>{"85073003328", "ja", "nee"}));
}

TEST_F(MunicipalListTest, ErrorsNameFileAndLineButNeverAValue) {
  const std::string secret = "Geheimnaam";
  const std::string insz = "85073003328";
  auto full =
      std::vector<std::string>{insz, secret, "V", "S",  "1",   "3600", "Genk", "", "", "71016",
                               "",   "",     "",  "ja", "nee", "",     "",     "", "", ""};
  auto short_row = full;
  short_row.pop_back();
  const auto genk = load("genk-art20-2021.toml");
  auto narrow = list(genk, "71016", write_rows({full, short_row}));
  ASSERT_FALSE(narrow);
  EXPECT_EQ(narrow.error().code, "schema.field_count");
  EXPECT_NE(narrow.error().message.find("hand.csv:3:"), std::string::npos)
      << narrow.error().message;

  const fs::path headerless = dir_ / "headerless.csv";
  {
    std::ofstream out(headerless);
    for (std::size_t i = 0; i < full.size(); ++i) out << (i ? ";" : "") << full[i];
    out << "\n";
  }
  auto no_header = list(genk, "71016", headerless);
  ASSERT_FALSE(no_header);
  EXPECT_EQ(no_header.error().code, "schema.no_header");

  const fs::path open_quote = dir_ / "quote.csv";
  std::ofstream(open_quote) << read(write_rows({full})) << insz << ";\"" << secret << ";x\n";
  auto quote = list(genk, "71016", open_quote);
  ASSERT_FALSE(quote);
  EXPECT_EQ(quote.error().code, "csv.unterminated_quote");

  for (const auto* error : {&narrow.error(), &no_header.error(), &quote.error()}) {
    EXPECT_EQ(error->message.find(secret), std::string::npos) << error->message;
    EXPECT_EQ(error->message.find(insz), std::string::npos) << error->message;
    EXPECT_EQ(error->message.find("71016"), std::string::npos) << error->message;
  }
}

TEST_F(MunicipalListTest, AListNeedsItsNisCodeAndAProtocolThatFitsTheExtract) {
  const auto extract = write_rows({});
  for (const char* nis : {"", "7101", "71O16", "710166"}) {
    auto made = list(load("genk-art20-2021.toml"), nis, extract);
    ASSERT_FALSE(made) << nis;
    EXPECT_EQ(made.error().code, "municipal.residence");
  }
  auto roundtrip = list(load("vdab-derde-pijler-2023.toml"), "71016", extract);
  ASSERT_FALSE(roundtrip);
  EXPECT_EQ(roundtrip.error().code, "municipal.not_export");
  auto by_hand = load("template-participatie-netwerktraject.toml");
  by_hand.export_rules->fields.push_back("geboorteland");  // not checked by a loader
  auto unknown = list(by_hand, "44021", extract);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, "municipal.protocol");
  by_hand = load("template-participatie-netwerktraject.toml");
  by_hand.domains.erase("noden");
  unknown = list(by_hand, "44021", extract);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, "municipal.protocol");
}

TEST_F(MunicipalListTest, ValuesLeaveAsTheyAreAndTheDescriptorOffsetStays) {
  auto row = [](const std::string& insz, const std::string& naam, const std::string& phone) {
    return std::vector<std::string>{insz,  naam, "V",     "S", "1", "9230", "Wetteren",
                                    phone, "",   "42025", "",  "",  "",     "ja",
                                    "nee", "",   "ja",    "",  "",  ""};
  };
  const auto extract = write_rows({row("85073003328", "=1+1", "0470 12 34 56"),
                                   row("85073003229", "Öztürk", "+32 470 12 34 56")});
  const int fd = ::open(extract.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::lseek(fd, 7, SEEK_SET), 7);
  auto made = kbix::municipal::make_municipal_list(load("wetteren-amif507-2023.toml"),
                                                   ListRequest{"42025", kToday}, fd, "x.csv");
  EXPECT_EQ(::lseek(fd, 0, SEEK_CUR), 7) << "pread leaves the offset alone";
  ::close(fd);
  ASSERT_TRUE(made) << made.error().describe();
  ASSERT_EQ(made->table.rows.size(), 2u);
  // The workbook neutralises formulas (office module); the list itself keeps the values exact.
  EXPECT_EQ(made->table.rows[0][1], "=1+1");
  EXPECT_EQ(made->table.rows[0][6], "0470 12 34 56");
  EXPECT_EQ(made->table.rows[1][1], "Öztürk");
  EXPECT_EQ(made->table.rows[1][6], "+32 470 12 34 56");
}

}  // namespace
