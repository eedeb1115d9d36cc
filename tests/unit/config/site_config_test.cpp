// Several exchanges in one configuration (issue 14): kbix.toml plus exchanges.d/*.toml. Each
// broken or conflicting exchange file is refused with its file, line and an actionable message,
// and the others load.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "kbix/config/config.hpp"

namespace {

namespace fs = std::filesystem;

std::string read(const fs::path& file) {
  std::ifstream in(file);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

class SiteConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("kbix-site-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "exchanges.d");
    fs::create_directories(dir_ / "protocols");
    const std::string shipped =
        read(KBIX_SOURCE_DIR "/config/protocols/vdab-derde-pijler-2023.toml");
    std::ofstream(dir_ / "protocols" / "vdab.toml") << shipped;
    std::ofstream(dir_ / "protocols" / "ander.toml") << std::regex_replace(
        shipped, std::regex("id = \"vdab-derde-pijler-2023\""), "id = \"ander-2026\"");
    std::ofstream(dir_ / "protocols" / "ended.toml") << std::regex_replace(
        std::regex_replace(shipped, std::regex("valid_from = [0-9-]+"), "valid_from = 2020-01-01"),
        std::regex("valid_until = [0-9-]+"), "valid_until = 2021-01-01");
    std::ofstream(dir_ / "kbix.toml")
        << "[daemon]\nstate_dir = \"state\"\noutput_dir = \"output\"\ninbox_dir = \"inbox\"\n"
        << "control_socket = \"control.sock\"\n\n"
        << "[keys]\nsigning_certificate = \"k/s.crt\"\nsigning_key = \"k/s.key\"\n"
        << "decryption_certificate = \"k/d.crt\"\ndecryption_key = \"k/d.key\"\n\n"
        << "[audit]\n";
  }
  void TearDown() override { fs::remove_all(dir_); }

  // An exchange file; `exchange_extra` goes into [exchange], `return_dir` into [sftp].
  void exchange(const std::string& file, const std::string& source, const std::string& protocol,
                const std::string& return_dir, const std::string& exchange_extra = "") {
    std::ofstream(dir_ / "exchanges.d" / file)
        << "[exchange]\n"
        << exchange_extra << "source = \"" << source << "\"\nprotocol = \"protocols/" << protocol
        << "\"\n\n[schedule]\nrun_dates = [\"03-15\"]\n\n"
        << "[partner]\nname = \"P\"\nencryption_certificate = \"k/p.crt\"\n"
        << "signing_certificate = \"k/ps.crt\"\n\n"
        << "[sftp]\nhost = \"127.0.0.1\"\nuser = \"agii\"\nidentity_file = \"k/id\"\n"
        << "known_hosts_file = \"k/kh\"\noutbound_dir = \"naar\"\nreturn_dir = \"" << return_dir
        << "\"\n";
  }

  kbix::SiteConfig load() {
    auto site = kbix::load_site_config(dir_ / "kbix.toml");
    EXPECT_TRUE(site) << site.error().describe();
    return site ? *site : kbix::SiteConfig{};
  }

  fs::path dir_;
};

TEST_F(SiteConfigTest, EachExchangeFileIsAnExchangeWithTheDaemonWideSettings) {
  exchange("vdab.toml", "kbi-vdab", "vdab.toml", "van-vdab");
  exchange("ander.toml", "kbi-gemeenten", "ander.toml", "van-ander");
  const auto site = load();
  ASSERT_EQ(site.exchanges.size(), 2u);
  EXPECT_TRUE(site.refused.empty());
  EXPECT_FALSE(site.single_exchange_form);
  const kbix::Config* vdab = site.find("vdab");
  ASSERT_NE(vdab, nullptr);
  EXPECT_EQ(vdab->protocol.id, "vdab-derde-pijler-2023");
  EXPECT_EQ(vdab->inbox(), dir_ / "inbox" / "kbi-vdab");
  EXPECT_EQ(vdab->quarantine_dir(), dir_ / "state" / "quarantine" / "vdab");
  EXPECT_EQ(vdab->keys.signing_key, dir_ / "k" / "s.key");
  EXPECT_EQ(site.find("ander")->protocol.id, "ander-2026");
  EXPECT_EQ(vdab->exchange.source_readers, std::vector<std::string>{"vdab"});
  auto none = kbix::select_exchange(site, "");
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, "config.exchange_required");
  EXPECT_NE(none.error().message.find("ander, vdab"), std::string::npos);
  auto unknown = kbix::select_exchange(site, "genk");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, "config.unknown_exchange");
}

