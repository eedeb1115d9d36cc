// The disclosure-risk report and local suppression, on synthetic outputs with known small
// classes; the figures are checked against an independent Python computation (csv + Counter).
#include "kbix/reports/disclosure.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "kbix/core/buffered_file.hpp"
#include "kbix/domain/output_scan.hpp"
#include "support/temp_dir.hpp"

namespace kbix {
namespace {

namespace fs = std::filesystem;

const std::vector<std::string> kQis = {"leeftijdscategorie", "geslacht", "oudste_nationaliteit",
                                       "kbi_regio", "verblijfsstatus"};

Protocol protocol_with(DisclosureAction action, int k = 5) {
  Protocol protocol;
  protocol.id = "test-protocol";
  protocol.disclosure.quasi_identifiers = kQis;
  protocol.disclosure.k = k;
  protocol.disclosure.action = action;
  return protocol;
}

class Disclosure : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = test::make_temp_dir("kbix-disclosure"); }
  void TearDown() override { fs::remove_all(dir_); }

  // Output columns: status (not a QI) in front, the QIs, then a free-text column.
  fs::path write_output(const std::vector<std::vector<std::string>>& qi_rows,
                        const std::string& name = "output.csv") {
    std::ofstream out(dir_ / name, std::ios::binary);
    out << "status;leeftijdscategorie;geslacht;oudste_nationaliteit;kbi_regio;verblijfsstatus;"
           "type_acties\n";
    int i = 0;
    for (const auto& r : qi_rows) {
      out << (i % 2 ? "ja" : "nee");
      for (const auto& v : r) out << ';' << v;
      out << ";\"opleiding;stage\"\n";  // a quoted field must survive a rewrite
      ++i;
    }
    return dir_ / name;
  }

  nlohmann::json oracle(const fs::path& file, int k, const fs::path& before = {}) {
    std::string qis;
    for (const auto& q : kQis) qis += (qis.empty() ? "" : ",") + q;
    const std::string command =
        "python3 " KBIX_SOURCE_DIR "/tests/unit/reports/disclosure_oracle.py " + file.string() +
        " " + std::to_string(k) + " " + qis + (before.empty() ? "" : " " + before.string());
    FILE* pipe = ::popen(command.c_str(), "r");
    EXPECT_NE(pipe, nullptr);
    std::string output;
    char buffer[4096];
    while (std::size_t n = std::fread(buffer, 1, sizeof buffer, pipe)) output.append(buffer, n);
    EXPECT_EQ(::pclose(pipe), 0) << output;
    return nlohmann::json::parse(output);
  }

  void expect_matches_oracle(const DisclosureReport& r, const nlohmann::json& o) {
    EXPECT_EQ(r.classes, o["classes"].get<std::uint64_t>());
    EXPECT_EQ(r.smallest_class, o["smallest"].get<std::uint64_t>());
    EXPECT_EQ(r.classes_below_k, o["below_k"].get<std::uint64_t>());
    EXPECT_EQ(r.rows_in_small_classes, o["rows_in_small"].get<std::uint64_t>());
    EXPECT_EQ(r.unique_rows, o["unique"].get<std::uint64_t>());
    EXPECT_EQ(r.rows_all_empty, o["all_empty"].get<std::uint64_t>());
    ASSERT_EQ(r.contributions.size(), kQis.size());
    for (const auto& c : r.contributions) {
      EXPECT_EQ(c.smallest_class_without, o["without"][c.column][0].get<std::uint64_t>())
          << c.column;
      EXPECT_EQ(c.rows_in_small_classes_without, o["without"][c.column][1].get<std::uint64_t>())
          << c.column;
    }
  }

  fs::path dir_;
};

std::vector<std::vector<std::string>> repeat(std::vector<std::string> tuple, int times) {
  return std::vector<std::vector<std::string>>(static_cast<std::size_t>(times), tuple);
}

