// The machinery of kbix/domain/file_pieces.hpp: a piece reader and an ordered two-thread map.
#pragma once

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "kbix/domain/csv.hpp"
#include "kbix/domain/file_pieces.hpp"

namespace kbix::detail {

// Reads [offset, size) of `fd` in pieces that end at a record end (file_pieces.hpp).
class PieceReader {
 public:
  PieceReader(int fd, std::uint64_t offset, std::uint64_t size, const FileReading& reading)
      : fd_(fd), position_(offset), size_(size), reading_(reading) {}
  // The next piece into `bytes`; false at the end or when failed().
  bool next(std::string& bytes);
  // A read failed, or a window of several records' length held no record end.
  bool failed() const { return failed_; }

 private:
  int fd_;
  std::uint64_t position_;
  std::uint64_t size_;
  FileReading reading_;
  bool failed_ = false;
};

// Reads up to `length` bytes at `at` into `bytes` (fewer at the end of the file); false on error.
bool read_at(int fd, std::uint64_t at, std::size_t length, std::string& bytes);

// The size of the regular file at `fd`, or 0 when it is not one (then: read it sequentially).
std::uint64_t regular_file_size(int fd);

// Runs map(piece, index, work) on reading.workers threads and consume(work) on the calling thread
// in file order. False as soon as a map or a consume returns false or the reader failed: the
// caller then takes the sequential path. `Work` is reused from piece to piece.
template <class Work>
bool for_each_piece(PieceReader& reader, const FileReading& reading,
                    const std::function<bool(std::string_view, std::uint64_t, Work&)>& map,
                    const std::function<bool(Work&)>& consume) {
  enum class State { free, queued, done };
  struct Slot {
    std::string bytes;
    Work work;
    std::uint64_t index = 0;
    State state = State::free;
    bool ok = false;
  };
  const std::size_t slots_count = std::max<std::size_t>(reading.in_flight, 2);
  std::vector<Slot> slots(slots_count);
  std::mutex mutex;
  std::condition_variable queued, finished;
  std::vector<std::size_t> queue;
  bool stop = false;
  auto worker = [&] {
    std::unique_lock lock(mutex);
    for (;;) {
      queued.wait(lock, [&] { return stop || !queue.empty(); });
      if (stop) return;
      Slot& slot = slots[queue.front()];
      queue.erase(queue.begin());
      lock.unlock();
      const bool ok = map(slot.bytes, slot.index, slot.work);
      lock.lock();
      slot.ok = ok;
      slot.state = State::done;
      finished.notify_all();
    }
  };
  std::vector<std::thread> threads;
  for (unsigned i = 0; i < std::max(reading.workers, 1u); ++i) threads.emplace_back(worker);
  bool ok = true, more = true;
  std::uint64_t read = 0, consumed = 0;
  for (;;) {
    while (more && read - consumed < slots_count) {
      Slot& slot = slots[read % slots_count];  // free: no worker touches it
      if (!reader.next(slot.bytes)) {
        more = false;
        break;
      }
      std::lock_guard lock(mutex);
      slot.index = read++;
      slot.state = State::queued;
      queue.push_back(slot.index % slots_count);
      queued.notify_one();
    }
    if (consumed == read) break;
    Slot& slot = slots[consumed % slots_count];
    {
      std::unique_lock lock(mutex);
      finished.wait(lock, [&] { return slot.state == State::done; });
    }
    if (!slot.ok || !consume(slot.work)) {
      ok = false;
      break;
    }
    slot.state = State::free;
    ++consumed;
  }
  {
    std::lock_guard lock(mutex);
    stop = true;
    queued.notify_all();
  }
  for (auto& thread : threads) thread.join();
  return ok && !reader.failed();
}

}  // namespace kbix::detail

namespace kbix::detail {

// Where the records begin after a file's header, read in place from the first bytes of `fd`.
struct HeaderAt {
  std::uint64_t offset = 0;  // the first record's byte
  std::uint64_t line = 0;    // and its line
  std::uint64_t size = 0;    // of the file
};
// `check` reads and checks the header record. Nullopt when the file is small, not regular, or
// `check` refuses (the sequential path then answers, with the exact error).
std::optional<HeaderAt> header_for_pieces(int fd, std::string_view name, const FileReading& reading,
                                          const std::function<bool(CsvReader&)>& check);
// The same with read_header(expected); `columns` gets the header's column count.
std::optional<HeaderAt> header_for_pieces(int fd, std::string_view name, const FileReading& reading,
                                          const std::vector<std::string>& expected,
                                          std::size_t& columns);

// A file with the protocol's columns, to read in pieces: where its records begin, its column
// count, the key column's index, and what each piece's CsvReader needs.
struct TablePieces {
  HeaderAt header;
  std::size_t columns = 0;
  std::size_t key = 0;
  CsvLimits limits;
  std::string source;

  // Reads the records of one piece and calls on_record(reader, fields) for each; false when a
  // record is refused (a CSV error, a field count, or on_record's false).
  template <class OnRecord>
  bool for_each_record(std::string_view bytes, std::vector<std::string_view>& fields,
                       OnRecord&& on_record) const {
    CsvReader reader(bytes, source, limits, false);
    for (;;) {
      auto more = reader.next(fields);
      if (!more) return false;
      if (!*more) return true;
      if (fields.size() != columns || !on_record(reader)) return false;
    }
  }
};
// Nullopt as header_for_pieces (then the sequential path answers).
std::optional<TablePieces> table_pieces(int fd, std::string_view name, const FileReading& reading,
                                        const std::vector<std::string>& expected,
                                        const std::string& key_column);

// An output stream that keeps nothing: the sequential path after pieces were refused, run only
// for its error because part of the real output was already written.
class DiscardStream : public std::ostream {
 public:
  DiscardStream() : std::ostream(&buffer_) {}

 private:
  struct Buffer : std::streambuf {
    int_type overflow(int_type c) override { return traits_type::not_eof(c); }
    std::streamsize xsputn(const char*, std::streamsize n) override { return n; }
  } buffer_;
};

}  // namespace kbix::detail