TEST_F(SiteConfigTest, ABrokenExchangeFileIsRefusedWithItsPositionAndTheOthersLoad) {
  exchange("vdab.toml", "kbi-vdab", "vdab.toml", "van-vdab");
  std::ofstream(dir_ / "exchanges.d" / "broken.toml")
      << "[exchange]\nsource = \"kbi-x\"\nprotocl = \"protocols/vdab.toml\"\n";
  const auto site = load();
  ASSERT_EQ(site.exchanges.size(), 1u);
  ASSERT_EQ(site.refused.size(), 1u);
  EXPECT_EQ(site.refused[0].file.filename(), "broken.toml");
  const std::string& message = site.refused[0].error.message;
  EXPECT_NE(message.find("broken.toml:"), std::string::npos) << message;
  EXPECT_TRUE(site.refused[0].error.code.starts_with("config.")) << site.refused[0].error.code;
}

TEST_F(SiteConfigTest, TwoExchangesWithTheSameNameAreRefused) {
  exchange("a.toml", "kbi-a", "vdab.toml", "van-a", "name = \"vdab\"\n");
  exchange("b.toml", "kbi-b", "ander.toml", "van-b", "name = \"vdab\"\n");
  const auto site = load();
  ASSERT_EQ(site.exchanges.size(), 1u);
  ASSERT_EQ(site.refused.size(), 1u);
  EXPECT_EQ(site.refused[0].error.code, "config.duplicate_exchange");
  EXPECT_NE(site.refused[0].error.message.find("b.toml:2:8"), std::string::npos)
      << site.refused[0].error.message;
  EXPECT_NE(site.refused[0].error.message.find("a.toml"), std::string::npos);
}

TEST_F(SiteConfigTest, AnExchangeNamingAProtocolThatIsNotThereIsRefused) {
  exchange("vdab.toml", "kbi-vdab", "vdab.toml", "van-vdab");
  exchange("genk.toml", "kbi-genk", "genk-art20.toml", "van-genk");
  const auto site = load();
  ASSERT_EQ(site.refused.size(), 1u);
  EXPECT_EQ(site.refused[0].error.code, "config.missing_file");
  EXPECT_NE(site.refused[0].error.message.find("genk.toml:3:"), std::string::npos)
      << site.refused[0].error.message;
  EXPECT_NE(site.refused[0].error.message.find("protocols AgII signed"), std::string::npos);
}

TEST_F(SiteConfigTest, AnEndedProtocolLoadsButIsShownAsEnded) {
  exchange("old.toml", "kbi-old", "ended.toml", "van-old");
  const auto site = load();
  ASSERT_EQ(site.exchanges.size(), 1u);
  const auto today = std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now());
  EXPECT_TRUE(kbix::protocol_ended(site.exchanges[0].protocol, today));
}

TEST_F(SiteConfigTest, OverlappingSourcesOrReturnDirectoriesAreRefused) {
  exchange("a.toml", "kbi-vdab", "vdab.toml", "van-a");
  // The same source with an extract of other columns.
  std::string other = read(dir_ / "protocols" / "ander.toml");
  other = std::regex_replace(other, std::regex("extract = \\["), "extract = [\"extra_kolom\", ");
  std::ofstream(dir_ / "protocols" / "ander.toml") << other;
  exchange("b.toml", "kbi-vdab", "ander.toml", "van-b");
  // Another exchange reading returns from a's return directory on the same server.
  exchange("c.toml", "kbi-c", "vdab.toml", "van-a");
  const auto site = load();
  ASSERT_EQ(site.exchanges.size(), 1u);
  ASSERT_EQ(site.refused.size(), 2u);
  EXPECT_EQ(site.refused[0].error.code, "config.overlapping_exchange");
  EXPECT_NE(site.refused[0].error.message.find("b.toml:2:"), std::string::npos)
      << site.refused[0].error.message;
  EXPECT_NE(site.refused[0].error.message.find("source of its own"), std::string::npos);
  EXPECT_EQ(site.refused[1].error.code, "config.overlapping_exchange");
  EXPECT_NE(site.refused[1].error.message.find("return directory of its own"), std::string::npos)
      << site.refused[1].error.message;
}

