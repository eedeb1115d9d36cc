// U64Set: a set of 64-bit INSZ values in one flat open-addressing table (linear probing, load at
// most 1/2). For the export's duplicate check: about 16 bytes per person in one allocation,
// where a node-based std::unordered_set spends a heap node and a cache miss on each insert.
// Does NOT support erase. 0 is a valid member (kept aside, since 0 marks an empty slot).
#pragma once

#include <cstdint>
#include <utility>

#include "internal/zeroed_table.hpp"
#include "kbix/domain/value_slot.hpp"

namespace kbix::detail {

class U64Set {
 public:
  // True when `value` was not yet in the set (and is now).
  bool insert(std::uint64_t value) {
    if (value == 0) {
      const bool added = !has_zero_;
      has_zero_ = true;
      return added;
    }
    if ((count_ + 1) * 2 > slots_.size()) grow();
    if (place(slots_, value)) {
      ++count_;
      return true;
    }
    return false;
  }
  std::size_t size() const { return count_ + (has_zero_ ? 1 : 0); }
  // Room for `count` values without growing (a guess from the file size saves the rehashes).
  void reserve(std::size_t count) {
    std::size_t slots = slots_.empty() ? 1024 : slots_.size();
    while (slots < count * 2) slots *= 2;
    if (slots > slots_.size()) resize(slots);
  }

 private:
  static bool place(ZeroedTable<std::uint64_t>& slots, std::uint64_t value) {
    const std::size_t mask = slots.size() - 1;
    for (std::size_t at = value_slot(value, mask);; at = (at + 1) & mask) {
      if (slots[at] == value) return false;
      if (slots[at] == 0) {
        slots[at] = value;
        return true;
      }
    }
  }
  void grow() { resize(slots_.empty() ? 1024 : slots_.size() * 2); }
  void resize(std::size_t slots) {
    ZeroedTable<std::uint64_t> bigger(slots);
    for (const std::uint64_t value : slots_) {
      if (value != 0) place(bigger, value);
    }
    slots_ = std::move(bigger);
  }

  ZeroedTable<std::uint64_t> slots_;
  std::size_t count_ = 0;
  bool has_zero_ = false;
};

}  // namespace kbix::detail
