// The article 7 quality report: exact counts on a return and an extract with known defects, and
// the partner summary holds no INSZ, no value and no line number.
#include "kbix/reports/quality.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "kbix/domain/insz.hpp"
#include "kbix/domain/merge.hpp"
#include "support/temp_dir.hpp"

namespace kbix {
namespace {

using namespace std::chrono;

Protocol shipped_protocol() {
  auto protocol = load_protocol(KBIX_SOURCE_DIR "/config/protocols/vdab-derde-pijler-2023.toml");
  EXPECT_TRUE(protocol) << protocol.error().describe();
  return *protocol;
}

// A valid INSZ of a person born 1980-01-(1+i) (mod 97 check digits).
std::string person(int i) {
  char base[24];  // room for any two ints: GCC 12 with the sanitizers checks the whole range
  std::snprintf(base, sizeof base, "8001%02d%03d", 1 + i % 28, 1 + i / 28);
  const auto check = 97 - std::stoull(base) % 97;
  return std::string(base) + (check < 10 ? "0" : "") + std::to_string(check);
}

// Values every column's domain accepts (and a few free-text columns).
const std::map<std::string, std::string>& good_values() {
  static const std::map<std::string, std::string> values = {
      {"leeftijdscategorie", "25-34"},
      {"geslacht", "V"},
      {"scholingsniveau", "midden"},
      {"oudste_nationaliteit", "SYR"},
      {"datum_toeleiding_vdab", "2022-05-01"},
      {"doelgroep", "verplicht"},
      {"datum_doelgroep", "2021-03-15"},
      {"datum_aanmelding", "2021-04-01"},
      {"datum_inburgeringscontract", "2021-06-30"},
      {"kbi_regio", "Gent"},
      {"besluit_plo", "ja"},
      {"reden_besluit_plo", "werk"},
      {"ingeschat_taalleervermogen", "hoog"},
      {"hoogst_behaald_niveau_nt2", "A2"},
      {"trajecttype", "werk"},
      {"toeleiding_diplomagelijkschakeling", "nee"},
      {"resultaat_diplomagelijkschakeling", "geweigerd"},
      {"ocmw_leefloon", "nee"},
      {"verblijfsstatus", "erkend vluchteling"},
      {"eerste_inschrijving_vdab", "2018-02-01"},
      {"recentste_inschrijving_vdab", "2024-09-09"},
      {"categorie_werkzoekende", "WZUA"},
      {"status_dienstverlening", "in begeleiding"},
      {"type_acties", "opleiding|bemiddeling"},
      {"uitstroom_naar_werk", "ja"}};
  return values;
}

std::string row(const std::vector<std::string>& columns, const std::string& insz,
                const std::map<std::string, std::string>& overrides = {}) {
  std::string line;
  for (const auto& column : columns) {
    if (!line.empty()) line += ';';
    if (column == "insz") {
      line += insz;
    } else if (const auto o = overrides.find(column); o != overrides.end()) {
      line += o->second;
    } else {
      line += good_values().at(column);
    }
  }
  return line + "\n";
}

std::string header(const std::vector<std::string>& columns) {
  std::string line;
  for (const auto& c : columns) line += (line.empty() ? "" : ";") + c;
  return line + "\n";
}

struct Defective {
  std::string extract;
  std::string vdab_return;
};

Defective defective_files(const Protocol& p) {
  const auto& x = p.extract_columns;
  const auto& r = p.return_columns;
  Defective files;
  files.extract = header(x);
  files.extract += row(x, person(0), {{"geslacht", "Qz"}});                  // not in list
  files.extract += row(x, person(1), {{"datum_aanmelding", "2003-12-31"}});  // before 2004-04-01
  files.extract += row(x, person(2), {{"datum_aanmelding", "2031-01-01"}});  // after the as-of day
  files.extract += row(x, person(3), {{"datum_doelgroep", "31/12/2020"}});   // not ISO
  files.extract += row(x, person(4), {{"datum_doelgroep", "2021-02-30"}});   // no such day
  files.extract += row(x, person(5), {{"scholingsniveau", ""}, {"kbi_regio", ""}});  // empty
  files.extract += row(x, "12345678901");                                            // invalid INSZ
  files.extract += row(x, person(2));                                                // duplicate
  files.vdab_return = header(r);
  files.vdab_return += row(r, person(0), {{"uitstroom_naar_werk", "misschien"}});
  files.vdab_return += row(r, person(1), {{"eerste_inschrijving_vdab", ""}});
  files.vdab_return += row(r, person(2), {{"recentste_inschrijving_vdab", "1989-05-01"}});
  files.vdab_return += row(r, person(3), {{"categorie_werkzoekende", ""}});
  files.vdab_return += row(r, person(0));      // duplicate
  files.vdab_return += row(r, "85073003329");  // invalid check digits
  files.vdab_return += row(r, person(40));     // valid, never sent
  return files;                                // persons 4 and 5 were sent and not returned
}

QualityReport assess(const Protocol& protocol, const Defective& files) {
  std::istringstream extract(files.extract);
  std::istringstream vdab_return(files.vdab_return);
  auto report = assess_quality(extract, "extract.csv", vdab_return, "return.csv", protocol,
                               sys_days{2026y / 12 / 1});
  EXPECT_TRUE(report) << report.error().describe();
  return *report;
}

// Every column of `dataset`: {empty, unparseable, before, after, not_in_list}; absent = all 0.
void expect_counts(const DatasetQuality& dataset,
                   const std::map<std::string, std::array<std::uint64_t, 5>>& expected) {
  for (const auto& c : dataset.columns) {
    const auto found = expected.find(c.column);
    const std::array<std::uint64_t, 5> want =
        found == expected.end() ? std::array<std::uint64_t, 5>{} : found->second;
    const std::array<std::uint64_t, 5> got = {c.empty, c.unparseable_date, c.before_range,
                                              c.after_range, c.not_in_list};
    EXPECT_EQ(got, want) << "column " << c.column;
  }
  for (const auto& [column, counts] : expected) {
    EXPECT_TRUE(std::any_of(dataset.columns.begin(), dataset.columns.end(),
                            [&](const ColumnQuality& c) { return c.column == column; }))
        << column;
  }
}

TEST(Quality, KnownDefectsGiveExactlyTheExpectedCounts) {
  const Protocol protocol = shipped_protocol();
  const QualityReport report = assess(protocol, defective_files(protocol));
  EXPECT_EQ(report.extract.rows, 8u);
  EXPECT_EQ(report.extract.invalid_insz, 1u);
  EXPECT_EQ(report.extract.duplicate_insz, 1u);
  EXPECT_EQ(report.sent, 6u);
  EXPECT_EQ(report.extract.columns.size(), protocol.extract_columns.size() - 1);
  expect_counts(report.extract, {{"geslacht", {0, 0, 0, 0, 1}},
                                 {"datum_aanmelding", {0, 0, 1, 1, 0}},
                                 {"datum_doelgroep", {0, 2, 0, 0, 0}},
                                 {"scholingsniveau", {1, 0, 0, 0, 0}},
                                 {"kbi_regio", {1, 0, 0, 0, 0}}});
  EXPECT_EQ(report.returned.rows, 7u);
  EXPECT_EQ(report.returned.invalid_insz, 1u);
  EXPECT_EQ(report.returned.duplicate_insz, 1u);
  EXPECT_EQ(report.return_not_sent, 1u);
  EXPECT_EQ(report.not_returned, 2u);
  expect_counts(report.returned, {{"uitstroom_naar_werk", {0, 0, 0, 0, 1}},
                                  {"eerste_inschrijving_vdab", {1, 0, 0, 0, 0}},
                                  {"recentste_inschrijving_vdab", {0, 0, 1, 0, 0}},
                                  {"categorie_werkzoekende", {1, 0, 0, 0, 0}}});
}

// What the merge counts (QualityTally) is the report of a reading of its own, on one thread and
// in pieces of every size: the defective files without the return rows a merge refuses.
TEST(Quality, CountedByTheMergeItIsTheSameReport) {
  const Protocol protocol = shipped_protocol();
  Defective files = defective_files(protocol);
  const auto& r = protocol.return_columns;
  files.vdab_return = header(r);
  files.vdab_return += row(r, person(0), {{"uitstroom_naar_werk", "misschien"}});
  files.vdab_return += row(r, person(1), {{"eerste_inschrijving_vdab", ""}});
  files.vdab_return += row(r, person(2), {{"recentste_inschrijving_vdab", "1989-05-01"}});
  files.vdab_return += row(r, person(3), {{"categorie_werkzoekende", ""}});
  for (int i = 0; i < 40; ++i) {  // more people, so that the pieces split both files often
    const std::string insz = person(100 + i);
    files.extract += row(protocol.extract_columns, insz,
                         {{"datum_doelgroep", i % 3 == 0 ? "" : "2021-03-15"},
                          {"geslacht", i % 7 == 0 ? "Q" : "M"}});
    if (i % 4 != 0) {
      files.vdab_return += row(r, insz, {{"categorie_werkzoekende", i % 5 == 0 ? "?" : "WZUA"}});
    }
  }
  const auto expected = quality_json(assess(protocol, files)).dump();
  const auto dir = test::make_temp_dir("kbix-quality-tally");
  std::ofstream(dir / "extract.csv", std::ios::binary) << files.extract;
  std::ofstream(dir / "return.csv", std::ios::binary) << files.vdab_return;
  for (const std::size_t piece :
       {std::size_t{0}, std::size_t{1}, std::size_t{100}, std::size_t{700}, std::size_t{5000}}) {
    FileReading reading;
    if (piece > 0) {
      reading.piece_bytes = piece;
      reading.parallel_from = 1;
      reading.in_flight = 3;
    }
    const int extract_fd = ::open((dir / "extract.csv").c_str(), O_RDONLY | O_CLOEXEC);
    const int return_fd = ::open((dir / "return.csv").c_str(), O_RDONLY | O_CLOEXEC);
    std::ifstream extract(dir / "extract.csv", std::ios::binary);
    std::ifstream vdab_return(dir / "return.csv", std::ios::binary);
    std::ostringstream output;
    QualityTally tally(protocol, sys_days{2026y / 12 / 1});
    auto merged = merge_and_pseudonymise(return_fd, vdab_return, "return.csv", extract_fd, extract,
                                         "extract.csv", protocol, nullptr, output, reading, &tally);
    ::close(extract_fd);
    ::close(return_fd);
    ASSERT_TRUE(merged) << merged.error().describe();
    EXPECT_EQ(quality_json(tally.report(*merged)).dump(), expected) << "pieces of " << piece;
  }
  std::filesystem::remove_all(dir);
}

TEST(Quality, CodesWithASeparatorAreCheckedOneByOne) {
  Protocol protocol = shipped_protocol();
  protocol.domains["type_acties"] = {
      ColumnDomain::Kind::codes, {}, {}, {"opleiding", "bemiddeling"}, "|"};
  const auto& r = protocol.return_columns;
  Defective files = defective_files(protocol);
  files.vdab_return = header(r) + row(r, person(0)) +                            // both in list
                      row(r, person(1), {{"type_acties", "opleiding|stage"}}) +  // one not
                      row(r, person(2), {{"type_acties", "bemiddeling||"}}) +    // empty parts
                      row(r, person(3), {{"type_acties", "bemiddeling"}});
  const QualityReport report = assess(protocol, files);
  const auto column =
      std::find_if(report.returned.columns.begin(), report.returned.columns.end(),
                   [](const ColumnQuality& c) { return c.column == "type_acties"; });
  ASSERT_NE(column, report.returned.columns.end());
  EXPECT_EQ(column->not_in_list, 2u);
  EXPECT_EQ(column->empty, 0u);
}

TEST(Quality, AFixedUntilDateOverridesTheReportDay) {
  Protocol protocol = shipped_protocol();
  protocol.domains["datum_aanmelding"].latest = sys_days{2021y / 1 / 1};
  const QualityReport report = assess(protocol, defective_files(protocol));
  const auto column =
      std::find_if(report.extract.columns.begin(), report.extract.columns.end(),
                   [](const ColumnQuality& c) { return c.column == "datum_aanmelding"; });
  // every default 2021-04-01 is now too late (6 rows) plus the 2031 one
  EXPECT_EQ(column->after_range, 7u);
}

// Every string in the partner summary must be one kbix wrote itself: names, ids, the date.
void collect_strings(const nlohmann::json& json, std::vector<std::string>& out,
                     std::set<std::string>& keys) {
  if (json.is_object()) {
    for (const auto& [key, value] : json.items()) {
      keys.insert(key);
      collect_strings(value, out, keys);
    }
  } else if (json.is_array()) {
    for (const auto& value : json) collect_strings(value, out, keys);
  } else if (json.is_string()) {
    out.push_back(json.get<std::string>());
  }
}

TEST(Quality, PartnerSummaryHoldsNoInszNoValueAndNoLineNumber) {
  const Protocol protocol = shipped_protocol();
  const Defective files = defective_files(protocol);
  QualityReport report = assess(protocol, files);
  report.run_id = "20261201T100000Z-ab12";
  const std::string json = partner_summary_json(report).dump(2);
  const std::string text = partner_summary_text(report);

  // every cell value of both files, and every INSZ (canonical and with separators)
  std::set<std::string> values;
  for (const std::string* file : {&files.extract, &files.vdab_return}) {
    std::istringstream in(*file);
    std::string line;
    std::getline(in, line);  // header: column names are not values
    while (std::getline(in, line)) {
      std::size_t start = 0;
      for (;;) {
        const auto end = line.find(';', start);
        const std::string cell = line.substr(start, end == std::string::npos ? end : end - start);
        if (!cell.empty()) values.insert(cell);
        if (end == std::string::npos) break;
        start = end + 1;
      }
    }
  }
  const std::regex word(R"([^\s;:,()'"\[\]{}]+)");
  for (const std::string* document : {&json, &text}) {
    for (auto it = std::sregex_iterator(document->begin(), document->end(), word);
         it != std::sregex_iterator(); ++it) {
      std::string token = it->str();
      while (!token.empty() && (token.back() == '.' || token.back() == ';')) token.pop_back();
      EXPECT_FALSE(values.contains(token)) << "a value in the partner summary: " << token;
      EXPECT_FALSE(is_valid_insz_digits(token)) << "an INSZ in the partner summary";
    }
    // no "line 4", "row 4", "rows: [2, 5]" or "FILE:4:" that could point back to a person
    EXPECT_FALSE(std::regex_search(
        *document, std::regex(R"((line|row|record)s?\W{0,3}\d)", std::regex::icase)));
    EXPECT_FALSE(std::regex_search(*document, std::regex(R"(:\d+:)")));
    EXPECT_FALSE(std::regex_search(*document, std::regex(R"(\[\s*\d)")));
  }
  EXPECT_FALSE(std::regex_search(json, std::regex(R"(\d{11})")));
  EXPECT_FALSE(std::regex_search(text, std::regex(R"(\d{11})")));

