// An observer of the output scan that keeps what it saw (and can refuse one record), for the
// tests of the scan's observer on one thread and in pieces.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kbix/domain/output_scan.hpp"

namespace kbix::test {

struct ScanRecorder final : OutputObserver {
  std::vector<std::vector<std::string>> records;
  std::vector<std::uint64_t> lines;
  std::size_t fail_at = 0;  // 1-based record number whose call returns an error; 0: never
  Status record(const std::vector<std::string_view>& fields, const RecordPlace& place) override {
    records.emplace_back(fields.begin(), fields.end());
    lines.push_back(place.line);
    if (records.size() == fail_at) {
      // A code no kbix part produces (deliberately unregistered, hence Error::from_text).
      return fail(Error::from_text("test.observer", place.where(1) + "refused"));
    }
    return ok();
  }
  void clear() override {
    records.clear();
    lines.clear();
  }
};

}  // namespace kbix::test