TEST_F(SiteConfigTest, ExchangesOfOneSourceKnowEachOther) {
  exchange("a.toml", "kbi-gemeenten", "vdab.toml", "van-a");
  exchange("b.toml", "kbi-gemeenten", "vdab.toml", "van-b");
  const auto site = load();
  ASSERT_EQ(site.exchanges.size(), 2u);
  EXPECT_EQ(site.exchanges[0].exchange.source_readers, (std::vector<std::string>{"a", "b"}));
}

TEST_F(SiteConfigTest, BothFormsAtOnceAreRefused) {
  exchange("vdab.toml", "kbi-vdab", "vdab.toml", "van-vdab");
  std::ofstream(dir_ / "kbix.toml", std::ios::app)
      << "\n[protocol]\nfile = \"protocols/vdab.toml\"\n";
  auto site = kbix::load_site_config(dir_ / "kbix.toml");
  ASSERT_FALSE(site);
  EXPECT_EQ(site.error().code, "config.mixed_forms");
  EXPECT_NE(site.error().message.find("kbix config migrate"), std::string::npos);
}

TEST_F(SiteConfigTest, TheSingleExchangeFormIsOneExchangeNamedAfterItsPartner) {
  auto site = kbix::load_site_config(KBIX_SOURCE_DIR "/tests/data/config/good.toml");
  ASSERT_TRUE(site) << site.error().describe();
  EXPECT_TRUE(site->single_exchange_form);
  ASSERT_EQ(site->exchanges.size(), 1u);
  EXPECT_EQ(site->exchanges[0].exchange.name, "vdab");
  EXPECT_EQ(site->exchanges[0].inbox(), site->exchanges[0].daemon.inbox_dir);
}

TEST_F(SiteConfigTest, TheShippedConfigurationIsOneExchangeFileOfSourceKbiVdab) {
  auto site = kbix::load_site_config(KBIX_SOURCE_DIR "/config/kbix.toml");
  ASSERT_TRUE(site) << site.error().describe();
  EXPECT_FALSE(site->single_exchange_form);
  EXPECT_TRUE(site->refused.empty());
  ASSERT_EQ(site->exchanges.size(), 1u);
  const auto& vdab = site->exchanges[0];
  EXPECT_EQ(vdab.exchange.name, "vdab");
  EXPECT_EQ(vdab.exchange.source, "kbi-vdab");
  EXPECT_EQ(vdab.protocol.id, "vdab-derde-pijler-2023");
  EXPECT_EQ(vdab.partner.name, "VDAB");
  EXPECT_EQ(vdab.inbox(), "/var/lib/kbix/inbox/kbi-vdab");
  EXPECT_EQ(vdab.quarantine_dir(), "/var/lib/kbix/quarantine/vdab");
}

TEST(ProtocolValidity, AnOpenEndNeedsAReviewDateAndExcludesAnEndDate) {
  const fs::path dir = fs::temp_directory_path() / ("kbix-validity-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string shipped = read(KBIX_SOURCE_DIR "/config/protocols/vdab-derde-pijler-2023.toml");
  const auto variant = [&](const std::string& replacement) {
    const fs::path file = dir / "p.toml";
    std::ofstream(file) << std::regex_replace(shipped, std::regex("valid_until = [0-9-]+"),
                                              replacement);
    return kbix::load_protocol(file);
  };
  auto open = variant("open_end = true\nreview_date = 2030-01-01");
  ASSERT_TRUE(open) << open.error().describe();
  EXPECT_FALSE(open->valid_until);
  EXPECT_EQ(open->review_date, std::chrono::sys_days{std::chrono::year{2030} / 1 / 1});
  auto no_review = variant("open_end = true");
  ASSERT_FALSE(no_review);
  EXPECT_NE(no_review.error().message.find("review_date"), std::string::npos);
  auto both = variant("open_end = true\nreview_date = 2030-01-01\nvalid_until = 2031-01-01");
  ASSERT_FALSE(both);
  EXPECT_NE(both.error().message.find("exclude each other"), std::string::npos);
  auto neither = variant("");
  ASSERT_FALSE(neither);
  EXPECT_NE(neither.error().message.find("valid_until"), std::string::npos);
  auto export_kind = variant("valid_until = 2028-03-03\nkind = \"export\"");
  ASSERT_FALSE(export_kind) << "an export has no outbound or return columns";
  EXPECT_NE(export_kind.error().message.find("belongs to a round trip"), std::string::npos);
  fs::remove_all(dir);
}

}  // namespace

