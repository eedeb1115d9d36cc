// End-to-end: the privacy reports of a real round trip (issue 18): the quality and disclosure
// reports published next to the manifest, `kbix run report`, `disclosure.action = "block"`
// refusing publication, and `kbix evidence` (HTML + JSON) that notices a tampered audit entry.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>

#include "e2e/e2e_support.hpp"
#include "kbix/domain/output_scan.hpp"
#include "support/temp_dir.hpp"

namespace kbix::test {
namespace {

namespace fs = std::filesystem;

fs::path protocol_with_action(const std::string& action) {
  const fs::path dir = make_temp_dir("kbix-protocol");
  std::string text = read_file(KBIX_SOURCE_DIR "/config/protocols/vdab-derde-pijler-2023.toml");
  const std::string from = "action = \"report\"";
  text.replace(text.find(from), from.size(), "action = \"" + action + "\"");
  std::ofstream(dir / "vdab.toml") << text;
  return dir / "vdab.toml";
}

std::string finished_run(ExchangeWorld& world) {
  world.generate_extract(400, 18, "--invalid-rate 0.02 --duplicate-rate 0.02");
  SimulatorThread partner(world);
  const auto once = world.kbix("run once --start --wait 60");
  EXPECT_EQ(once.exit_code, 0) << once.output;
  const auto outputs = files_with_suffix(world.output_dir(), ".manifest.json");
  EXPECT_EQ(outputs.size(), 1u);
  if (outputs.empty()) return "";
  return read_json(outputs.front()).value("run_id", "");
}

TEST(Privacy, ReportsArePublishedNextToTheManifestAndPrintedByRunReport) {
  ExchangeWorld world("e2e-privacy");
  const std::string run_id = finished_run(world);
  ASSERT_FALSE(run_id.empty());
  const std::string stem = "vdab-derde-pijler-2023_" + run_id;
  const auto manifest = read_json(world.output_dir() / (stem + ".manifest.json"));
  ASSERT_TRUE(manifest.contains("disclosure")) << manifest.dump(2);
  EXPECT_EQ(manifest["disclosure"]["action"], "report");
  EXPECT_EQ(manifest["disclosure"]["k"], 5);
  EXPECT_EQ(manifest["reports"].size(), 6u);
  for (const auto& name : manifest["reports"]) {
    EXPECT_TRUE(fs::exists(world.output_dir() / name.get<std::string>())) << name;
  }
  const auto quality = read_json(world.output_dir() / (stem + ".quality.json"));
  const auto disclosure = read_json(world.output_dir() / (stem + ".disclosure.json"));
  // 400 people over 6 x 3 x 10 x 7 x 4 combinations: most are alone in their class.
  EXPECT_EQ(disclosure["smallest_class"], 1);
  EXPECT_GT(disclosure["rows_in_small_classes"].get<int>(), 0);
  EXPECT_EQ(disclosure["rows"], manifest["merge"]["output_rows"]);
  EXPECT_EQ(quality["extract"]["rows"], manifest["export"]["rows"]);
  EXPECT_EQ(quality["extract"]["invalid_insz"], manifest["export"]["invalid_insz"]);
  EXPECT_EQ(quality["return"]["sent_not_returned"], manifest["merge"]["sent_missing_from_return"]);
  EXPECT_EQ(quality["extract"]["sent"], manifest["merge"]["sent"]);

  const auto text = world.kbix("run report " + run_id + " --quality");
  EXPECT_EQ(text.exit_code, 0) << text.output;
  EXPECT_NE(text.output.find("sent but not returned"), std::string::npos) << text.output;
  const auto partner = world.kbix("run report " + run_id + " --partner --json");
  ASSERT_EQ(partner.exit_code, 0) << partner.output;
  EXPECT_EQ(nlohmann::json::parse(partner.output)["report"], "quality-partner-summary");
  EXPECT_EQ(world.kbix("run report " + run_id + " --disclosure").exit_code, 0);
  EXPECT_EQ(count_audit_events(world, "report.quality"), 1u);
  EXPECT_EQ(count_audit_events(world, "report.disclosure"), 1u);
  expect_no_plaintext_left(world, published_files(run_id));
}

TEST(Privacy, BlockRefusesPublication) {
  ExchangeWorld world("e2e-block", protocol_with_action("block"));
  world.generate_extract(300, 19);
  {
    SimulatorThread partner(world);
    const auto once = world.kbix("run once --start --wait 60");
    EXPECT_EQ(once.exit_code, 1) << once.output;
    EXPECT_NE(once.output.find("[disclosure.blocked]"), std::string::npos) << once.output;
  }
  EXPECT_TRUE(files_under(world.output_dir()).empty()) << "nothing published";
  EXPECT_EQ(count_audit_events(world, "run.published"), 0u);
  EXPECT_EQ(count_audit_events(world, "report.disclosure"), 1u);
  EXPECT_EQ(files_with_suffix(world.state_dir() / "runs", "disclosure.txt").size(), 1u)
      << "the DPO can read why";
  expect_no_plaintext_left(world, {});
}

TEST(Privacy, SuppressPublishesAnOutputWithNoClassBelowK) {
  ExchangeWorld world("e2e-suppress", protocol_with_action("suppress"));
  const std::string run_id = finished_run(world);
  ASSERT_FALSE(run_id.empty());
  const std::string stem = "vdab-derde-pijler-2023_" + run_id;
  const auto manifest = read_json(world.output_dir() / (stem + ".manifest.json"));
  EXPECT_GT(manifest["disclosure"]["suppressed_cells"].get<int>(), 0);
  // Independent check of the published file: python3 csv + Counter.
  const auto check =
      run_shell("python3 " KBIX_SOURCE_DIR "/tests/unit/reports/disclosure_oracle.py " +
                (world.output_dir() / (stem + ".csv")).string() +
                " 5 leeftijdscategorie,geslacht,oudste_nationaliteit,kbi_regio,verblijfsstatus");
  ASSERT_EQ(check.exit_code, 0) << check.output;
  const auto figures = nlohmann::json::parse(check.output);
  EXPECT_EQ(figures["below_k"], 0) << check.output;
  EXPECT_EQ(world.kbix("audit verify").exit_code, 0);
}

TEST(Privacy, EvidenceProvesTheRunAndSaysWhereTheChainIsBroken) {
  ExchangeWorld world("e2e-evidence");
  const std::string run_id = finished_run(world);
  ASSERT_FALSE(run_id.empty());
  const fs::path out = world.dir() / "evidence";
  fs::create_directories(out);
  const auto written = world.kbix("evidence " + run_id + " --output-dir " + out.string());
  ASSERT_EQ(written.exit_code, 0) << written.output;
  const fs::path html = out / ("vdab-derde-pijler-2023_evidence_" + run_id + ".html");
  const fs::path json_file = out / ("vdab-derde-pijler-2023_evidence_" + run_id + ".json");
  const std::string page = read_file(html);
  EXPECT_NE(page.find("Audit chain intact"), std::string::npos);
  EXPECT_FALSE(contains_insz_like_number(read_file(html)));
  EXPECT_FALSE(contains_insz_like_number(read_file(json_file)));
  const auto evidence = read_json(json_file);
  ASSERT_EQ(evidence["runs"].size(), 1u);
  std::set<std::string> topics;
  for (const auto& claim : evidence["runs"][0]["claims"]) {
    topics.insert(claim["topic"].get<std::string>());
    EXPECT_TRUE(claim["holds"].get<bool>()) << claim.dump();
    if (claim["topic"] != "missing") {
      EXPECT_FALSE(claim["audit_seqs"].empty()) << claim.dump();
    }
  }
  for (const char* topic : {"start", "sent", "envelope", "sftp", "upload", "return", "quality",
                            "disclosure", "output", "publication", "deletion", "end", "audit"}) {
    EXPECT_TRUE(topics.contains(topic)) << topic;
  }
  // The same claims from a period that holds the run.
  const auto period =
      world.kbix("evidence --from 2000-01-01 --to 2099-12-31 --output-dir " + out.string());
  EXPECT_EQ(period.exit_code, 0) << period.output;

  // Tamper with one entry in the middle of the log: change a count, keep the JSON valid.
  const fs::path log = world.state_dir() / "audit" / "audit.jsonl";
  auto lines = read_lines(log);
  std::size_t tampered = 0;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].find("\"event\":\"run.merged\"") == std::string::npos) continue;
    auto entry = nlohmann::json::parse(lines[i]);
    entry["details"]["merge"]["output_rows"] = 1;
    lines[i] = entry.dump();
    tampered = i + 1;
  }
  ASSERT_NE(tampered, 0u);
  const std::string intact_log = read_file(log);  // put back below: the world's own verifier runs
  {
    std::ofstream rewrite(log, std::ios::binary | std::ios::trunc);
    for (const auto& line : lines) rewrite << line << "\n";
  }
  const auto broken = world.kbix("evidence " + run_id + " --output-dir " + out.string());
  EXPECT_EQ(broken.exit_code, 1) << broken.output;
  const std::string broken_page = read_file(html);
  EXPECT_NE(broken_page.find("AUDIT CHAIN BROKEN"), std::string::npos);
  EXPECT_NE(broken_page.find("line " + std::to_string(tampered)), std::string::npos)
      << "names the tampered line " << tampered;
  const auto broken_json = read_json(json_file);
  EXPECT_FALSE(broken_json["audit_chain"]["intact"].get<bool>());
  EXPECT_EQ(broken_json["audit_chain"]["line"].get<std::size_t>(), tampered);
  for (const auto& claim : broken_json["runs"][0]["claims"]) {
    EXPECT_FALSE(claim["holds"].get<bool>()) << "no claim holds on a broken log";
  }
  std::ofstream(log, std::ios::binary | std::ios::trunc) << intact_log;
}

}  // namespace
}  // namespace kbix::test