  // Structure: the only strings are kbix's own; the only numbers are counts under known keys.
  std::vector<std::string> strings;
  std::set<std::string> keys;
  collect_strings(partner_summary_json(report), strings, keys);
  std::set<std::string> allowed = {"quality-partner-summary", protocol.id, protocol.partner,
                                   report.run_id, "2026-12-01"};
  for (const auto& c : protocol.return_columns) allowed.insert(c);
  for (const auto& s : strings) EXPECT_TRUE(allowed.contains(s)) << "unexpected string " << s;
  const std::set<std::string> count_keys = {"report",
                                            "version",
                                            "protocol_id",
                                            "article",
                                            "partner",
                                            "run_id",
                                            "as_of",
                                            "sent",
                                            "returned",
                                            "sent_not_returned",
                                            "returned_not_sent",
                                            "invalid_insz",
                                            "duplicate_insz",
                                            "columns",
                                            "column",
                                            "empty",
                                            "out_of_domain",
                                            "unparseable_date",
                                            "before_range",
                                            "after_range",
                                            "not_in_list"};
  EXPECT_EQ(keys, count_keys);
  // The extract's own columns are AgII's business, not the partner's.
  EXPECT_EQ(json.find("datum_aanmelding"), std::string::npos);
}

TEST(Quality, DataTeamReportHasBothDatasetsAndTheDomains) {
  const Protocol protocol = shipped_protocol();
  QualityReport report = assess(protocol, defective_files(protocol));
  const auto json = quality_json(report);
  EXPECT_EQ(json["extract"]["columns"].size(), protocol.extract_columns.size() - 1);
  EXPECT_EQ(json["return"]["sent_not_returned"], 2);
  EXPECT_EQ(json["extract"]["columns"][1]["domain"], "codes M, V, X");
  EXPECT_NE(quality_text(report).find("2 sent but not returned"), std::string::npos);
}

TEST(Quality, BadInputIsAnErrorNamingFileAndLineNeverAValue) {
  const Protocol protocol = shipped_protocol();
  Defective files = defective_files(protocol);
  files.vdab_return += "85073003328;secretvalue\n";
  std::istringstream extract(files.extract);
  std::istringstream vdab_return(files.vdab_return);
  auto report = assess_quality(extract, "extract.csv", vdab_return, "return.csv", protocol,
                               sys_days{2026y / 12 / 1});
  ASSERT_FALSE(report);
  EXPECT_NE(report.error().message.find("return.csv:9"), std::string::npos)
      << report.error().message;
  EXPECT_EQ(report.error().message.find("secretvalue"), std::string::npos);
  EXPECT_EQ(report.error().message.find("85073003328"), std::string::npos);
}

// The protocol file's [domains] and [disclosure] are checked like every other key.
TEST(ProtocolPrivacySections, MistakesAreErrorsWithFileAndLine) {
  const auto dir = test::make_temp_dir("kbix-protocol-privacy");
  std::ifstream in(KBIX_SOURCE_DIR "/config/protocols/vdab-derde-pijler-2023.toml");
  const std::string shipped((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"geslacht = { kind = \"codes\", codes = [\"M\", \"V\", \"X\"] }",
       "geslacht = { kind = \"colour\", codes = [\"M\"] }"},
      {"geslacht = { kind = \"codes\", codes = [\"M\", \"V\", \"X\"] }",
       "insz = { kind = \"codes\", codes = [\"M\"] }"},
      {"\"leeftijdscategorie\", \"geslacht\", \"oudste_nationaliteit\"",
       "\"leeftijdscategorie\", \"geslacht\", \"insz\""},
      {"action = \"report\"", "action = \"publish\""},
      {"k = 5", "k = 1"},
      {"datum_doelgroep = { kind = \"date\", from = 2004-04-01 }",
       "datum_doelgroep = { kind = \"date\", from = 2004-04-01, untill = 2030-01-01 }"}};
  const std::vector<std::string> wanted = {"\"date\" or \"codes\"",
                                           "not a profile column",
                                           "not a column of the output",
                                           "\"suppress\"",
                                           "k",
                                           "untill"};
  ASSERT_TRUE(load_protocol(KBIX_SOURCE_DIR "/config/protocols/vdab-derde-pijler-2023.toml"));
  for (std::size_t i = 0; i < cases.size(); ++i) {
    std::string text = shipped;
    const auto at = text.find(cases[i].first);
    ASSERT_NE(at, std::string::npos) << cases[i].first;
    text.replace(at, cases[i].first.size(), cases[i].second);
    const auto file = dir / ("case" + std::to_string(i) + ".toml");
    std::ofstream(file) << text;
    auto loaded = load_protocol(file);
    ASSERT_FALSE(loaded) << cases[i].second;
    EXPECT_NE(loaded.error().message.find(file.filename().string() + ":"), std::string::npos)
        << loaded.error().message;
    EXPECT_NE(loaded.error().message.find(wanted[i]), std::string::npos) << loaded.error().message;
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace kbix
