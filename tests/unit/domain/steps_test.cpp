// The pipeline steps over streams: schema, export, merge + pseudonymise, scan, manifest.
#include <gtest/gtest.h>
#include <openssl/rand.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "kbix/domain/extract_export.hpp"
#include "kbix/domain/manifest.hpp"
#include "kbix/domain/merge.hpp"
#include "kbix/domain/output_scan.hpp"
#include "kbix/domain/pseudonym.hpp"
#include "kbix/domain/schema.hpp"
#include "support/article3.hpp"
#include "synthetic.hpp"

namespace kbix {
namespace {

namespace fs = std::filesystem;

Protocol shipped_protocol() {
  auto protocol = load_protocol(KBIX_SOURCE_DIR "/config/protocols/vdab-derde-pijler-2023.toml");
  EXPECT_TRUE(protocol);
  return *protocol;
}

std::string join(const std::vector<std::string>& fields) {
  std::string line;
  for (const auto& field : fields) line += (line.empty() ? "" : ";") + field;
  return line;
}

// An extract row for `insz` with synthetic profile values of person `index`.
std::string extract_row(const std::string& insz, std::uint64_t index) {
  return insz + ";" + join(synthetic::kbi_profile(5, index, 0.0)) + "\n";
}

std::string return_row(const std::string& insz) {
  return insz + ";" + join(*synthetic::vdab_fields(3, insz, 0.0, 0.0)) + "\n";
}

std::string valid(std::uint64_t index) {
  return synthetic::make_insz(9, index, 0.0);
}

struct Files {
  std::string extract;
  std::string vdab_return;
};

Files small_exchange(const Protocol& protocol) {
  Files files;
  files.extract = join(protocol.extract_columns) + "\n";
  for (std::uint64_t i = 0; i < 6; ++i) files.extract += extract_row(valid(i), i);
  files.extract += extract_row("12345678901", 6);  // invalid
  files.extract += extract_row(valid(2), 7);       // duplicate of person 2
  files.vdab_return = join(protocol.return_columns) + "\n";
  for (std::uint64_t i : {4, 1, 0, 5}) files.vdab_return += return_row(valid(i));  // 2, 3 unknown
  return files;
}

TEST(Schema, NamesTheColumnThatIsWrong) {
  const std::vector<std::string> expected = {"insz", "a", "b"};
  EXPECT_TRUE(check_header({"insz", "a", "b"}, expected, "f.csv"));
  auto missing = check_header({"insz", "a"}, expected, "f.csv");
  EXPECT_EQ(missing.error().code, "schema.missing_column");
  EXPECT_NE(missing.error().message.find("'b'"), std::string::npos);
  auto extra = check_header({"insz", "a", "b", "c"}, expected, "f.csv");
  EXPECT_EQ(extra.error().code, "schema.extra_column");
  EXPECT_NE(extra.error().message.find("'c'"), std::string::npos);
  auto renamed = check_header({"insz", "a", "bee"}, expected, "f.csv");
  EXPECT_EQ(renamed.error().code, "schema.missing_column");
  EXPECT_NE(renamed.error().message.find("renamed"), std::string::npos);
  EXPECT_EQ(check_header({"insz", "a", "a", "b"}, expected, "f.csv").error().code,
            "schema.duplicate_column");
  EXPECT_EQ(check_header({"insz", "b", "a"}, expected, "f.csv").error().code,
            "schema.column_order");
}

TEST(Export, WritesOnlyValidUniqueInszAndCountsTheRest) {
  const auto protocol = shipped_protocol();
  const auto files = small_exchange(protocol);
  std::istringstream in(files.extract);
  std::ostringstream out;
  auto report = export_outbound(in, "kbi.csv", protocol, out);
  ASSERT_TRUE(report) << report.error().describe();
  EXPECT_EQ(report->rows, 8u);
  EXPECT_EQ(report->exported, 6u);
  EXPECT_EQ(report->invalid_insz, 1u);
  EXPECT_EQ(report->duplicate_insz, 1u);
  EXPECT_EQ(report->invalid_lines, std::vector<std::uint64_t>{8});
  EXPECT_EQ(report->duplicate_lines, std::vector<std::uint64_t>{9});
  std::string expected = "insz\n";
  for (std::uint64_t i = 0; i < 6; ++i) expected += valid(i) + "\n";
  EXPECT_EQ(out.str(), expected) << "one column, canonical digits, extract order (inv. 1)";
}

TEST(Export, RejectsAWrongHeaderOrFieldCountAsAWhole) {
  const auto protocol = shipped_protocol();
  std::ostringstream out;
  std::istringstream renamed("insz;leeftijd\n");
  EXPECT_EQ(export_outbound(renamed, "kbi.csv", protocol, out).error().code,
            "schema.missing_column");
  std::istringstream short_row(join(protocol.extract_columns) + "\n" + valid(0) + ";x\n");
  auto failed = export_outbound(short_row, "kbi.csv", protocol, out);
  EXPECT_EQ(failed.error().code, "schema.field_count");
  EXPECT_EQ(failed.error().message.rfind("kbi.csv:2:", 0), 0u) << failed.error().message;
  std::istringstream empty("");
  EXPECT_EQ(export_outbound(empty, "kbi.csv", protocol, out).error().code, "schema.empty_file");
}

Result<MergeReport> merge(const Protocol& protocol, const Files& files, std::string& output,
                          const PseudonymKey* key = nullptr) {
  std::istringstream returned(files.vdab_return);
  std::istringstream snapshot(files.extract);
  std::ostringstream out;
  auto report =
      merge_and_pseudonymise(returned, "return.csv", snapshot, "snapshot.csv", protocol, key, out);
  output = out.str();
  return report;
}

TEST(Merge, JoinsInReturnOrderWithoutInszAndCounts) {
  const auto protocol = shipped_protocol();
  const auto files = small_exchange(protocol);
  std::string output;
  auto report = merge(protocol, files, output);
  ASSERT_TRUE(report) << report.error().describe();
  EXPECT_EQ(report->sent, 6u);
  EXPECT_EQ(report->returned, 4u);
  EXPECT_EQ(report->matched, 4u);
  EXPECT_EQ(report->sent_missing_from_return, 2u);
  EXPECT_EQ(report->output_rows, 4u);
  std::string expected = std::string(test::kArticle3OutputHeader) + "\n";
  for (std::uint64_t i : {4, 1, 0, 5}) {
    expected += join(synthetic::kbi_profile(5, i, 0.0)) + ";" +
                join(*synthetic::vdab_fields(3, valid(i), 0.0, 0.0)) + "\n";
  }
  EXPECT_EQ(output, expected);
  EXPECT_EQ(output.find(valid(4)), std::string::npos) << "no INSZ in the output (inv. 4)";
  std::string again;
  ASSERT_TRUE(merge(protocol, files, again));
  EXPECT_EQ(again, output) << "byte-identical on a re-run";
}

TEST(Merge, RefusesAReturnWithAnInszThatWasNotSent) {
  const auto protocol = shipped_protocol();
  auto files = small_exchange(protocol);
  files.vdab_return += return_row(valid(99));
  files.vdab_return += return_row(valid(98));
  std::string output;
  auto report = merge(protocol, files, output);
  ASSERT_FALSE(report);
  EXPECT_EQ(report.error().code, "merge.insz_not_sent");
  EXPECT_NE(report.error().message.find("2 rows"), std::string::npos) << report.error().message;
  EXPECT_NE(report.error().message.find("line 6"), std::string::npos) << report.error().message;
  EXPECT_EQ(report.error().message.find(valid(99)), std::string::npos);
}

TEST(Merge, AnInvalidOrDuplicateOrBadlyShapedReturnIsRejected) {
  const auto protocol = shipped_protocol();
  std::string output;
  auto duplicate = small_exchange(protocol);
  duplicate.vdab_return += return_row(valid(1));
  EXPECT_EQ(merge(protocol, duplicate, output).error().code, "merge.duplicate_in_return");
  auto invalid = small_exchange(protocol);
  invalid.vdab_return += return_row("85073003328").replace(0, 11, "85073003329");
  EXPECT_EQ(merge(protocol, invalid, output).error().code, "merge.invalid_insz");
  auto extra = small_exchange(protocol);
  extra.vdab_return = join(protocol.return_columns) + ";extra\n";
  EXPECT_EQ(merge(protocol, extra, output).error().code, "schema.extra_column");
  auto empty = small_exchange(protocol);
  empty.vdab_return = "";
  EXPECT_EQ(merge(protocol, empty, output).error().code, "schema.empty_file");
}

fs::path write_key(std::size_t bytes) {
  const fs::path file = fs::temp_directory_path() / ("kbix-pseudo-" + std::to_string(::getpid()) +
                                                     "-" + std::to_string(bytes) + ".key");
  std::vector<unsigned char> key(bytes);
  RAND_bytes(key.data(), static_cast<int>(key.size()));
  std::ofstream(file, std::ios::binary)
      .write(reinterpret_cast<const char*>(key.data()), static_cast<std::streamsize>(bytes));
  fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write);
  return file;
}

TEST(Pseudonym, KeyedPseudonymsAreStableAndNeedAStrongPrivateKey) {
  const fs::path short_key = write_key(16);
  EXPECT_EQ(PseudonymKey::load(short_key).error().code, "pseudonym.key_too_short");
  const fs::path huge_key = write_key(1 << 20);
  EXPECT_EQ(PseudonymKey::load(huge_key).error().code, "pseudonym.key_unreadable")
      << "a megabyte is not a key file";
  fs::remove(huge_key);
  const fs::path good = write_key(32);
  auto key = PseudonymKey::load(good);
  ASSERT_TRUE(key) << key.error().describe();
  EXPECT_EQ(key->key_id().size(), 16u);
  const auto insz = *Insz::parse(valid(1));
  EXPECT_EQ(key->pseudo_id(insz).size(), 32u) << "128 bits";
  EXPECT_EQ(key->pseudo_id(insz), key->pseudo_id(*Insz::parse(valid(1))));
  EXPECT_NE(key->pseudo_id(insz), key->pseudo_id(*Insz::parse(valid(2))));
  fs::permissions(good, fs::perms::others_read, fs::perm_options::add);
  EXPECT_EQ(PseudonymKey::load(good).error().code, "security.key_file_mode");
  fs::remove(short_key);
  fs::remove(good);
}

TEST(Pseudonym, PseudoIdIsTheFirst128BitsOfHmacSha256OverTheDigits) {
  // Known answer, computed outside kbix (key = the bytes 00 01 02 ... 1f):
  //   printf 85073003328 | openssl dgst -sha256 -mac HMAC -macopt
  //   hexkey:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
  //   = 0d5092f2ce8d406422a0f4a34668e7b13104ad2545646dad5dec76c08c2c85de (first 32 hex digits kept)
  const fs::path file = write_key(32);
  std::string bytes(32, '\0');
  for (int i = 0; i < 32; ++i) bytes[static_cast<std::size_t>(i)] = static_cast<char>(i);
  std::ofstream(file, std::ios::binary | std::ios::trunc) << bytes;
  auto key = PseudonymKey::load(file);
  ASSERT_TRUE(key) << key.error().describe();
  EXPECT_EQ(key->pseudo_id(*Insz::parse("85.07.30-033.28")), "0d5092f2ce8d406422a0f4a34668e7b1");
  fs::remove(file);
}

TEST(Pseudonym, HmacModeAddsPseudoIdFirst) {
  auto protocol = shipped_protocol();
  protocol.pseudonym = PseudonymMode::hmac_sha256;
  const fs::path file = write_key(32);
  auto key = PseudonymKey::load(file);
  ASSERT_TRUE(key);
  std::string output;
  auto report = merge(protocol, small_exchange(protocol), output, &*key);
  ASSERT_TRUE(report) << report.error().describe();
  EXPECT_EQ(output.rfind("pseudo_id;leeftijdscategorie;", 0), 0u);
  EXPECT_NE(output.find(key->pseudo_id(*Insz::parse(valid(4)))), std::string::npos);
  EXPECT_EQ(merge(protocol, small_exchange(protocol), output, nullptr).error().code,
            "pseudonym.key_missing");
  fs::remove(file);
}

TEST(Scan, BlocksInszInAnyShapeAndLetsOtherNumbersPass) {
  for (const char* cell :
       {"85073003328", "85.07.30-033.28", "85 07 30 033 28", "x 85073003328", "id:85073003328;",
        "85/07/30/033/28", "nr 12 85073003328", "2023-03-15 85.07.30-033.28", "85073003328 12",
        // Glued to letters or inside a longer digit run (issue 13 item 10): still an INSZ.
        "BE85073003328", "insz85073003328", "a85073003328", "85073003328b", "850730033280",
        "1285073003328", "99985073003328999", "x85.07.30-033.28y", "12.85.07.30-033.28",
        // A digest-sized word without hex letters is a digit run, not a digest.
        "85073003328000000000000000000000"}) {
    EXPECT_TRUE(contains_insz_like_number(cell)) << cell;
  }
  for (const char* cell :
       {"85073003329", "8507300332", "2023-03-15", "12345678901", "2019-01-01 2020-02-02",
        // key id, pseudo_id and SHA-256 shapes: hex words kbix writes itself
        "ab85073003328cde", "ab85073003328cdeab85073003328cde",
        "sha256=ab85073003328cdeab85073003328cdeab85073003328cdeab85073003328cde"}) {
    EXPECT_FALSE(contains_insz_like_number(cell)) << cell;
  }
  std::istringstream blocked("a;b\nok;\"note 85.07.30-033.28\"\n");
  auto scanned = scan_output(blocked, "out.csv");
  ASSERT_FALSE(scanned);
  EXPECT_EQ(scanned.error().code, "scan.insz_found");
  EXPECT_EQ(scanned.error().message.rfind("out.csv:2:2:", 0), 0u) << scanned.error().message;
  EXPECT_EQ(scanned.error().message.find("85"), std::string::npos) << "never names the number";
  std::istringstream key_column("a;insz\n1;2\n");
  EXPECT_EQ(scan_output(key_column, "out.csv").error().code, "scan.key_column");
  std::istringstream glued("a;b\nok;BE85073003328\n");
  EXPECT_EQ(scan_output(glued, "out.csv").error().code, "scan.insz_found");
  // A pseudo_id cell in kbix's own shape is HMAC output; any other shape there is scanned.
  std::istringstream pseudonym("pseudo_id;a\n0085073003328000000000000000000f;x\n");
  EXPECT_TRUE(scan_output(pseudonym, "out.csv"));
  std::istringstream not_pseudonym("pseudo_id;a\nID85073003328;x\n");
  EXPECT_EQ(scan_output(not_pseudonym, "out.csv").error().code, "scan.insz_found");
  std::istringstream clean("a;b\n2023-01-01;WZUA\n");
  auto passed = scan_output(clean, "out.csv");
  ASSERT_TRUE(passed);
  EXPECT_EQ(passed->rows, 1u);
}

TEST(Manifest, HoldsCountsAndHashesButNoPersonalData) {
  Manifest manifest;
  manifest.run_id = "20261122T135500Z-3f9a";
  manifest.protocol_id = "vdab-derde-pijler-2023";
  manifest.output_sha256 = std::string(64, 'a');
  manifest.columns = {"leeftijdscategorie", "geslacht"};
  manifest.merge_report.output_rows = 42;
  manifest.export_report.invalid_lines = {7, 9};
  const auto json = nlohmann::json::parse(to_json(manifest));
  EXPECT_EQ(json["run_id"], manifest.run_id);
  EXPECT_EQ(json["merge"]["output_rows"], 42);
  EXPECT_EQ(json["columns"].size(), 2u);
  EXPECT_FALSE(to_json(manifest).find("invalid_lines") != std::string::npos)
      << "line numbers of people stay out of the manifest";
}

}  // namespace
}  // namespace kbix