// Export exchanges (issue 15): [export] instead of [partner] and [sftp]; the protocol decides.
class ExportExchangeTest : public SiteConfigTest {
 protected:
  void SetUp() override {
    SiteConfigTest::SetUp();
    for (const char* name :
         {"genk-art20-2021", "template-participatie-netwerktraject", "wetteren-amif507-2023"}) {
      fs::copy_file(fs::path(KBIX_SOURCE_DIR "/config/protocols") / (std::string(name) + ".toml"),
                    dir_ / "protocols" / (std::string(name) + ".toml"));
    }
    std::string config = read(dir_ / "kbix.toml");
    config.replace(config.find("[daemon]\n"), 9, "[daemon]\noutbox_dir = \"outbox\"\n");
    std::ofstream(dir_ / "kbix.toml") << config;
  }
  void export_exchange(const std::string& name, const std::string& protocol,
                       const std::string& body) {
    std::ofstream(dir_ / "exchanges.d" / (name + ".toml"))
        << "[exchange]\nsource = \"kbi-gemeenten\"\nprotocol = \"protocols/" << protocol
        << ".toml\"\n\n"
        << body;
  }
  std::string refusal_of(const kbix::SiteConfig& site) {
    return site.refused.empty()
               ? ""
               : site.refused.front().error.code + " " + site.refused.front().error.message;
  }
};

TEST_F(ExportExchangeTest, AGenkExchangeHasItsMunicipalityAndNoServer) {
  export_exchange("genk", "genk-art20-2021",
                  "[export]\nmunicipality = \"Stad Genk\"\nresidence_nis = \"71016\"\n");
  const auto site = load();
  ASSERT_EQ(site.exchanges.size(), 1u) << refusal_of(site);
  const kbix::Config& genk = site.exchanges.front();
  EXPECT_TRUE(genk.is_export());
  EXPECT_EQ(genk.export_settings.residence_nis, "71016");
  EXPECT_EQ(genk.outbox(), dir_ / "outbox" / "genk");
  EXPECT_EQ(genk.export_settings.profile, "xlsx-agile");
}

TEST_F(ExportExchangeTest, AnExportFileWithAServerOrABadNisOrScheduleOnRequestIsRefused) {
  export_exchange("genk", "genk-art20-2021",
                  "[export]\nmunicipality = \"Stad Genk\"\nresidence_nis = \"71016\"\n\n"
                  "[sftp]\nhost = \"127.0.0.1\"\n");
  export_exchange("genk2", "genk-art20-2021",
                  "[export]\nmunicipality = \"Stad Genk\"\nresidence_nis = \"7101\"\n");
  export_exchange("genk3", "genk-art20-2021",
                  "[export]\nmunicipality = \"Stad Genk\"\nresidence_nis = \"71016\"\n\n"
                  "[schedule]\nrun_dates = [\"03-15\"]\n");
  const auto site = load();
  EXPECT_TRUE(site.exchanges.empty());
  ASSERT_EQ(site.refused.size(), 3u);
  EXPECT_NE(site.refused[0].error.message.find("has no [sftp]"), std::string::npos)
      << site.refused[0].error.message;
  EXPECT_NE(site.refused[0].error.message.find("genk.toml:"), std::string::npos);
  EXPECT_NE(site.refused[1].error.message.find("five-digit NIS code"), std::string::npos)
      << site.refused[1].error.message;
  EXPECT_NE(site.refused[2].error.message.find("on request only"), std::string::npos)
      << site.refused[2].error.message;
}

