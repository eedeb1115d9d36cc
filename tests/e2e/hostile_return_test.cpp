// Every return case of the hostile corpus (tests/data/hostile/manifest.json, kind "return")
// replayed end to end: the real kbix binary exports an extract of the corpus's ten people to a
// real sshd, the "partner" answers with the case's CSV sealed by the stock openssl CLI, and the
// run must end as the manifest says: refused with its code and nothing in output/, or done with
// exactly the expected output. New return cases in the manifest are replayed without a change here.
#include <gtest/gtest.h>

#include <fstream>

#include "e2e/e2e_support.hpp"
#include "hostile/corpus.hpp"

namespace kbix::test {
namespace {

namespace fs = std::filesystem;

// Signs with VDAB's key and encrypts to AgII's certificate, as docs/exchange-specification.md
// tells a partner to, then moves the file under its final name (no partial file is ever seen).
void answer_as_partner(const ExchangeWorld& world, const std::string& csv,
                       const std::string& name) {
  const fs::path keys = KBIX_ENVELOPE_TEST_KEYS;
  const fs::path work = world.dir() / "partner";
  fs::create_directories(work);
  std::ofstream(work / "return.csv", std::ios::binary) << csv;
  const fs::path staged = world.sshd().sftp_root() / "van-vdab" / (".part-" + name);
  const auto sealed = run_shell(
      "openssl cms -sign -binary -nodetach -md sha256 -in " + (work / "return.csv").string() +
      " -signer " + (keys / "vdab-sign-rsa.crt").string() + " -inkey " +
      (keys / "vdab-sign-rsa.key").string() + " -outform DER -out " +
      (work / "signed.der").string() + " && openssl cms -encrypt -binary -aes-256-gcm -in " +
      (work / "signed.der").string() + " -inform DER -recip " +
      (keys / "agii-enc-rsa.crt").string() +
      " -keyopt rsa_padding_mode:oaep -keyopt rsa_oaep_md:sha256 -outform DER -out " +
      staged.string());
  ASSERT_EQ(sealed.exit_code, 0) << sealed.output;
  fs::remove_all(work);  // the partner's plaintext is not kbix's to leave behind
  fs::rename(staged, staged.parent_path() / name);
}

class HostileReturnEndToEnd : public ::testing::TestWithParam<HostileCase> {};

TEST_P(HostileReturnEndToEnd, TheRunEndsAsTheManifestSays) {
  const HostileCase& c = GetParam();
  ExchangeWorld world("e2e-corpus");
  const fs::path extract = world.inbox_dir() / "kbi-extract.csv";
  std::ofstream(extract, std::ios::binary) << return_case_snapshot();
  world.add_personal_numbers_of(extract);

  const auto started = world.kbix("run once --start");
  ASSERT_EQ(started.exit_code, 0) << started.output;
  ASSERT_NE(started.output.find("awaiting_return"), std::string::npos) << started.output;
  const std::string run_id = newest_run_id(world);
  ASSERT_FALSE(run_id.empty());
  answer_as_partner(world, expand_template(c.input),
                    "vdab-derde-pijler-2023_" + run_id + "-verrijkt.csv.p7m");

  const auto finished = world.kbix("run once --wait 30");
  const ExpectedOutcome expected = parse_expect(c.expect);
  if (expected.accepted) {
    EXPECT_EQ(finished.exit_code, 0) << finished.output;
    EXPECT_NE(finished.output.find(" done since"), std::string::npos) << finished.output;
    const auto wanted = expected_output(c);
    ASSERT_TRUE(wanted) << "an accepted case needs \"output\": its exact expected output";
    EXPECT_EQ(read_file(world.output_dir() / ("vdab-derde-pijler-2023_" + run_id + ".csv")),
              *wanted);
    expect_no_plaintext_left(world, published_files(run_id));
  } else {
    EXPECT_EQ(finished.exit_code, 1) << finished.output;
    EXPECT_NE(finished.output.find("[" + expected.code + "]"), std::string::npos)
        << finished.output;
    expect_no_plaintext_left(world, /*expected_outputs=*/{});  // nothing published
    EXPECT_EQ(count_audit_events(world, "run.published"), 0u);
  }
  EXPECT_EQ(world.kbix("audit verify").exit_code, 0);
}

INSTANTIATE_TEST_SUITE_P(Manifest, HostileReturnEndToEnd,
                         ::testing::ValuesIn(hostile_cases_of_kind("return")),
                         [](const ::testing::TestParamInfo<HostileCase>& param_info) {
                           return hostile_test_name(param_info.param);
                         });

}  // namespace
}  // namespace kbix::test
