// Row references: shape, randomness, stability per person, sealed save/load, refusals.
#include "kbix/municipal/row_references.hpp"

#include <gtest/gtest.h>

#include <set>

#include "unit/municipal/municipal_test_support.hpp"

namespace kbix::test {
namespace {

using municipal::RowReferences;

RowReferences empty_map(const std::string& exchange = "template-gemeente-a") {
  auto made = RowReferences::empty(exchange);
  if (!made) throw std::runtime_error(made.error().describe());
  return std::move(*made);
}

TEST(RowReferencesTest, ReferencesHaveTheShapeAndAreDistinct) {
  auto map = empty_map();
  std::set<std::string> seen;
  for (int i = 1; i <= 500; ++i) {
    const std::string insz = synthetic_insz(i);
    auto reference = map.reference_for(insz);
    ASSERT_TRUE(reference) << reference.error().describe();
    EXPECT_TRUE(RowReferences::is_reference(*reference));
    EXPECT_EQ(reference->size(), RowReferences::kLength);
    EXPECT_EQ(reference->substr(0, 2), "R-");
    EXPECT_EQ(reference->find_first_of("01OQIL"), std::string::npos);
    EXPECT_TRUE(seen.insert(*reference).second) << "a reference was drawn twice";
  }
  EXPECT_EQ(map.size(), 500U);
  // Every alphabet character turns up at every position over 500 draws: not a fixed pattern.
  for (std::size_t position : {2U, 10U, 24U}) {
    std::set<char> characters;
    for (const auto& reference : seen) characters.insert(reference[position]);
    EXPECT_GT(characters.size(), 25U) << "position " << position;
  }
}

TEST(RowReferencesTest, SamePersonKeepsItsReferenceAndLooksUpBothWays) {
  auto map = empty_map();
  const std::string insz = synthetic_insz(7);
  auto first = map.reference_for(insz);
  auto again = map.reference_for(insz);
  ASSERT_TRUE(first && again);
  EXPECT_EQ(*first, *again);
  EXPECT_EQ(map.size(), 1U);
  EXPECT_EQ(map.insz_of(*first), insz);
  EXPECT_EQ(map.reference_of(insz), *first);
  EXPECT_FALSE(map.insz_of("R-22222-22222-22222-22222"));
  EXPECT_FALSE(map.reference_of(synthetic_insz(8)));
}

TEST(RowReferencesTest, ExchangesDrawIndependentReferences) {
  auto a = empty_map("template-a");
  auto b = empty_map("template-b");
  const std::string insz = synthetic_insz(3);
  EXPECT_NE(*a.reference_for(insz), *b.reference_for(insz));
}

TEST(RowReferencesTest, InvalidInszGetsNoReference) {
  auto map = empty_map();
  std::string bad = synthetic_insz(5);
  bad.back() = bad.back() == '9' ? '0' : static_cast<char>(bad.back() + 1);  // checksum off
  auto refused = map.reference_for(bad);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, "municipal.insz");
  EXPECT_EQ(refused.error().message.find(bad), std::string::npos);
  EXPECT_FALSE(map.reference_for("1234"));
  EXPECT_EQ(map.size(), 0U);
}

TEST(RowReferencesTest, BadExchangeNameIsRefused) {
  EXPECT_FALSE(RowReferences::empty(""));
  EXPECT_FALSE(RowReferences::empty("a;b"));
  EXPECT_FALSE(RowReferences::empty("a\nb"));
}

class SealedReferencesTest : public testing::Test {
 protected:
  TempDir dir;
  fs::path file = dir / "row-references.p7m";
};

TEST_F(SealedReferencesTest, AbsentFileIsAnEmptyMap) {
  auto loaded = RowReferences::load(own_opener(), file, "template-a");
  ASSERT_TRUE(loaded) << loaded.error().describe();
  EXPECT_EQ(loaded->size(), 0U);
}

TEST_F(SealedReferencesTest, ReferencesAreStableAcrossSaveAndLoad) {
  auto map = empty_map("template-a");
  std::vector<std::pair<std::string, std::string>> issued;
  for (int i = 1; i <= 50; ++i) {
    const std::string insz = synthetic_insz(i);
    issued.emplace_back(insz, *map.reference_for(insz));
  }
  ASSERT_TRUE(map.save(own_sealer(), file));
  // Nothing but the sealed file, and no INSZ readable in it.
  EXPECT_EQ(entries(dir.path()), std::vector<std::string>{"row-references.p7m"});
  const std::string sealed = read_file(file);
  for (const auto& [insz, reference] : issued) {
    EXPECT_EQ(sealed.find(insz), std::string::npos);
    EXPECT_EQ(sealed.find(reference), std::string::npos);
  }

  auto loaded = RowReferences::load(own_opener(), file, "template-a");
  ASSERT_TRUE(loaded) << loaded.error().describe();
  EXPECT_EQ(loaded->size(), issued.size());
  for (const auto& [insz, reference] : issued) {
    EXPECT_EQ(loaded->insz_of(reference), insz);
    EXPECT_EQ(*loaded->reference_for(insz), reference);  // existing: not drawn again
  }
  EXPECT_EQ(loaded->size(), issued.size());
  // A newcomer added after the load survives the next save, next to the old ones.
  const std::string newcomer = synthetic_insz(99);
  const std::string added = *loaded->reference_for(newcomer);
  ASSERT_TRUE(loaded->save(own_sealer(), file));
  auto reloaded = RowReferences::load(own_opener(), file, "template-a");
  ASSERT_TRUE(reloaded);
  EXPECT_EQ(reloaded->size(), issued.size() + 1);
  EXPECT_EQ(reloaded->insz_of(added), newcomer);
  EXPECT_EQ(reloaded->insz_of(issued.front().second), issued.front().first);
}

TEST_F(SealedReferencesTest, WrongKeyFlippedByteAndOtherExchangeAreRefused) {
  auto map = empty_map("template-a");
  ASSERT_TRUE(map.reference_for(synthetic_insz(1)));
  ASSERT_TRUE(map.save(own_sealer(), file));

  auto wrong_key =
      RowReferences::load(make_opener(opener_config("vdab", "agii", "rsa")), file, "template-a");
  ASSERT_FALSE(wrong_key);
  EXPECT_EQ(wrong_key.error().code, "envelope.not_for_us");

  auto foreign = RowReferences::load(own_opener(), file, "template-b");
  ASSERT_FALSE(foreign);
  EXPECT_EQ(foreign.error().code, "municipal.references_foreign");

  std::string bytes = read_file(file);
  bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x04);
  write_file(dir / "flipped.p7m", bytes);
  EXPECT_FALSE(RowReferences::load(own_opener(), dir / "flipped.p7m", "template-a"));

