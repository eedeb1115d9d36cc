#include "internal/tuple_counter.hpp"

#include <cstring>
#include <functional>

#include "internal/classes.hpp"

namespace kbix::detail {

namespace {
// A slot: the hash's top 24 bits as a tag, then the record's word index (40 bits: 8 TiB).
constexpr int kRecordBits = 40;
constexpr std::uint64_t kSlotRecordMask = (std::uint64_t{1} << kRecordBits) - 1;
std::uint64_t tag_of(std::uint64_t hash) {
  return hash >> kRecordBits;
}
}  // namespace

TupleCounter::TupleCounter(std::vector<std::size_t> positions)
    : positions_(std::move(positions)), slots_(1024, kEmptySlot) {}

template <class Field>
void TupleCounter::encode(const std::vector<Field>& fields, std::string& out) const {
  for (const std::size_t position : positions_) {
    const std::string_view cell = fields[position];
    // The length in 7-bit groups, low first; a high bit says that another group follows.
    for (std::size_t n = cell.size();; n >>= 7) {
      out += static_cast<char>((n & 0x7F) | (n >= 0x80 ? 0x80 : 0));
      if (n < 0x80) break;
    }
    out += cell;
  }
}

std::string_view TupleCounter::key_of(std::size_t record) const {
  return {reinterpret_cast<const char*>(&records_[record + 2]),
          static_cast<std::size_t>(records_[record + 1] & 0xFFFFFFFFu)};
}

std::size_t TupleCounter::probe(std::uint64_t hash, std::string_view key) const {
  const std::size_t mask = slots_.size() - 1;
  const std::uint64_t tag = tag_of(hash);
  for (std::size_t at = static_cast<std::size_t>(hash) & mask;; at = (at + 1) & mask) {
    const std::uint64_t slot = slots_[at];
    if (slot == kEmptySlot) return at;
    if ((slot >> kRecordBits) == tag && key_of(slot & kSlotRecordMask) == key) return at;
  }
}

void TupleCounter::grow() {
  std::vector<std::uint64_t> old(slots_.size() * 2, kEmptySlot);
  old.swap(slots_);
  const std::size_t mask = slots_.size() - 1;
  for (const std::uint64_t slot : old) {
    if (slot == kEmptySlot) continue;
    const std::uint64_t hash = std::hash<std::string_view>{}(key_of(slot & kSlotRecordMask));
    std::size_t at = static_cast<std::size_t>(hash) & mask;
    while (slots_[at] != kEmptySlot) at = (at + 1) & mask;
    slots_[at] = slot;
  }
}

void TupleCounter::add(const std::vector<std::string_view>& fields) {
  const std::size_t offset = pending_keys_.size();
  encode(fields, pending_keys_);
  const std::size_t length = pending_keys_.size() - offset;
  const std::uint64_t hash =
      std::hash<std::string_view>{}(std::string_view(pending_keys_).substr(offset, length));
  __builtin_prefetch(&slots_[static_cast<std::size_t>(hash) & (slots_.size() - 1)]);
  pending_.push_back({hash, offset, length});
  if (pending_.size() == kBatchRows) flush();
}

void TupleCounter::flush() {
  // The slots were fetched ahead when the rows were added; now the records they point to.
  const std::size_t mask = slots_.size() - 1;
  for (const Pending& p : pending_) {
    const std::uint64_t slot = slots_[static_cast<std::size_t>(p.hash) & mask];
    if (slot != kEmptySlot) __builtin_prefetch(&records_[slot & kSlotRecordMask]);
  }
  for (const Pending& p : pending_) {
    count(p.hash, std::string_view(pending_keys_).substr(p.offset, p.length));
  }
  pending_.clear();
  pending_keys_.clear();
}

void TupleCounter::count(std::uint64_t hash, std::string_view key) {
  std::size_t at = probe(hash, key);
  if (slots_[at] == kEmptySlot) {
    if ((entries_.size() + 1) * 2 > slots_.size()) {
      grow();
      at = probe(hash, key);
    }
    // Word 0: the rows; word 1: the class (high half) and the key's length (at most the CSV
    // reader's record limit, far below 4 GiB); then the key.
    const std::size_t record = records_.size();
    records_.resize(record + 2 + (key.size() + 7) / 8, 0);
    records_[record + 1] = (std::uint64_t{entries_.size()} << 32) | key.size();
    std::memcpy(&records_[record + 2], key.data(), key.size());
    entries_.push_back(record);
    slots_[at] = (tag_of(hash) << kRecordBits) | record;
  }
  ++records_[slots_[at] & kSlotRecordMask];
}

std::uint32_t TupleCounter::find(const std::vector<std::string>& fields) {
  key_.clear();
  encode(fields, key_);
  const std::uint64_t slot = slots_[probe(std::hash<std::string_view>{}(key_), key_)];
  if (slot == kEmptySlot) return kNoClass;
  return static_cast<std::uint32_t>(records_[(slot & kSlotRecordMask) + 1] >> 32);
}

std::vector<std::string_view> TupleCounter::cells(std::uint32_t cls) const {
  std::vector<std::string_view> result;
  std::string_view key = key_of(entries_[cls]);
  while (!key.empty()) {
    std::size_t length = 0;
    for (int shift = 0;; shift += 7) {
      const auto byte = static_cast<unsigned char>(key.front());
      key.remove_prefix(1);
      length |= std::size_t{byte & 0x7Fu} << shift;
      if ((byte & 0x80) == 0) break;
    }
    result.push_back(key.substr(0, length));
    key.remove_prefix(length);
  }
  return result;
}

}  // namespace kbix::detail