TEST_F(ExportExchangeTest, ExportsNeedAnOutboxAndSignedDatesStayInsideTheTemplate) {
  std::string config = read(dir_ / "kbix.toml");
  config.replace(config.find("outbox_dir = \"outbox\"\n"), 22, "");
  std::ofstream(dir_ / "kbix.toml") << config;
  export_exchange("genk", "genk-art20-2021",
                  "[export]\nmunicipality = \"Stad Genk\"\nresidence_nis = \"71016\"\n");
  auto site = load();
  ASSERT_EQ(site.refused.size(), 1u);
  EXPECT_EQ(site.refused.front().error.code, "config.missing_key");
  EXPECT_NE(site.refused.front().error.message.find("outbox_dir"), std::string::npos);

  config = read(dir_ / "kbix.toml");
  config.replace(config.find("[daemon]\n"), 9, "[daemon]\noutbox_dir = \"outbox\"\n");
  std::ofstream(dir_ / "kbix.toml") << config;
  fs::remove(dir_ / "exchanges.d" / "genk.toml");
  export_exchange("gent", "template-participatie-netwerktraject",
                  "[export]\nmunicipality = \"Stad Gent\"\nresidence_nis = \"44021\"\n"
                  "status_dir = \"status\"\nsigned_from = 2024-01-01\nsigned_until = 2030-01-01\n"
                  "\n[schedule]\nrun_dates = [\"01-15\"]\n");
  site = load();
  ASSERT_EQ(site.refused.size(), 1u);
  EXPECT_NE(site.refused.front().error.message.find("signed_until"), std::string::npos)
      << site.refused.front().error.message;
}

