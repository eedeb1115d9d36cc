// The distinct quasi-identifier tuples of an output's rows and the rows of each (internal to the
// reports module): the disclosure report's only per-row work, done while the output scan reads
// the file, so its memory grows with the classes, not with the rows.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kbix::detail {

class TupleCounter {
 public:
  // `positions`: the field index of each quasi-identifier in a record.
  explicit TupleCounter(std::vector<std::size_t> positions);

  // Counts one row; its class is created (numbered in the order first seen) when new. Rows are
  // counted in batches (the table lookups of a batch overlap their cache misses): flush() before
  // reading classes(), rows() or cells().
  void add(const std::vector<std::string_view>& fields);
  void flush();
  // The class of a row's tuple, or kNoClass (classes.hpp) when no counted row had it.
  std::uint32_t find(const std::vector<std::string>& fields);

  std::size_t classes() const { return entries_.size(); }
  std::uint64_t rows(std::uint32_t cls) const { return records_[entries_[cls]]; }
  // The cells of class `cls`, one per quasi-identifier; valid while this object lives.
  std::vector<std::string_view> cells(std::uint32_t cls) const;

 private:
  // A tuple is stored once as (length, bytes) per cell: two rows are in one class exactly when
  // these encodings are equal; the hash only picks the slot. Each class is one record of 8-byte
  // words in `records_`: its row count, its key's length, then the key, so that counting a row
  // touches one slot and, mostly, one cache line of the record.
  static constexpr std::uint64_t kEmptySlot = ~std::uint64_t{0};
  template <class Field>
  void encode(const std::vector<Field>& fields, std::string& out) const;  // appends
  // The slot of `key` (hash `hash`), or the empty slot where it would go.
  std::size_t probe(std::uint64_t hash, std::string_view key) const;
  void count(std::uint64_t hash, std::string_view key);
  std::string_view key_of(std::size_t record) const;
  void grow();

  static constexpr std::size_t kBatchRows = 16;
  struct Pending {
    std::uint64_t hash = 0;
    std::size_t offset = 0;  // in pending_keys_
    std::size_t length = 0;
  };
  std::vector<std::size_t> positions_;
  std::string key_;  // the encoding of the row find() looks up
  std::vector<Pending> pending_;
  std::string pending_keys_;
  std::vector<std::uint64_t> records_;
  std::vector<std::size_t> entries_;  // per class, first seen first: where its record starts
  // Open addressing, load at most 1/2: the hash's high 32 bits (a tag compared before the key)
  // and the record's word index; kEmptySlot when free.
  std::vector<std::uint64_t> slots_;
};

}  // namespace kbix::detail