// Classes of 10, 6, 3, 1 and 2 rows, and 2 rows with every quasi-identifier empty.
std::vector<std::vector<std::string>> known_classes() {
  std::vector<std::vector<std::string>> rows;
  auto add = [&](std::vector<std::string> tuple, int times) {
    for (auto& r : repeat(std::move(tuple), times)) rows.push_back(std::move(r));
  };
  add({"25-34", "M", "SYR", "Gent", "erkend vluchteling"}, 10);
  add({"35-44", "M", "AFG", "Gent", "erkend vluchteling"}, 3);
  add({"25-34", "V", "SYR", "Gent", "erkend vluchteling"}, 6);
  add({"35-44", "V", "AFG", "Limburg", "erkend vluchteling"}, 1);
  add({"", "", "", "", ""}, 2);
  add({"45-54", "M", "ERI", "", "EU-burger"}, 2);
  return rows;
}

TEST_F(Disclosure, KnownSmallClassesGiveTheExactFigures) {
  const auto file = write_output(known_classes());
  auto report = assess_disclosure(file, protocol_with(DisclosureAction::report));
  ASSERT_TRUE(report) << report.error().describe();
  EXPECT_EQ(report->rows, 24u);
  EXPECT_EQ(report->classes, 5u);
  EXPECT_EQ(report->smallest_class, 1u);
  EXPECT_EQ(report->classes_below_k, 3u);
  EXPECT_EQ(report->rows_in_small_classes, 6u);
  EXPECT_EQ(report->unique_rows, 1u);
  EXPECT_EQ(report->rows_all_empty, 2u);
  // Without geslacht the 35-44/AFG rows stay split by region (3 and 1); without kbi_regio they
  // merge into one class of 4, which is still the smallest: both leave a class of 1 or 2.
  expect_matches_oracle(*report, oracle(file, 5));
  EXPECT_FALSE(report->blocked);
}

TEST_F(Disclosure, TheColumnWhoseRemovalRaisesTheSmallestClassMostComesFirst) {
  // Only nationality makes rows rare: without it every class has 8 rows.
  std::vector<std::vector<std::string>> rows;
  for (const char* sex : {"M", "V"}) {
    for (int i = 0; i < 8; ++i) {
      rows.push_back({"25-34", sex, i < 6 ? "SYR" : (i == 6 ? "ERI" : "SOM"), "Gent", "x"});
    }
  }
  const auto file = write_output(rows);
  auto report = assess_disclosure(file, protocol_with(DisclosureAction::report));
  ASSERT_TRUE(report);
  EXPECT_EQ(report->smallest_class, 1u);
  EXPECT_EQ(report->contributions.front().column, "oudste_nationaliteit");
  EXPECT_EQ(report->contributions.front().smallest_class_without, 8u);
  EXPECT_EQ(report->contributions.front().rows_in_small_classes_without, 0u);
  expect_matches_oracle(*report, oracle(file, 5));
}

TEST_F(Disclosure, ARandomOutputAgreesWithTheIndependentComputation) {
  std::mt19937 random(20261201);
  const std::vector<std::vector<std::string>> choices = {
      {"18-24", "25-34", "35-44", "45-54", "55-64", "65+", ""},
      {"M", "V", "X", ""},
      {"SYR", "AFG", "MAR", "UKR", "TUR", "ERI", "SOM", "IRQ", "PSE", "RUS", "BEL", ""},
      {"Antwerpen", "Gent", "Brussel", "Limburg", "Oost-Vlaanderen", ""},
      {"erkend vluchteling", "subsidiair beschermd", "gezinshereniging", "EU-burger", ""}};
  std::vector<std::vector<std::string>> rows;
  for (int i = 0; i < 4000; ++i) {
    std::vector<std::string> r;
    for (const auto& c : choices) {
      // skewed: the first values are common, the last ones rare
      std::geometric_distribution<int> pick(0.45);
      r.push_back(c[static_cast<std::size_t>(pick(random)) % c.size()]);
    }
    rows.push_back(std::move(r));
  }
  const auto file = write_output(rows);
  for (const int k : {2, 5, 11}) {
    auto report = assess_disclosure(file, protocol_with(DisclosureAction::report, k));
    ASSERT_TRUE(report);
    EXPECT_GT(report->rows_in_small_classes, 0u) << "k " << k;
    expect_matches_oracle(*report, oracle(file, k));
  }
}