  write_file(dir / "plain.p7m", "kbix-row-references;1;template-a\n");  // not sealed at all
  EXPECT_FALSE(RowReferences::load(own_opener(), dir / "plain.p7m", "template-a"));
}

TEST(RowReferencesParseTest, CorruptContentIsRefused) {
  const std::string header = "kbix-row-references;1;x\n";
  const std::string one = synthetic_insz(1);
  const std::string two = synthetic_insz(2);
  const std::string ref_a = "R-22222-33333-44444-55555";
  const std::string ref_b = "R-AAAAA-BBBBB-CCCCC-DDDDD";
  std::string off = one;  // the checksum off by one
  off.back() = off.back() == '9' ? '0' : static_cast<char>(off.back() + 1);
  ASSERT_TRUE(
      RowReferences::parse(header + ref_a + ";" + one + "\n" + ref_b + ";" + two + "\n", "x"));
  const std::vector<std::string> corrupt = {
      "",                                                            // empty
      "something else\n",                                            // not ours
      header + ref_a + ";" + one,                                    // unterminated line
      header + ref_a + ";" + one + "\n" + ref_b + ";" + one + "\n",  // person twice
      header + ref_a + ";" + one + "\n" + ref_a + ";" + two + "\n",  // reference twice
      header + "R-2222-3333-4444-5555;" + one + "\n",                // short reference
      header + ref_a + ";" + off + "\n",                             // checksum off
      header + ref_a + one + "\n",                                   // no separator
  };
  for (std::size_t i = 0; i < corrupt.size(); ++i) {
    auto parsed = RowReferences::parse(corrupt[i], "x");
    ASSERT_FALSE(parsed) << "case " << i;
    EXPECT_EQ(parsed.error().code, "municipal.references_corrupt") << "case " << i;
    EXPECT_EQ(parsed.error().message.find(one), std::string::npos);
    EXPECT_EQ(parsed.error().message.find(ref_a), std::string::npos);
  }
}

}  // namespace
}  // namespace kbix::test
