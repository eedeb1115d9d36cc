// Certificate rollover with overlap, end to end through the real sshd (issue 16): the partner's
// signing certificate is replaced in the middle of a run, a listed but expired one is refused,
// and AgII's own keys are rotated while a run waits for its return.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "e2e/e2e_support.hpp"
#include "kbix/envelope/keys.hpp"

namespace kbix::test {
namespace {

namespace fs = std::filesystem;

const fs::path kKeys = KBIX_ENVELOPE_TEST_KEYS;

// A fresh P-256 key (beside it, ".key", 0600) and a self-signed certificate for `use` ("sign" or
// "enc"), made with the stock openssl CLI (`openssl ca -selfsign`, which takes any start and end
// date), valid from `from_days` to `to_days` around now.
fs::path make_certificate(const fs::path& dir, const std::string& name, const std::string& use,
                          int from_days, int to_days) {
  const fs::path ca = dir / ("ca-" + name);
  fs::create_directories(ca);
  std::ofstream(ca / "index.txt").flush();
  std::ofstream(ca / "serial") << "01\n";
  std::ofstream(ca / "ca.cnf")
      << "[ca]\ndefault_ca = test\n[test]\ndatabase = " << (ca / "index.txt").string()
      << "\nnew_certs_dir = " << ca.string() << "\nserial = " << (ca / "serial").string()
      << "\ndefault_md = sha256\npolicy = any\nx509_extensions = ext\nunique_subject = no\n"
      << "[any]\ncommonName = supplied\n[ext]\nkeyUsage = critical,"
      << (use == "sign" ? "digitalSignature" : "keyAgreement") << "\n";
  const fs::path key = dir / (name + ".key");
  const fs::path certificate = dir / (name + ".crt");
  const auto date = [](int days) {
    return "$(date -u -d '" + std::to_string(days) + " days' +%Y%m%d%H%M%SZ)";
  };
  const auto made = run_shell(
      "set -e; openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out " +
      key.string() + "; chmod 600 " + key.string() + "; openssl req -new -key " + key.string() +
      " -subj '/CN=" + name + " (TEST ONLY)' -out " + (ca / "req.csr").string() +
      "; openssl ca -batch -notext -selfsign -config " + (ca / "ca.cnf").string() + " -keyfile " +
      key.string() + " -in " + (ca / "req.csr").string() + " -startdate " + date(from_days) +
      " -enddate " + date(to_days) + " -out " + certificate.string());
  if (made.exit_code != 0) throw std::runtime_error("openssl: " + made.output);
  return certificate;
}

std::string fingerprint(const fs::path& certificate) {
  return Certificate::load(certificate)->fingerprint_sha256();
}

// The facts of the audit entries with this event name.
std::vector<nlohmann::json> audit_entries(const ExchangeWorld& world, const std::string& event) {
  std::vector<nlohmann::json> found;
  for (const auto& line : read_lines(world.state_dir() / "audit" / "audit.jsonl")) {
    auto entry = nlohmann::json::parse(line, nullptr, false);
    if (!entry.is_discarded() && entry.value("event", "") == event) found.push_back(entry);
  }
  return found;
}

// One pass of the partner, signing its return with `signer` (its key beside it).
void partner_signs_with(const ExchangeWorld& world, const fs::path& signer) {
  auto options = world.simulator_options();
  options.vdab_signing_certificate = signer;
  options.vdab_signing_key = fs::path(signer).replace_extension(".key");
  auto report = sim::process_pending(options);
  ASSERT_TRUE(report) << report.error().describe();
}

TEST(Rollover, ThePartnersSigningCertificateIsReplacedMidRun) {
  ExchangeWorld world("e2e-rollover-signer");
  world.generate_extract(60, 41);
  const auto started = world.kbix("run once --start");
  ASSERT_EQ(started.exit_code, 0) << started.output;
  ASSERT_NE(started.output.find("awaiting_return"), std::string::npos) << started.output;

  // While the run waits, VDAB renews its signing certificate; the operator lists both.
  const fs::path old_signer = kKeys / "vdab-sign-rsa.crt";
  const fs::path renewed = make_certificate(world.dir(), "vdab-sign-renewed", "sign", -1, 700);
  world.set_partner_signing_certificates({old_signer, renewed});
  world.write_config();
  const auto keys = world.kbix("keys check");
  EXPECT_NE(keys.output.find("partner VDAB signing certificate #2 (pinned): sha256:" +
                             fingerprint(renewed)),
            std::string::npos)
      << keys.output;

  partner_signs_with(world, renewed);
  const auto finished = world.kbix("run once --wait 60");
  ASSERT_EQ(finished.exit_code, 0) << finished.output;
  EXPECT_NE(finished.output.find(" done since"), std::string::npos) << finished.output;
  const auto verified = audit_entries(world, "run.return_verified");
  ASSERT_EQ(verified.size(), 1u);
  EXPECT_NE(verified[0].dump().find(fingerprint(renewed)), std::string::npos)
      << "the fingerprint that matched is audited: " << verified[0].dump();
  EXPECT_EQ(verified[0].dump().find(fingerprint(old_signer)), std::string::npos);
  EXPECT_EQ(world.kbix("audit verify").exit_code, 0);
}

TEST(Rollover, AReturnSignedWithAListedButExpiredCertificateIsRefused) {
  ExchangeWorld world("e2e-rollover-expired");
  const fs::path expired = make_certificate(world.dir(), "vdab-sign-expired", "sign", -800, -2);
  world.set_partner_signing_certificates({kKeys / "vdab-sign-rsa.crt", expired});
  world.write_config();
  world.generate_extract(60, 42);
  const auto started = world.kbix("run once --start");
  ASSERT_EQ(started.exit_code, 0) << started.output;

  partner_signs_with(world, expired);
  const auto refused = world.kbix("run once --wait 30");
  EXPECT_EQ(refused.exit_code, 1) << refused.output;
  EXPECT_NE(refused.output.find("[envelope.signer_expired]"), std::string::npos) << refused.output;
  EXPECT_EQ(audit_entries(world, "run.return_verified").size(), 0u);
  expect_no_plaintext_left(world, /*expected_outputs=*/{});
  // `keys check` shows the expired entry as covered by the valid one (a warning, not a failure).
  const auto keys = world.kbix("keys check");
  EXPECT_NE(keys.output.find("WARN partner VDAB signing certificate #2 (pinned)"),
            std::string::npos)
      << keys.output;
}

TEST(Rollover, ASnapshotSealedBeforeAnAgiiKeyRotationOpensWithThePreviousKey) {
  ExchangeWorld world("e2e-rollover-agii");
  world.generate_extract(60, 43);
  const auto started = world.kbix("run once --start");
  ASSERT_EQ(started.exit_code, 0) << started.output;

  // AgII rotates both its keys while the run waits; the old ones are listed as previous.
  const fs::path new_signing = make_certificate(world.dir(), "agii-sign-new", "sign", -1, 700);
  const fs::path new_decryption = make_certificate(world.dir(), "agii-enc-new", "enc", -1, 700);
  world.set_agii_certificates(new_signing, new_decryption);
  const std::string previous =
      "previous_decryption_keys = [{ certificate = \"" + (kKeys / "agii-enc-rsa.crt").string() +
      "\", key = \"" + (kKeys / "agii-enc-rsa.key").string() + "\" }]\n" +
      "previous_signing_certificates = [\"" + (kKeys / "agii-sign-rsa.crt").string() + "\"]\n";
  world.write_config("gcm", previous);

  // The partner still seals the return to AgII's old certificate (a run under way).
  world.simulate_partner();
  const auto finished = world.kbix("run once --wait 60");
  ASSERT_EQ(finished.exit_code, 0) << finished.output;
  EXPECT_NE(finished.output.find(" done since"), std::string::npos) << finished.output;
  const auto verified = audit_entries(world, "run.return_verified");
  ASSERT_EQ(verified.size(), 1u);
  EXPECT_NE(verified[0].dump().find(fingerprint(kKeys / "agii-enc-rsa.crt")), std::string::npos)
      << verified[0].dump();
  EXPECT_EQ(files_with_suffix(world.output_dir(), ".csv").size(), 1u);

  // Checkpoints were signed by both keys: audit verify needs the previous certificate listed.
  EXPECT_EQ(world.kbix("audit verify").exit_code, 0);
  world.write_config("gcm", "");
  const auto without = world.kbix("audit verify");
  EXPECT_NE(without.exit_code, 0) << without.output;
  EXPECT_NE(without.output.find("audit.bad_checkpoint_signature"), std::string::npos)
      << without.output;
  world.write_config("gcm", previous);
}

}  // namespace
}  // namespace kbix::test