TEST_F(Disclosure, SuppressLeavesNoClassBelowKAndChangesOnlyThoseCells) {
  std::mt19937 random(7);
  std::vector<std::vector<std::string>> rows = known_classes();
  const std::vector<std::string> nationalities = {"SYR", "AFG", "MAR", "UKR", "TUR", "ERI"};
  for (int i = 0; i < 500; ++i) {
    rows.push_back({i % 3 ? "25-34" : "35-44", i % 2 ? "M" : "V",
                    nationalities[random() % (i % 5 ? 2 : nationalities.size())],
                    i % 7 ? "Gent" : "Limburg", "erkend vluchteling"});
  }
  const auto file = write_output(rows);
  const auto before = dir_ / "before.csv";
  fs::copy_file(file, before);
  const auto before_figures = oracle(file, 5);
  ASSERT_GT(before_figures["rows_in_small"].get<int>(), 0);

  auto report = apply_disclosure(file, protocol_with(DisclosureAction::suppress));
  ASSERT_TRUE(report) << report.error().describe();
  expect_matches_oracle(*report, before_figures);  // the report describes the output as it was
  const auto after = oracle(file, 5, before);
  EXPECT_EQ(after["below_k"], 0);
  EXPECT_GE(after["smallest"].get<int>(), 5);
  EXPECT_EQ(after["violations"], 0);
  EXPECT_EQ(after["changed_cells"].get<std::uint64_t>(), report->suppressed_cells);
  EXPECT_GT(report->suppressed_cells, 0u);
  EXPECT_LE(report->suppressed_rows, report->rows_in_small_classes);
  EXPECT_EQ(report->smallest_class_after, after["smallest"].get<std::uint64_t>());
  EXPECT_EQ(report->rows_in_small_classes_after, 0u);
  std::uint64_t per_column = 0;
  for (const auto& [column, cells] : report->suppressed_cells_per_column) per_column += cells;
  EXPECT_EQ(per_column, report->suppressed_cells);

  // A second pass finds nothing left to do and leaves the file byte for byte.
  const auto again_before = dir_ / "again.csv";
  fs::copy_file(file, again_before);
  auto again = apply_disclosure(file, protocol_with(DisclosureAction::suppress));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->rows_in_small_classes, 0u);
  EXPECT_EQ(again->suppressed_cells, 0u);
  EXPECT_EQ(oracle(file, 5, again_before)["changed_cells"], 0);
}

TEST_F(Disclosure, BlockMarksTheReportAndLeavesTheFile) {
  const auto file = write_output(known_classes());
  const auto before = dir_ / "before.csv";
  fs::copy_file(file, before);
  auto report = apply_disclosure(file, protocol_with(DisclosureAction::block));
  ASSERT_TRUE(report);
  EXPECT_TRUE(report->blocked);
  EXPECT_EQ(oracle(file, 5, before)["changed_cells"], 0);
  EXPECT_NE(disclosure_text(*report).find("BLOCKED"), std::string::npos);
  EXPECT_EQ(disclosure_json(*report)["blocked"], true);

  // Above the risk line nothing is blocked.
  auto relaxed = apply_disclosure(file, protocol_with(DisclosureAction::block, 2));
  ASSERT_TRUE(relaxed);
  EXPECT_EQ(relaxed->rows_in_small_classes, 1u);
  EXPECT_TRUE(relaxed->blocked);
  auto none = apply_disclosure(write_output(repeat({"a", "b", "c", "d", "e"}, 9), "big.csv"),
                               protocol_with(DisclosureAction::block));
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->blocked);
}