namespace {

// An export that drops its lists on the municipality's SFTP server ([export] delivery = "sftp"):
// its [sftp] is read by the round trip's reader, with the drop directory as outbound_dir and
// nothing about returns; without delivery = "sftp" there is no [sftp], and never a [partner].
std::string genk_export(const std::string& delivery) {
  return "[export]\nmunicipality = \"Stad Genk\"\nresidence_nis = \"71016\"\n" + delivery +
         "poll_interval_seconds = 7\n";
}
std::string drop_server(const std::string& extra = "") {
  return "\n[sftp]\nhost = \"sftp.genk.example\"\nport = 2222\nuser = \"agii\"\n"
         "identity_file = \"k/id\"\nknown_hosts_file = \"k/kh\"\noutbound_dir = \"inkomend\"\n"
         "connect_timeout_seconds = 5\nkeepalive_seconds = 9\n" +
         extra;
}

class SftpDropConfigTest : public ExportExchangeTest {
 protected:
  // "genk.toml:LINE:" of the first line of the exchange file that starts with `text`.
  std::string position_of(const std::string& text) {
    std::ifstream in(dir_ / "exchanges.d" / "genk.toml");
    int number = 0;
    for (std::string line; std::getline(in, line);) {
      ++number;
      if (line.rfind(text, 0) == 0) return "genk.toml:" + std::to_string(number) + ":";
    }
    return "genk.toml: no line " + text;
  }
};

TEST_F(SftpDropConfigTest, AnSftpDropReadsItsServerWithTheRoundTripsReader) {
  export_exchange("genk", "genk-art20-2021", genk_export("delivery = \"sftp\"\n") + drop_server());
  const auto site = load();
  ASSERT_EQ(site.exchanges.size(), 1u) << refusal_of(site);
  const kbix::Config& genk = site.exchanges.front();
  EXPECT_TRUE(genk.delivers_by_sftp());
  EXPECT_EQ(genk.export_settings.delivery, kbix::ExportDelivery::sftp);
  EXPECT_EQ(genk.sftp.connection.host, "sftp.genk.example");
  EXPECT_EQ(genk.sftp.connection.port, 2222);
  EXPECT_EQ(genk.sftp.connection.user, "agii");
  EXPECT_EQ(genk.sftp.connection.identity_file, dir_ / "k/id");
  EXPECT_EQ(genk.sftp.connection.known_hosts_file, dir_ / "k/kh");
  EXPECT_EQ(genk.sftp.outbound_dir, "inkomend");
  EXPECT_TRUE(genk.sftp.return_dir.empty());
  EXPECT_EQ(genk.sftp.connection.connect_timeout, std::chrono::seconds(5));
  EXPECT_EQ(genk.sftp.connection.keepalive_interval, std::chrono::seconds(9));
  // The exchange's poll interval stays [export]'s.
  EXPECT_EQ(genk.sftp.poll_interval, std::chrono::seconds(7));
}

TEST_F(SftpDropConfigTest, TheDefaultIsTheOutboxAndItHasNoServer) {
  export_exchange("genk", "genk-art20-2021", genk_export("delivery = \"outbox\"\n"));
  auto site = load();
  ASSERT_EQ(site.exchanges.size(), 1u) << refusal_of(site);
  EXPECT_FALSE(site.exchanges.front().delivers_by_sftp());
  export_exchange("genk", "genk-art20-2021", genk_export("") + drop_server());
  site = load();
  ASSERT_EQ(site.refused.size(), 1u);
  EXPECT_NE(refusal_of(site).find("has no [sftp] unless [export] delivery = \"sftp\""),
            std::string::npos)
      << refusal_of(site);
  EXPECT_NE(refusal_of(site).find(position_of("[sftp]")), std::string::npos) << refusal_of(site);
}

// Each refusal names the file, line and column of what is wrong, and never echoes a value.
struct DropRefusal {
  std::string name;
  std::string delivery;  // the [export] delivery line
  std::string sections;  // what follows [export]
  std::string at;        // the line the error points at (its start)
  std::string says;      // part of the message
};

class SftpDropRefusal : public SftpDropConfigTest,
                        public ::testing::WithParamInterface<DropRefusal> {};

TEST_P(SftpDropRefusal, IsRefusedWithItsPosition) {
  const DropRefusal& param = GetParam();
  export_exchange("genk", "genk-art20-2021", genk_export(param.delivery) + param.sections);
  const auto site = load();
  EXPECT_TRUE(site.exchanges.empty());
  ASSERT_EQ(site.refused.size(), 1u);
  const std::string refusal = refusal_of(site);
  EXPECT_NE(refusal.find(param.says), std::string::npos) << refusal;
  EXPECT_NE(refusal.find(position_of(param.at)), std::string::npos) << refusal;
  EXPECT_EQ(refusal.find("sftp.genk.example"), std::string::npos) << "no value echoed";
}

INSTANTIATE_TEST_SUITE_P(
    KeysAndSections, SftpDropRefusal,
    ::testing::Values(DropRefusal{"UnknownDelivery", "delivery = \"ftp\"\n", "", "delivery",
                                  "must be \"outbox\""},
                      DropRefusal{"SftpDeliveryWithoutServer", "delivery = \"sftp\"\n", "",
                                  "[exchange]", "[sftp]"},
                      DropRefusal{"ReturnDirectory", "delivery = \"sftp\"\n",
                                  drop_server("return_dir = \"uitgaand\"\n"), "return_dir",
                                  "nothing comes back"},
                      DropRefusal{"PollIntervalInSftp", "delivery = \"sftp\"\n",
                                  drop_server("poll_interval_seconds = 5\n"),
                                  "poll_interval_seconds = 5", "[export] poll_interval_seconds"},
                      DropRefusal{"DownloadCap", "delivery = \"sftp\"\n",
                                  drop_server("max_download_bytes = 4096\n"), "max_download_bytes",
                                  "nothing comes back"},
                      DropRefusal{"NoDropDirectory", "delivery = \"sftp\"\n",
                                  "\n[sftp]\nhost = \"sftp.genk.example\"\nuser = \"agii\"\n"
                                  "identity_file = \"k/id\"\nknown_hosts_file = \"k/kh\"\n",
                                  "[sftp]", "outbound_dir"},
                      DropRefusal{"TypoInTheServer", "delivery = \"sftp\"\n",
                                  drop_server("hots = \"x\"\n"), "hots", "unknown key"},
                      DropRefusal{"PartnerWithSftp", "delivery = \"sftp\"\n",
                                  drop_server() + "\n[partner]\nname = \"Stad Genk\"\n",
                                  "[partner]", "has no [partner]"},
                      DropRefusal{"PartnerWithOutbox", "", "\n[partner]\nname = \"Stad Genk\"\n",
                                  "[partner]", "has no [partner]"}),
    [](const auto& test_case) { return test_case.param.name; });

}  // namespace
