// Schema errors name file, line and column number, and quote a header cell only when it is a
// plausible column name: a header-less file must not put its first data row into the message
// (issue 13 item 4, invariant 5).
#include "kbix/domain/schema.hpp"

#include <gtest/gtest.h>

#include <sstream>

#include "kbix/core/protocol.hpp"
#include "kbix/domain/extract_export.hpp"
#include "kbix/domain/output_scan.hpp"

namespace kbix {
namespace {

const std::vector<std::string> kExpected = {"insz", "voornaam", "gemeente"};

TEST(SchemaMessages, AHeaderLessFileIsNamedAsSuchWithoutItsValues) {
  // 85073003328 is a valid (synthetic) INSZ; the row reads like a person.
  auto refused = check_header({"85073003328", "Marie", "Genk"}, kExpected, "kbi.csv");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, "schema.no_header");
  const std::string& message = refused.error().message;
  EXPECT_EQ(message.rfind("kbi.csv:1: ", 0), 0u) << message;
  EXPECT_NE(message.find("column 1"), std::string::npos) << message;
  EXPECT_FALSE(contains_insz_like_number(message)) << message;
  EXPECT_EQ(message.find("8507300332"), std::string::npos) << message;
  EXPECT_EQ(message.find("Marie"), std::string::npos) << message;
}

TEST(SchemaMessages, NumbersAndFreeTextAreNeverQuotedColumnNamesAre) {
  // An invalid INSZ (wrong checksum) is no column name either: named by number only.
  auto numbers = check_header({"85073003329", "x", "y"}, kExpected, "kbi.csv");
  ASSERT_FALSE(numbers);
  EXPECT_EQ(numbers.error().message.find("85073003329"), std::string::npos)
      << numbers.error().message;
  EXPECT_NE(numbers.error().message.find("column 1 (not a column name"), std::string::npos)
      << numbers.error().message;
  auto free_text =
      check_header({"insz", "voornaam", "gemeente", "Rue de la Loi 16"}, kExpected, "kbi.csv");
  ASSERT_FALSE(free_text);
  EXPECT_EQ(free_text.error().code, "schema.extra_column");
  EXPECT_EQ(free_text.error().message.find("Loi"), std::string::npos) << free_text.error().message;
  EXPECT_NE(free_text.error().message.find("column 4"), std::string::npos);
  const std::string long_name(65, 'a');
  auto too_long = check_header({"insz", "voornaam", "gemeente", long_name}, kExpected, "kbi.csv");
  EXPECT_EQ(too_long.error().message.find(long_name), std::string::npos);
  auto named = check_header({"insz", "voornaam", "gemeente", "telefoon_2"}, kExpected, "kbi.csv");
  EXPECT_NE(named.error().message.find("column 4 'telefoon_2'"), std::string::npos)
      << named.error().message;
  auto order = check_header({"voornaam", "insz", "gemeente"}, kExpected, "kbi.csv");
  EXPECT_EQ(order.error().code, "schema.column_order");
  EXPECT_NE(order.error().message.find("column 1 'voornaam'"), std::string::npos)
      << order.error().message;
}

TEST(SchemaMessages, AHeaderLessExtractFailsTheExportWithoutPersonalData) {
  auto protocol = load_protocol(KBIX_SOURCE_DIR "/config/protocols/vdab-derde-pijler-2023.toml");
  ASSERT_TRUE(protocol);
  std::string row = "85073003328";
  for (std::size_t i = 1; i < protocol->extract_columns.size(); ++i)
    row += ";waarde" + std::to_string(i);
  std::istringstream in(row + "\n" + row + "\n");
  std::ostringstream out;
  auto exported = export_outbound(in, "kbi.csv", *protocol, out);
  ASSERT_FALSE(exported);
  EXPECT_EQ(exported.error().code, "schema.no_header");
  EXPECT_FALSE(contains_insz_like_number(exported.error().message)) << exported.error().message;
}

}  // namespace
}  // namespace kbix
