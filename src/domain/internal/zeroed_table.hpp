// ZeroedTable: a fixed-size array of zero-initialised slots for the hash tables of the export and
// the merge, in anonymous memory asked for as transparent huge pages: a lookup in a table of
// several megabytes then costs one cache miss instead of a cache miss and a TLB miss.
// Does NOT guarantee huge pages (the kernel may give small ones); the slots are zero either way.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>

namespace kbix::detail {

template <class T>
class ZeroedTable {
  static_assert(std::is_trivially_copyable_v<T>);

 public:
  ZeroedTable() = default;
  explicit ZeroedTable(std::size_t count) : count_(count) {
    if (count == 0) return;
    void* memory =
        ::mmap(nullptr, bytes(), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED) throw std::bad_alloc();
    ::madvise(memory, bytes(), MADV_HUGEPAGE);  // advice only: a refusal changes nothing
    slots_ = static_cast<T*>(memory);
  }
  ZeroedTable(ZeroedTable&& other) noexcept
      : slots_(std::exchange(other.slots_, nullptr)), count_(std::exchange(other.count_, 0)) {}
  ZeroedTable& operator=(ZeroedTable&& other) noexcept {
    std::swap(slots_, other.slots_);
    std::swap(count_, other.count_);
    return *this;
  }
  ZeroedTable(const ZeroedTable&) = delete;
  ZeroedTable& operator=(const ZeroedTable&) = delete;
  ~ZeroedTable() {
    if (slots_ != nullptr) ::munmap(slots_, bytes());
  }

  std::size_t size() const { return count_; }
  bool empty() const { return count_ == 0; }
  T& operator[](std::size_t i) { return slots_[i]; }
  const T& operator[](std::size_t i) const { return slots_[i]; }
  T* begin() { return slots_; }
  T* end() { return slots_ + count_; }

 private:
  std::size_t bytes() const { return count_ * sizeof(T); }
  T* slots_ = nullptr;
  std::size_t count_ = 0;
};

}  // namespace kbix::detail
