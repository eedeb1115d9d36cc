// The four municipal export protocols as data (issue 15): the loader accepts the shipped files and
// refuses a file that breaks its own article 3, naming FILE:LINE:COL.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <regex>
#include <sstream>

#include "kbix/core/protocol.hpp"

namespace {

namespace fs = std::filesystem;
using namespace std::chrono;

const std::string kProtocols = KBIX_SOURCE_DIR "/config/protocols/";

std::string read(const fs::path& file) {
  std::ifstream in(file);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

kbix::Protocol load(const std::string& name) {
  auto protocol = kbix::load_protocol(kProtocols + name);
  EXPECT_TRUE(protocol) << protocol.error().describe();
  return protocol ? *protocol : kbix::Protocol{};
}

// A shipped protocol file with `pattern` replaced, loaded from a scratch directory.
class ProtocolVariant : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("kbix-export-protocol-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  kbix::Result<kbix::Protocol> variant(const std::string& shipped, const std::string& pattern,
                                       const std::string& replacement) {
    const std::string text = read(kProtocols + shipped);
    const std::string changed = std::regex_replace(text, std::regex(pattern), replacement);
    EXPECT_NE(changed, text) << "the pattern must match: " << pattern;
    file_ = dir_ / shipped;
    std::ofstream(file_) << changed;
    return kbix::load_protocol(file_);
  }

  // The error names this file with a line and column, and carries `code`.
  void expect_refused(const kbix::Result<kbix::Protocol>& result, const std::string& code,
                      const std::string& words) {
    ASSERT_FALSE(result) << "accepted, expected " << code;
    EXPECT_EQ(result.error().code, code) << result.error().message;
    EXPECT_TRUE(std::regex_search(
        result.error().message,
        std::regex("^" + std::regex_replace(file_.string(), std::regex("[.+]"), "\\$&") +
                   ":[0-9]+:[0-9]+: ")))
        << result.error().message;
    EXPECT_NE(result.error().message.find(words), std::string::npos) << result.error().message;
  }

  fs::path dir_;
  fs::path file_;
};

TEST(ExportProtocol, TheFourMunicipalProtocolsLoadAndShareOneExtract) {
  const char* files[] = {"genk-art20-2021.toml", "template-participatie-netwerktraject.toml",
                         "wetteren-amif507-2023.toml", "sint-pieters-leeuw-amif507-2021.toml"};
  std::vector<std::string> first_extract;
  for (const char* file : files) {
    const auto protocol = load(file);
    EXPECT_EQ(protocol.kind, kbix::ProtocolKind::export_) << file;
    ASSERT_TRUE(protocol.export_rules) << file;
    EXPECT_EQ(protocol.key_column, "insz") << file;
    EXPECT_TRUE(protocol.outbound_columns.empty()) << file;
    EXPECT_TRUE(protocol.return_columns.empty()) << file;
    if (first_extract.empty()) first_extract = protocol.extract_columns;
    EXPECT_EQ(protocol.extract_columns, first_extract) << file << ": one source, one extract";
    for (const auto& field : protocol.export_rules->fields) {
      EXPECT_NE(std::find(first_extract.begin(), first_extract.end(), field), first_extract.end());
    }
  }
  EXPECT_EQ(first_extract.size(), 20u);
}

TEST(ExportProtocol, GenkIsTheArticle20ListOnRequestOnceAYear) {
  const auto genk = load("genk-art20-2021.toml");
  ASSERT_TRUE(genk.export_rules);
  const auto& rules = *genk.export_rules;
  EXPECT_EQ(rules.fields,
            (std::vector<std::string>{"insz", "inburgeringscontract_getekend", "attest_behaald"}));
  EXPECT_EQ(rules.legal_cap,
            (std::vector<std::string>{"naam", "voornaam", "insz", "inburgeringscontract_getekend",
                                      "attest_behaald"}));
  EXPECT_EQ(rules.scope.kind, kbix::ExportScope::Kind::residence);
  EXPECT_EQ(rules.scope.column, "woonplaats_nis");
  EXPECT_EQ(rules.trigger, kbix::ExportTrigger::on_request);
  EXPECT_TRUE(rules.request_reference_required);
  EXPECT_FALSE(rules.person_retention);
  EXPECT_FALSE(rules.status_return);
  EXPECT_EQ(genk.cadence_months, 12);
  EXPECT_EQ(genk.valid_from, sys_days{2021y / June / 2});
  EXPECT_FALSE(genk.valid_until) << "voor onbepaalde duur";
  ASSERT_TRUE(genk.review_date);
  EXPECT_FALSE(kbix::protocol_ended(genk, sys_days{2026y / December / 2}));
}

TEST(ExportProtocol, TheTemplateCarriesClosedListsStatusReturnAndPersonRetention) {
  const auto templ = load("template-participatie-netwerktraject.toml");
  ASSERT_TRUE(templ.export_rules);
  const auto& rules = *templ.export_rules;
  EXPECT_EQ(rules.fields.size(), 13u);
  EXPECT_EQ(rules.closed_lists, (std::vector<std::string>{"interesses", "noden"}));
  // Art. 3: eleven codes "en enkel deze", plus "geen".
  EXPECT_EQ(templ.domains.at("interesses").codes.size() + templ.domains.at("noden").codes.size(),
            11u + 2u);
  EXPECT_TRUE(rules.status_return);
  EXPECT_FALSE(rules.status_codes.empty());
  EXPECT_EQ(rules.reference_column, "referentie");
  ASSERT_TRUE(rules.person_retention);
  EXPECT_EQ(rules.person_retention->date_column, "datum_attest");
  EXPECT_EQ(rules.person_retention->months, 6);
  EXPECT_EQ(rules.scope.kind, kbix::ExportScope::Kind::participation);
  EXPECT_EQ(rules.scope.residence_column, "woonplaats_nis");
  EXPECT_EQ(templ.valid_until, sys_days{2025y / January / 1}) << "art. 5: ends 31/12/24";
}

TEST(ExportProtocol, WetterenSintPietersLeeuwAndTheTemplateHaveEnded) {
  const auto today = sys_days{2026y / December / 2};
  const auto wetteren = load("wetteren-amif507-2023.toml");
  const auto spl = load("sint-pieters-leeuw-amif507-2021.toml");
  const auto templ = load("template-participatie-netwerktraject.toml");
  EXPECT_TRUE(kbix::protocol_ended(wetteren, today));
  EXPECT_TRUE(kbix::protocol_ended(spl, today));
  EXPECT_TRUE(kbix::protocol_ended(templ, today));
  // The last day of each is still inside, the day after is not.
  EXPECT_FALSE(kbix::protocol_ended(wetteren, sys_days{2023y / December / 31}));
  EXPECT_TRUE(kbix::protocol_ended(wetteren, sys_days{2024y / January / 1}));
  EXPECT_FALSE(kbix::protocol_ended(spl, sys_days{2022y / June / 30}));
  EXPECT_TRUE(kbix::protocol_ended(spl, sys_days{2022y / July / 1}));
  EXPECT_EQ(wetteren.valid_from, sys_days{2023y / March / 1});
  EXPECT_EQ(spl.valid_from, sys_days{2021y / June / 15});
  ASSERT_TRUE(spl.export_rules);
  EXPECT_EQ(spl.export_rules->scope.kind, kbix::ExportScope::Kind::consent);
  EXPECT_EQ(spl.export_rules->scope.column, "toestemming");
  ASSERT_TRUE(wetteren.export_rules);
  EXPECT_EQ(wetteren.export_rules->fields, spl.export_rules->fields) << "the same art. 3";
}

TEST_F(ProtocolVariant, AFieldBeyondTheLegalCapIsRefusedByName) {
  expect_refused(
      variant("genk-art20-2021.toml", "fields = \\[\"insz\",", "fields = [\"insz\", \"telefoon\","),
      "config.exceeds_legal_cap", "'telefoon'");
}

TEST_F(ProtocolVariant, AFieldInsideTheLegalCapIsAccepted) {
  auto result = variant("genk-art20-2021.toml", "fields = \\[\"insz\",",
                        "fields = [\"naam\", \"voornaam\", \"insz\",");
  ASSERT_TRUE(result) << result.error().describe();
  EXPECT_EQ(result->export_rules->fields.size(), 5u);
}

TEST_F(ProtocolVariant, AnUnknownFieldIsRefused) {
  expect_refused(
      variant("wetteren-amif507-2023.toml",
              "\"contacttaal\", \"niveau_nederlands\", \"status_mo\",\n\\]",
              "\"contacttaal\", \"niveau_nederlands\", \"status_mo\", \"geboorteland\",\n]"),
      "config.unknown_column", "'geboorteland'");
}

TEST_F(ProtocolVariant, ALegalCapColumnOutsideTheExtractIsRefused) {
  expect_refused(variant("genk-art20-2021.toml", "legal_cap = \\[\"naam\"", "legal_cap = [\"nam\""),
                 "config.unknown_column", "'nam'");
}

TEST_F(ProtocolVariant, AScopeColumnOutsideTheExtractIsRefused) {
  expect_refused(
      variant("genk-art20-2021.toml", "column = \"woonplaats_nis\"", "column = \"woonplaats\""),
      "config.unknown_column", "'woonplaats'");
  expect_refused(
      variant("genk-art20-2021.toml", "column = \"woonplaats_nis\"", "column = \"insz\""),
      "config.value", "is the key");
  expect_refused(variant("sint-pieters-leeuw-amif507-2021.toml",
                         "residence_column = \"woonplaats_nis\"", "residence_column = \"nis\""),
                 "config.unknown_column", "'nis'");
  expect_refused(variant("genk-art20-2021.toml", "kind = \"residence\"", "kind = \"woonplaats\""),
                 "config.value", "\"residence\"");
}

TEST_F(ProtocolVariant, TheRetentionDateMustBeADateColumnOfTheExtract) {
  const std::string templ = "template-participatie-netwerktraject.toml";
  expect_refused(variant(templ, "date_column = \"datum_attest\"", "date_column = \"datum\""),
                 "config.unknown_column", "'datum'");
  expect_refused(variant(templ, "date_column = \"datum_attest\"", "date_column = \"naam\""),
                 "config.value", "needs a date domain");
  expect_refused(variant(templ, "months = 6", "months = 0"), "config.range", "months");
}

TEST_F(ProtocolVariant, AClosedListNeedsACodesDomainOnAField) {
  const std::string templ = "template-participatie-netwerktraject.toml";
  expect_refused(variant(templ, "closed_lists = \\[\"interesses\", \"noden\"\\]",
                         "closed_lists = [\"interesses\", \"naam\"]"),
                 "config.value", "needs a codes domain");
  expect_refused(variant(templ, "closed_lists = \\[\"interesses\", \"noden\"\\]",
                         "closed_lists = [\"interesses\", \"toestemming\"]"),
                 "config.value", "not one of the fields");
}

TEST_F(ProtocolVariant, TheStatusReturnNeedsItsClosedListAndAColumnOfItsOwn) {
  const std::string templ = "template-participatie-netwerktraject.toml";
  expect_refused(variant(templ, "status_codes = \\[[^\\]]*\\]\n", ""), "config.missing_key",
                 "status_codes");
  expect_refused(variant(templ, "status_codes = \\[[^\\]]*\\]", "status_codes = []"),
                 "config.value", "closed list");
  expect_refused(variant(templ, "reference_column = \"referentie\"", "reference_column = \"naam\""),
                 "config.value", "is an extract column");
  expect_refused(
      variant("genk-art20-2021.toml", "trigger = ", "status_codes = [\"a\"]\ntrigger = "),
      "config.value", "belongs to status_return = true");
}

TEST_F(ProtocolVariant, ProfilesTriggerAndKindAreChecked) {
  const std::string genk = "genk-art20-2021.toml";
  expect_refused(variant(genk, "profiles = \\[\"xlsx-agile\"", "profiles = [\"zipcrypto\""),
                 "config.value", "'zipcrypto'");
  expect_refused(variant(genk, "trigger = \"on_request\"", "trigger = \"schedule\""),
                 "config.value", "needs trigger = \"on_request\"");
  expect_refused(variant(genk, "\\[datasets\\]\nkey = \"insz\"",
                         "[datasets]\nkey = \"insz\"\noutbound = [\"insz\"]"),
                 "config.value", "belongs to a round trip");
  expect_refused(
      variant(genk, "retention_years = 5", "retention_years = 5\npseudonym = \"hmac-sha256\""),
      "config.value", "not pseudonymised");
  expect_refused(variant(genk, "\\[export\\]\n", "[disclosure]\nk = 5\n\n[export]\n"),
                 "config.value", "identifying by design");
  expect_refused(variant(genk, "kind = \"export\"\n", ""), "config.value", "[export] belongs to");
  expect_refused(variant(genk, "legal_basis = \"[^\"]*\"", "legal_basis = \"\""), "config.value",
                 "must cite");
}

TEST(ExportProtocol, ParsesStrictIsoDatesAndClosedLists) {
  EXPECT_EQ(kbix::parse_date("2024-02-29"), sys_days{2024y / February / 29});
  EXPECT_FALSE(kbix::parse_date("2023-02-29"));
  EXPECT_FALSE(kbix::parse_date("2023-2-01"));
  EXPECT_FALSE(kbix::parse_date("01/02/2023"));
  kbix::ColumnDomain domain;
  domain.codes = {"buddy", "Nederlands oefenen", "geen"};
  domain.separator = "|";
  EXPECT_TRUE(kbix::codes_allow(domain, "buddy|Nederlands oefenen"));
  EXPECT_TRUE(kbix::codes_allow(domain, "geen"));
  EXPECT_FALSE(kbix::codes_allow(domain, "buddy|koken"));
  EXPECT_FALSE(kbix::codes_allow(domain, "buddy|"));
  domain.separator.clear();
  EXPECT_FALSE(kbix::codes_allow(domain, "buddy|geen"));
}

// CodeList answers as codes_allow, for short codes (compared as words), a code longer than a word
// (codes_allow itself), with and without a separator, on cells built from near misses: a code's
// prefix, its extension, a NUL byte, another case, empty parts.
TEST(ExportProtocol, ACodeListAllowsExactlyWhatCodesAllowDoes) {
  const std::vector<std::vector<std::string>> lists = {{"M", "V", "X"},
                                                       {"ja", "nee"},
                                                       {"A1", "A2", "B1", "B2"},
                                                       {"laag", "midden", "hoog"},
                                                       {"exactly8", "seven77"},
                                                       {"buddy", "Nederlands oefenen", "geen"},
                                                       {"", "x"}};
  const std::vector<std::string> pieces = {"M",          "V",        "m",
                                           "X",          "ja",       "nee",
                                           "jaa",        "j",        "A1",
                                           "a1",         "B2",       "B3",
                                           "laag",       "hoog",     "hoo",
                                           "midden",     "exactly8", "exactly",
                                           "exactly89",  "seven77",  std::string("M\0", 2),
                                           "buddy",      "geen",     "Nederlands oefenen",
                                           "Nederlands", "",         "x",
                                           "|"};
  std::mt19937 random(29);
  std::size_t allowed = 0, refused = 0;
  for (const auto& codes : lists) {
    for (const std::string separator : {"", "|", ", "}) {
      kbix::ColumnDomain domain;
      domain.codes = codes;
      domain.separator = separator;
      const kbix::CodeList list(domain);
      for (int cell = 0; cell < 400; ++cell) {
        std::string value;
        const std::size_t parts = 1 + random() % 3;
        for (std::size_t i = 0; i < parts; ++i) {
          if (i > 0) value += separator.empty() ? "|" : separator;
          // Half the parts are the list's own codes, so that many cells are allowed.
          value +=
              random() % 2 == 0 ? codes[random() % codes.size()] : pieces[random() % pieces.size()];
        }
        const bool expected = kbix::codes_allow(domain, value);
        ASSERT_EQ(list.allows(value), expected) << "codes " << codes.front() << "..., separator '"
                                                << separator << "', cell '" << value << "'";
        (expected ? allowed : refused) += 1;
      }
    }
  }
  EXPECT_GT(allowed, 2000u);
  EXPECT_GT(refused, 2000u);
}

TEST(ExportProtocol, ACalendarDateIsTheDayParseDateGives) {
  std::mt19937 random(31);
  const std::string digits = "0123456789";
  std::size_t valid = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string text = "2024-02-29";
    for (auto changes = random() % 3; changes > 0; --changes) {
      text[random() % text.size()] = random() % 8 == 0 ? '-' : digits[random() % 10];
    }
    const auto day = kbix::parse_date(text);
    const auto calendar = kbix::parse_calendar_date(text);
    ASSERT_EQ(day.has_value(), calendar.has_value()) << text;
    if (day) {
      EXPECT_EQ(sys_days{*calendar}, *day) << text;
      ++valid;
    }
  }
  EXPECT_GT(valid, 1000u);
  EXPECT_LT(valid, 19000u);
}

}  // namespace
