#include "kbix/core/protocol.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "support/article3.hpp"

namespace {

using namespace std::chrono;

TEST(Protocol, VdabProtocolCarriesTheFieldListsOfArticle3) {
  auto protocol =
      kbix::load_protocol(KBIX_SOURCE_DIR "/config/protocols/vdab-derde-pijler-2023.toml");
  ASSERT_TRUE(protocol) << protocol.error().describe();
  EXPECT_EQ(protocol->id, "vdab-derde-pijler-2023");
  EXPECT_EQ(protocol->extract_columns.size(), 20u);
  EXPECT_EQ(protocol->extract_columns.front(), "insz");
  EXPECT_EQ(protocol->return_columns.size(), 7u);
  EXPECT_EQ(protocol->outbound_columns, std::vector<std::string>{"insz"});
  EXPECT_EQ(protocol->valid_from, sys_days{2023y / March / 3});
  EXPECT_EQ(protocol->valid_until, sys_days{2028y / March / 3});
  EXPECT_EQ(protocol->cadence_months, 6);
  EXPECT_EQ(protocol->retention_years, 5);
  EXPECT_EQ(protocol->pseudonym, kbix::PseudonymMode::none);
}

TEST(Protocol, OutputHasEveryColumnButTheKey) {
  auto protocol =
      kbix::load_protocol(KBIX_SOURCE_DIR "/config/protocols/vdab-derde-pijler-2023.toml");
  ASSERT_TRUE(protocol);
  const auto output = protocol->output_columns();
  std::string header;
  for (const auto& column : output) header += (header.empty() ? "" : ";") + column;
  EXPECT_EQ(header, kbix::test::kArticle3OutputHeader) << "article 3, written out";
  EXPECT_EQ(output.size(), 19u + 6u);
  EXPECT_EQ(std::count(output.begin(), output.end(), "insz"), 0);
  EXPECT_EQ(output.front(), "leeftijdscategorie");
  EXPECT_EQ(output.back(), "uitstroom_naar_werk");

  protocol->pseudonym = kbix::PseudonymMode::hmac_sha256;
  const auto keyed = protocol->output_columns();
  EXPECT_EQ(keyed.front(), "pseudo_id");
  EXPECT_EQ(keyed.size(), output.size() + 1);
}

TEST(Protocol, FormatsDatesAsIso) {
  EXPECT_EQ(kbix::format_date(sys_days{2023y / March / 3}), "2023-03-03");
  EXPECT_EQ(kbix::format_date(sys_days{1999y / December / 31}), "1999-12-31");
}

}  // namespace