TEST_F(Disclosure, AMissingQuasiIdentifierColumnIsAnError) {
  std::ofstream(dir_ / "output.csv") << "status;geslacht\nja;M\n";
  auto report = assess_disclosure(dir_ / "output.csv", protocol_with(DisclosureAction::report));
  ASSERT_FALSE(report);
  EXPECT_EQ(report.error().code, "disclosure.missing_column");
  EXPECT_NE(report.error().message.find("leeftijdscategorie"), std::string::npos);
}

TEST_F(Disclosure, TheReportHoldsCountsAndColumnNamesOnly) {
  const auto file = write_output(known_classes());
  auto report = apply_disclosure(file, protocol_with(DisclosureAction::suppress));
  ASSERT_TRUE(report);
  const std::string json = disclosure_json(*report).dump();
  const std::string text = disclosure_text(*report);
  for (const char* value : {"SYR", "AFG", "ERI", "Limburg", "35-44", "EU-burger", "opleiding"}) {
    EXPECT_EQ(json.find(value), std::string::npos) << value;
    EXPECT_EQ(text.find(value), std::string::npos) << value;
  }
}

// The merge step's way: the classes are counted while the output scan reads the file.
Result<DisclosureReport> counted_by_the_scan(const fs::path& file, const Protocol& protocol,
                                             bool act) {
  DisclosureCounter counter(protocol);
  BufferedInput in(file);
  auto scanned = scan_output(in.stream(), file.filename().string(), counter);
  if (!scanned) return fail(std::move(scanned).error());
  return counter.finish(file, act);
}

void expect_same_report(const DisclosureReport& a, const DisclosureReport& b) {
  EXPECT_EQ(disclosure_json(a).dump(), disclosure_json(b).dump());
}

TEST_F(Disclosure, TheScanPassGivesTheReportOfAPassOfItsOwn) {
  // Mostly distinct tuples (the class table grows and its slots collide), a few shared ones.
  std::mt19937 random(20261202);
  auto word = [&](int letters) {
    std::string w;
    for (int i = 0; i < letters; ++i) w += static_cast<char>('a' + random() % 26);
    return w;
  };
  std::vector<std::vector<std::string>> rows;
  for (int i = 0; i < 20000; ++i) {
    if (i % 4 == 0) {
      rows.push_back({"25-34", i % 8 ? "M" : "V", "SYR", "Gent", "x"});
    } else {
      rows.push_back({word(2), word(1), word(3), i % 3 ? "" : word(2), word(1)});
    }
  }
  const auto file = write_output(rows);
  const auto protocol = protocol_with(DisclosureAction::report);
  auto scanned = counted_by_the_scan(file, protocol, false);
  ASSERT_TRUE(scanned) << scanned.error().describe();
  EXPECT_EQ(scanned->rows, 20000u);
  EXPECT_GT(scanned->classes, 10000u);
  expect_matches_oracle(*scanned, oracle(file, 5));
  auto own_pass = assess_disclosure(file, protocol);
  ASSERT_TRUE(own_pass);
  expect_same_report(*scanned, *own_pass);
}

TEST_F(Disclosure, CellsThatWouldRunTogetherStayApart) {
  const std::string long_cell(300, 'q');  // a length of more than one 7-bit group
  std::vector<std::vector<std::string>> rows;
  for (int i = 0; i < 5; ++i) {
    rows.push_back({"ab", "", "c", "d", "e"});
    rows.push_back({"a", "b", "c", "d", "e"});
    rows.push_back({"a", "", "bc", "d", "e"});
    rows.push_back({long_cell, "q", "c", "d", "e"});
    rows.push_back({long_cell + "q", "", "c", "d", "e"});
  }
  rows.push_back({"a", "b", "c", "d", "\"e;\""});  // written quoted: the cell is e;
  const auto file = write_output(rows);
  auto report = counted_by_the_scan(file, protocol_with(DisclosureAction::report), false);
  ASSERT_TRUE(report) << report.error().describe();
  EXPECT_EQ(report->classes, 6u);
  EXPECT_EQ(report->smallest_class, 1u);
  expect_matches_oracle(*report, oracle(file, 5));
}

