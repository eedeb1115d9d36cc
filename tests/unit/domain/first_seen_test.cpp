// FirstSeenTable (kbix/domain/first_seen.hpp): the first occurrence is decided by piece, in file
// order, whatever order the pieces are recorded in and by however many threads.
#include "kbix/domain/first_seen.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

namespace kbix {
namespace {

using Seen = FirstSeenTable::Seen;
constexpr auto kNone = FirstSeenTable::kNoPiece;

Seen see(FirstSeenTable& table, std::uint64_t value, std::uint64_t piece) {
  auto batch = table.batch(1);
  return batch.see(value, piece);
}

TEST(FirstSeenTable, ARepeatWithinOnePieceIsARepeat) {
  FirstSeenTable table(10);
  auto batch = table.batch(3);
  EXPECT_TRUE(batch.see(85073003328, 4).first);
  EXPECT_FALSE(batch.see(85073003328, 4).first);
  EXPECT_TRUE(batch.see(85073003329, 4).first);
  EXPECT_FALSE(batch.see(85073003328, 4).first);
}

TEST(FirstSeenTable, ALaterPieceIsARepeat) {
  FirstSeenTable table(10);
  const auto first = see(table, 42, 0);
  EXPECT_TRUE(first.first);
  EXPECT_EQ(first.replaced, kNone);
  const auto later = see(table, 42, 1);
  EXPECT_FALSE(later.first);
  EXPECT_EQ(later.replaced, kNone);
  EXPECT_EQ(table.size(), 1u);
}

TEST(FirstSeenTable, AnEarlierPieceRecordedLaterReplacesTheLaterOne) {
  FirstSeenTable table(10);
  EXPECT_TRUE(see(table, 7, 3).first);  // piece 3 first, as a faster thread would
  const auto earlier = see(table, 7, 1);
  EXPECT_TRUE(earlier.first);
  EXPECT_EQ(earlier.replaced, 3u);
  const auto between = see(table, 7, 2);  // after piece 1: a repeat, replaces nothing
  EXPECT_FALSE(between.first);
  EXPECT_EQ(between.replaced, kNone);
  EXPECT_FALSE(see(table, 7, 1).first);  // the same piece again: its later row
  const auto earliest = see(table, 7, 0);
  EXPECT_TRUE(earliest.first);
  EXPECT_EQ(earliest.replaced, 1u);
  EXPECT_FALSE(see(table, 7, 5).first);
  EXPECT_EQ(table.size(), 1u);
}

TEST(FirstSeenTable, ZeroAndTheLargestValueAndPieceAreValues) {
  FirstSeenTable table(10);
  EXPECT_TRUE(see(table, 0, FirstSeenTable::kMaxPiece).first);
  const auto zero = see(table, 0, 0);
  EXPECT_TRUE(zero.first);
  EXPECT_EQ(zero.replaced, FirstSeenTable::kMaxPiece);
  EXPECT_FALSE(see(table, 0, 0).first);
  EXPECT_TRUE(see(table, FirstSeenTable::kMaxValue, 0).first);
  EXPECT_FALSE(see(table, FirstSeenTable::kMaxValue, FirstSeenTable::kMaxPiece).first);
  EXPECT_TRUE(see(table, 99999999999, 2).first);  // the largest 11 digits
  EXPECT_EQ(table.size(), 3u);
}

TEST(FirstSeenTable, GrowsAndKeepsWhatItSaw) {
  FirstSeenTable table(0);
  const std::size_t before = table.slots();
  for (std::uint64_t value = 0; value < 5000; ++value) {
    EXPECT_TRUE(see(table, value * 1'000'003, 10).first);
  }
  EXPECT_GT(table.slots(), before);
  EXPECT_EQ(table.size(), 5000u);
  for (std::uint64_t value = 0; value < 5000; ++value) {
    EXPECT_FALSE(see(table, value * 1'000'003, 11).first);
    const auto earlier = see(table, value * 1'000'003, 9);
    ASSERT_TRUE(earlier.first);
    EXPECT_EQ(earlier.replaced, 10u);
  }
  EXPECT_EQ(table.size(), 5000u);
  EXPECT_LE(table.size() * 4, table.slots() * 3);  // load at most 3/4
}

TEST(FirstSeenTable, ABatchTakesNoMoreNewValuesThanItsRoom) {
  FirstSeenTable table(10);
  auto batch = table.batch(1);
  EXPECT_TRUE(batch.see(1, 0).first);
  EXPECT_FALSE(batch.see(1, 0).first);  // a repeat takes no room
  EXPECT_THROW(batch.see(2, 0), std::logic_error);
}

// Two threads record shuffled pieces, each in its own order and with the table growing under
// them; settling the replaced pieces in file order gives the first occurrences of one pass.
TEST(FirstSeenTable, ThreadsInAnyOrderGiveTheFileOrderAnswer) {
  std::mt19937_64 random(17);
  constexpr std::size_t kPieces = 400;
  std::vector<std::vector<std::uint64_t>> pieces(kPieces);
  for (auto& piece : pieces) {
    piece.resize(1 + random() % 60);
    for (auto& value : piece) value = random() % 3000;  // many repeats, in and across pieces
  }
  struct Outcome {
    std::vector<bool> first;
    std::vector<std::pair<std::uint64_t, std::uint64_t>> replaced;  // (piece, value)
  };
  std::vector<Outcome> outcomes(kPieces);
  FirstSeenTable table(16);
  auto record = [&](std::vector<std::size_t> order) {
    for (const std::size_t piece : order) {
      auto batch = table.batch(pieces[piece].size());
      for (const std::uint64_t value : pieces[piece]) {
        const auto seen = batch.see(value, piece);
        outcomes[piece].first.push_back(seen.first);
        if (seen.replaced != kNone) outcomes[piece].replaced.emplace_back(seen.replaced, value);
      }
    }
  };
  std::vector<std::size_t> even, odd;
  for (std::size_t piece = 0; piece < kPieces; ++piece) (piece % 2 ? odd : even).push_back(piece);
  std::shuffle(even.begin(), even.end(), random);
  std::reverse(odd.begin(), odd.end());
  std::thread one(record, even), other(record, odd);
  one.join();
  other.join();

  std::set<std::uint64_t> seen_before;
  std::map<std::uint64_t, std::set<std::uint64_t>> repeats_of_piece;
  std::size_t replacements = 0;
  for (std::size_t piece = 0; piece < kPieces; ++piece) {
    for (const auto& [later, value] : outcomes[piece].replaced) {
      EXPECT_GT(later, piece);
      repeats_of_piece[later].insert(value);
      ++replacements;
    }
    for (std::size_t i = 0; i < pieces[piece].size(); ++i) {
      const std::uint64_t value = pieces[piece][i];
      const bool settled_first = outcomes[piece].first[i] && !repeats_of_piece[piece].count(value);
      EXPECT_EQ(settled_first, seen_before.insert(value).second)
          << "piece " << piece << " row " << i;
    }
  }
  EXPECT_EQ(table.size(), seen_before.size());
  EXPECT_GT(replacements, 0u) << "the orders must make earlier pieces replace later ones";
}

}  // namespace
}  // namespace kbix
