#include "kbix/domain/first_seen.hpp"

#include <mutex>
#include <stdexcept>
#include <utility>

#include "internal/zeroed_table.hpp"

namespace kbix {

struct FirstSeenTable::Slots {
  detail::ZeroedTable<std::uint64_t> words;
};

namespace {
// Load at most 3/4: at 1M people the table is 16 MB, not 32 (linear probing stays short, and a
// probe that goes on mostly stays in the cache line).
bool fits(std::size_t values, std::size_t slots) {
  return values * 4 <= slots * 3;
}
std::size_t slots_for(std::size_t values) {
  std::size_t slots = 1024;
  while (!fits(values, slots)) slots *= 2;
  return slots;
}
}  // namespace

FirstSeenTable::FirstSeenTable(std::size_t expected)
    : slots_(
          std::make_unique<Slots>(Slots{detail::ZeroedTable<std::uint64_t>(slots_for(expected))})) {
}

FirstSeenTable::~FirstSeenTable() = default;

std::size_t FirstSeenTable::slots() const {
  return slots_->words.size();
}

FirstSeenTable::Batch::Batch(FirstSeenTable& table, std::shared_lock<std::shared_mutex> lock,
                             std::size_t room)
    : table_(table),
      lock_(std::move(lock)),
      slots_(table.slots_->words.begin()),
      mask_(table.slots_->words.size() - 1),
      room_(room) {}

FirstSeenTable::Batch::~Batch() {
  table_.reserved_.fetch_sub(room_ - claimed_, std::memory_order_relaxed);
}

void FirstSeenTable::Batch::over_room() {
  throw std::logic_error("FirstSeenTable: more new values than the batch's room");
}

FirstSeenTable::Batch FirstSeenTable::batch(std::size_t room) {
  for (;;) {
    {
      std::shared_lock lock(mutex_);
      const std::size_t before = reserved_.fetch_add(room, std::memory_order_relaxed);
      if (fits(before + room, slots_->words.size())) return Batch(*this, std::move(lock), room);
      reserved_.fetch_sub(room, std::memory_order_relaxed);
    }
    std::unique_lock lock(mutex_);
    const std::size_t needed = reserved_.load(std::memory_order_relaxed) + room;
    if (!fits(needed, slots_->words.size())) grow(slots_for(needed));
  }
}

void FirstSeenTable::grow(std::size_t slots) {
  detail::ZeroedTable<std::uint64_t> bigger(slots);
  const std::size_t mask = slots - 1;
  for (const std::uint64_t word : slots_->words) {
    if (word == 0) continue;
    std::size_t at = value_slot(word & kValueMask, mask);
    while (bigger[at] != 0) at = (at + 1) & mask;
    bigger[at] = word;
  }
  slots_->words = std::move(bigger);
}

}  // namespace kbix
