#include "internal/classes.hpp"

#include <algorithm>
#include <unordered_map>

namespace kbix::detail {

namespace {

// Keys of the masked columns as one mixed-radix number when the product of their id ranges is
// small enough for a direct table; 0 otherwise.
std::uint64_t dense_range(const TupleSet& set, std::uint32_t mask) {
  std::uint64_t product = 1;
  const std::uint64_t limit = std::max<std::uint64_t>(1 << 16, 4 * set.items);
  for (std::size_t c = 0; c < set.width; ++c) {
    if ((mask & (1u << c)) == 0) continue;
    product *= std::max<std::uint32_t>(1, (*set.distinct)[c]);
    if (product > limit || product > (1u << 24)) return 0;
  }
  return product;
}

}  // namespace

Grouping group(const TupleSet& set, std::uint32_t mask) {
  Grouping g;
  g.class_of.resize(set.items);
  auto assign = [&](std::size_t item, std::uint32_t& slot) {
    if (slot == kNoClass) {
      slot = static_cast<std::uint32_t>(g.size.size());
      g.size.push_back(0);
      g.first_item.push_back(static_cast<std::uint32_t>(item));
    }
    g.class_of[item] = slot;
    g.size[slot] += set.weights ? (*set.weights)[item] : 1;
  };
  if (const std::uint64_t range = dense_range(set, mask); range != 0) {
    std::vector<std::uint32_t> table(range, kNoClass);
    for (std::size_t item = 0; item < set.items; ++item) {
      const std::uint32_t* tuple = set.ids + item * set.width;
      std::uint64_t key = 0;
      for (std::size_t c = 0; c < set.width; ++c) {
        if (mask & (1u << c)) key = key * (*set.distinct)[c] + tuple[c];
      }
      assign(item, table[key]);
    }
  } else {
    // Column by column: (class so far, next id) -> class, so no key ever overflows.
    std::vector<std::uint32_t> partial(set.items, 0);
    std::uint32_t classes = 1;
    for (std::size_t c = 0; c < set.width; ++c) {
      if ((mask & (1u << c)) == 0) continue;
      std::unordered_map<std::uint64_t, std::uint32_t> next;
      next.reserve(classes * 2);
      for (std::size_t item = 0; item < set.items; ++item) {
        const std::uint64_t key =
            (std::uint64_t{partial[item]} << 32) | set.ids[item * set.width + c];
        partial[item] =
            next.try_emplace(key, static_cast<std::uint32_t>(next.size())).first->second;
      }
      classes = static_cast<std::uint32_t>(next.size());
    }
    std::vector<std::uint32_t> table(classes, kNoClass);
    for (std::size_t item = 0; item < set.items; ++item) assign(item, table[partial[item]]);
  }
  for (std::size_t cls = 0; cls < g.size.size(); ++cls) {
    const std::uint32_t* tuple = set.ids + std::size_t{g.first_item[cls]} * set.width;
    bool empty = true;
    for (std::size_t c = 0; c < set.width && empty; ++c) {
      if ((mask & (1u << c)) && tuple[c] != 0) empty = false;
    }
    if (empty) g.all_empty = static_cast<std::uint32_t>(cls);
  }
  return g;
}

ClassStats class_stats(const Grouping& grouping, std::uint64_t k) {
  ClassStats stats;
  for (std::size_t cls = 0; cls < grouping.size.size(); ++cls) {
    const std::uint64_t size = grouping.size[cls];
    if (cls == grouping.all_empty) {
      stats.rows_all_empty = size;
      continue;
    }
    ++stats.classes;
    if (stats.smallest == 0 || size < stats.smallest) stats.smallest = size;
    if (size < k) {
      ++stats.below_k;
      stats.rows_in_small += size;
    }
    if (size == 1) ++stats.unique_rows;
  }
  return stats;
}

}  // namespace kbix::detail
