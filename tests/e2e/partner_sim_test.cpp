// The partner simulator on its own (it stands in for VDAB in every end-to-end test, so it is
// tested too): it refuses a file not signed by AgII and leaves it in place, answers only with
// people it was sent, in the protocol's columns, deterministically, and leaves no plaintext.
#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "e2e/e2e_support.hpp"
#include "kbix/core/protocol.hpp"
#include "kbix/domain/csv.hpp"
#include "kbix/envelope/envelope.hpp"
#include "kbix/runs/run_id.hpp"
#include "synthetic.hpp"

namespace kbix::test {
namespace {

namespace fs = std::filesystem;
const fs::path kKeys = KBIX_ENVELOPE_TEST_KEYS;

// Seals a one-column INSZ file as `signer` would and puts it in the simulator's inbox.
std::string place_outbound(ExchangeWorld& world, const std::string& signer, std::uint64_t people) {
  const fs::path plain = world.dir() / "outbound.csv";
  std::ofstream out(plain);
  out << "insz\n";
  for (std::uint64_t i = 0; i < people; ++i) out << synthetic::make_insz(3, i, 0.05) << "\n";
  out.close();
  auto sealer = Sealer::create({kKeys / (signer + ".crt"),
                                kKeys / (signer + ".key"),
                                std::nullopt,
                                {kKeys / "vdab-enc-rsa.crt", kKeys / "agii-enc-rsa.crt"},
                                EnvelopeProfile::gcm});
  EXPECT_TRUE(sealer);
  const std::string run_id = make_run_id(std::chrono::system_clock::now());
  const std::string name = outbound_remote_name("vdab-derde-pijler-2023", run_id);
  EXPECT_TRUE(sealer->seal(plain, world.sshd().sftp_root() / "naar-vdab" / name));
  fs::remove(plain);
  return run_id;
}

std::vector<std::vector<std::string>> open_return(ExchangeWorld& world, const std::string& run_id) {
  const fs::path sealed =
      world.sshd().sftp_root() / "van-vdab" / return_remote_name("vdab-derde-pijler-2023", run_id);
  OpenerConfig config;
  config.our_certificate = kKeys / "agii-enc-rsa.crt";
  config.our_key = kKeys / "agii-enc-rsa.key";
  config.pinned_signer_certificates = {kKeys / "vdab-sign-rsa.crt"};
  auto opener = Opener::create(config);
  EXPECT_TRUE(opener);
  const fs::path plain = world.dir() / (run_id + ".csv");
  auto opened = opener->open(sealed, plain);
  EXPECT_TRUE(opened) << opened.error().describe();
  std::ifstream in(plain);
  CsvReader reader(in, "return.csv");
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> fields;
  while (true) {
    auto more = reader.next(fields);
    if (!more || !*more) break;
    rows.push_back(fields);
  }
  return rows;
}

TEST(PartnerSimulator, AnswersOnlyWithPeopleItWasSentInTheProtocolsColumns) {
  ExchangeWorld world("sim-answers");
  const std::string run_id = place_outbound(world, "agii-sign-rsa", 400);
  auto report = sim::process_pending(world.simulator_options());
  ASSERT_TRUE(report) << report.error().describe();
  EXPECT_EQ(report->files, 1u);
  EXPECT_EQ(report->people_received, 400u);
  const auto rows = open_return(world, run_id);
  ASSERT_FALSE(rows.empty());
  auto protocol = load_protocol(KBIX_SOURCE_DIR "/config/protocols/vdab-derde-pijler-2023.toml");
  EXPECT_EQ(rows[0], protocol->return_columns);
  std::set<std::string> sent;
  for (std::uint64_t i = 0; i < 400; ++i) sent.insert(synthetic::make_insz(3, i, 0.05));
  for (std::size_t r = 1; r < rows.size(); ++r) EXPECT_TRUE(sent.contains(rows[r][0])) << r;
  EXPECT_EQ(rows.size() - 1, report->people_returned);
  EXPECT_GT(report->people_returned, 340u) << "about 95 % known to VDAB";
  EXPECT_LT(report->people_returned, 400u) << "some people unknown to VDAB";
  EXPECT_TRUE(files_under(world.sshd().sftp_root() / "naar-vdab").empty()) << "picked up";
  EXPECT_TRUE(files_under(world.dir() / "sim").empty()) << "no plaintext left in its work dir";

  // the same people again give the same answer
  const std::string again = place_outbound(world, "agii-sign-rsa", 400);
  ASSERT_TRUE(sim::process_pending(world.simulator_options()));
  EXPECT_EQ(open_return(world, again), rows);
}

TEST(PartnerSimulator, RefusesAFileNotSignedByAgiiAndLeavesItInPlace) {
  ExchangeWorld world("sim-refuses");
  place_outbound(world, "vdab-sign-rsa", 10);
  auto report = sim::process_pending(world.simulator_options());
  ASSERT_FALSE(report);
  EXPECT_NE(report.error().describe().find("envelope.unknown_signer"), std::string::npos)
      << report.error().describe();
  EXPECT_EQ(files_under(world.sshd().sftp_root() / "naar-vdab").size(), 1u);
  EXPECT_TRUE(files_under(world.sshd().sftp_root() / "van-vdab").empty());
  EXPECT_TRUE(files_under(world.dir() / "sim").empty());
}

}  // namespace
}  // namespace kbix::test
