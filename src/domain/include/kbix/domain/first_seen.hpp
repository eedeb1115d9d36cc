// FirstSeenTable: which piece of a file holds the first occurrence of each value, filled by
// several threads at once while the file is read in pieces (file_pieces.hpp; issue 17: the
// export's duplicate check on the worker threads instead of the ordered calling thread).
//
// One thread records a piece's values in file order, so within a piece the first row recorded
// is the first occurrence. Across pieces the earlier PIECE wins, never the thread that came first:
// a slot holds the value and the smallest piece it was seen in, and an earlier piece replaces a
// later one with a compare-and-swap. So "repeat" is final at once, and "first" is final once every
// earlier piece is recorded, unless one of them was told it `replaced` this piece: the caller
// (which consumes the pieces in file order) then turns this piece's row into a repeat.
//
// Open addressing, linear probing, load at most 3/4, one 64-bit word a slot (value and piece) in
// one allocation: at 1M values 2^21 slots, 16 MB. A thread records within a Batch, which holds a
// shared lock and room for its new values; when a batch needs more room the table grows, with the
// lock held alone. Values must be at most kMaxValue (an INSZ is below 10^11) and pieces at most
// kMaxPiece. Does NOT support erase.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <shared_mutex>

#include "kbix/domain/value_slot.hpp"

namespace kbix {

class FirstSeenTable {
  static constexpr unsigned kValueBits = 37;
  static constexpr std::uint64_t kValueMask = (std::uint64_t{1} << kValueBits) - 1;

 public:
  static constexpr std::uint64_t kMaxValue = kValueMask;
  static constexpr std::uint64_t kMaxPiece = (std::uint64_t{1} << (64 - kValueBits)) - 2;
  static constexpr std::uint64_t kNoPiece = ~std::uint64_t{0};

  struct Seen {
    bool first = false;                 // no earlier piece (nor row of this piece) had the value
    std::uint64_t replaced = kNoPiece;  // when first: the later piece that had it until now
  };

  // One thread's recording of up to `room` new values (a repeat takes no room).
  class Batch {
   public:
    Seen see(std::uint64_t value, std::uint64_t piece) {
      const std::uint64_t mine = ((piece + 1) << kValueBits) | value;
      for (std::size_t at = value_slot(value, mask_);; at = (at + 1) & mask_) {
        std::atomic_ref<std::uint64_t> slot(slots_[at]);
        std::uint64_t word = slot.load(std::memory_order_relaxed);
        for (;;) {  // a failed compare-and-swap reloads `word`: look at it again
          if (word == 0) {
            if (claimed_ == room_) over_room();
            if (slot.compare_exchange_weak(word, mine, std::memory_order_relaxed)) {
              ++claimed_;
              return {true, kNoPiece};
            }
          } else if ((word & kValueMask) != value) {
            break;  // another value's slot: probe on
          } else if (word <= mine) {
            return {};  // the same value, from this piece or an earlier one (the high bits)
          } else if (slot.compare_exchange_weak(word, mine, std::memory_order_relaxed)) {
            return {true, (word >> kValueBits) - 1};
          }
        }
      }
    }
    // Asks for the slot of `value` ahead of its see(). The empty asm keeps the prefetch: GCC 12
    // finds an inline function whose only effect is __builtin_prefetch "const" and drops its
    // calls (the export's U64Set::prefetch emitted no instruction). A read prefetch: a write one
    // (1) needs a build for PREFETCHW, and a line no other core holds comes exclusive anyway.
    void prefetch(std::uint64_t value) const {
      const std::uint64_t* slot = &slots_[value_slot(value, mask_)];
      __builtin_prefetch(slot);
      asm volatile("" : : "r"(slot));
    }
    ~Batch();
    Batch(const Batch&) = delete;
    Batch& operator=(const Batch&) = delete;

   private:
    friend class FirstSeenTable;
    Batch(FirstSeenTable& table, std::shared_lock<std::shared_mutex> lock, std::size_t room);
    [[noreturn]] static void over_room();
    FirstSeenTable& table_;
    std::shared_lock<std::shared_mutex> lock_;
    std::uint64_t* slots_;
    std::size_t mask_;
    std::size_t room_;
    std::size_t claimed_ = 0;
  };

  // Sized for `expected` values (it grows beyond).
  explicit FirstSeenTable(std::size_t expected);
  ~FirstSeenTable();
  FirstSeenTable(const FirstSeenTable&) = delete;
  FirstSeenTable& operator=(const FirstSeenTable&) = delete;

  // A batch with room for `room` new values; waits while another thread grows the table.
  Batch batch(std::size_t room);
  // Distinct values recorded (while no batch is open), and the slots they are in.
  std::size_t size() const { return reserved_.load(std::memory_order_relaxed); }
  std::size_t slots() const;

 private:
  void grow(std::size_t slots);  // with mutex_ held alone: no batch is open

  struct Slots;
  std::unique_ptr<Slots> slots_;
  std::shared_mutex mutex_;
  std::atomic<std::size_t> reserved_{0};  // values recorded + room of the open batches
};

}  // namespace kbix