TEST_F(Disclosure, ReportAndBlockNeverReadTheOutputAgain) {
  for (const auto action : {DisclosureAction::report, DisclosureAction::block}) {
    const auto file = write_output(known_classes());
    DisclosureCounter counter(protocol_with(action));
    {
      BufferedInput in(file);
      ASSERT_TRUE(scan_output(in.stream(), "output.csv", counter));
    }
    fs::remove(file);  // a second read would fail now
    auto report = counter.finish(file);
    ASSERT_TRUE(report) << report.error().describe();
    EXPECT_EQ(report->rows_in_small_classes, 6u);
    EXPECT_EQ(report->blocked, action == DisclosureAction::block);
  }
  // Suppression must read the output again to rewrite it.
  const auto file = write_output(known_classes());
  DisclosureCounter counter(protocol_with(DisclosureAction::suppress));
  {
    BufferedInput in(file);
    ASSERT_TRUE(scan_output(in.stream(), "output.csv", counter));
  }
  fs::remove(file);
  auto report = counter.finish(file);
  ASSERT_FALSE(report);
  EXPECT_EQ(report.error().code, "io.read");
}

TEST_F(Disclosure, SuppressionThroughTheScanRewritesTheSameFile) {
  const auto file = write_output(known_classes(), "scanned.csv");
  const auto reference = write_output(known_classes(), "reference.csv");
  auto scanned = counted_by_the_scan(file, protocol_with(DisclosureAction::suppress), true);
  ASSERT_TRUE(scanned) << scanned.error().describe();
  auto own_pass = apply_disclosure(reference, protocol_with(DisclosureAction::suppress));
  ASSERT_TRUE(own_pass);
  expect_same_report(*scanned, *own_pass);
  EXPECT_GT(scanned->suppressed_cells, 0u);
  std::ifstream a(file, std::ios::binary), b(reference, std::ios::binary);
  const std::string bytes_a((std::istreambuf_iterator<char>(a)), {});
  const std::string bytes_b((std::istreambuf_iterator<char>(b)), {});
  EXPECT_EQ(bytes_a, bytes_b);
  EXPECT_EQ(oracle(file, 5)["below_k"], 0);
}

TEST_F(Disclosure, AnOutputChangedBetweenCountAndRewriteIsRefused) {
  const auto file = write_output(known_classes());
  DisclosureCounter counter(protocol_with(DisclosureAction::suppress));
  {
    BufferedInput in(file);
    ASSERT_TRUE(scan_output(in.stream(), "output.csv", counter));
  }
  auto changed = known_classes();
  changed[3][2] = "IRQ";  // a tuple that was not counted
  write_output(changed);
  const auto before = dir_ / "before.csv";
  fs::copy_file(file, before);
  auto report = counter.finish(file);
  ASSERT_FALSE(report);
  EXPECT_EQ(report.error().code, "disclosure.output_changed");
  EXPECT_EQ(report.error().message.rfind("output.csv:5:", 0), 0u) << report.error().message;
  EXPECT_EQ(oracle(file, 5, before)["changed_cells"], 0) << "the output is left as it was";

  // One row more than was counted is refused too.
  DisclosureCounter again(protocol_with(DisclosureAction::suppress));
  {
    BufferedInput in(file);
    ASSERT_TRUE(scan_output(in.stream(), "output.csv", again));
  }
  std::ofstream(file, std::ios::app) << "ja;25-34;M;SYR;Gent;erkend vluchteling;x\n";
  auto longer = again.finish(file);
  ASSERT_FALSE(longer);
  EXPECT_EQ(longer.error().code, "disclosure.output_changed");
}

}  // namespace
}  // namespace kbix
