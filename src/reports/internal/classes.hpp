// Equivalence classes over interned quasi-identifier tuples (internal to the reports module).
#pragma once

#include <cstdint>
#include <vector>

namespace kbix::detail {

inline constexpr std::uint32_t kNoClass = 0xFFFFFFFFu;

// `items` tuples of `width` ids each (row-major); id 0 is the empty cell. `distinct[c]` bounds
// the ids of column c. Only the columns whose bit is set in `mask` take part.
struct TupleSet {
  const std::uint32_t* ids = nullptr;
  std::size_t items = 0;
  std::size_t width = 0;
  const std::vector<std::uint32_t>* distinct = nullptr;
  const std::vector<std::uint64_t>* weights = nullptr;  // null: every item weighs 1
};

struct Grouping {
  std::vector<std::uint32_t> class_of;    // per item
  std::vector<std::uint64_t> size;        // per class: the sum of its items' weights
  std::vector<std::uint32_t> first_item;  // per class
  std::uint32_t all_empty = kNoClass;     // the class whose masked ids are all 0
};

Grouping group(const TupleSet& set, std::uint32_t mask);

struct ClassStats {
  std::uint64_t classes = 0;  // without the all-empty class
  std::uint64_t smallest = 0;
  std::uint64_t below_k = 0;
  std::uint64_t rows_in_small = 0;
  std::uint64_t unique_rows = 0;
  std::uint64_t rows_all_empty = 0;
};

ClassStats class_stats(const Grouping& grouping, std::uint64_t k);

}  // namespace kbix::detail
