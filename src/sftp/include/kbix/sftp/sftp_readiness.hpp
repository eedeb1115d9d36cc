// ReadinessTracker: decides when a file on the partner's server may be picked up.
//
// A file is ready when (1) its name is an expected final name (a predicate, or a regex matching the
// whole name), (2) it is a regular file, (3) its size and modification time are the same as in the
// previous observation, and (4) it is older than min_age by the server's timestamp. Temporary
// upload names never match a sane pattern, so a file still being written is skipped twice over.
//
// Does NOT guarantee: that the writer has finished (a writer pausing longer than the poll interval
// and min_age can fool any size check; the partner must also use temporary names); protection
// from clock skew between us and the server beyond min_age itself.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "kbix/core/result.hpp"
#include "kbix/sftp/sftp.hpp"

namespace kbix {

class ReadinessTracker {
 public:
  using NamePredicate = std::function<bool(const std::string& name)>;

  // `is_final_name` says whether a name is an expected final name (e.g. a protocol's return).
  ReadinessTracker(NamePredicate is_final_name, std::chrono::milliseconds min_age);
  // The same with an ECMAScript regular expression that must match the whole name.
  // Error code "sftp.bad_pattern" when it does not compile.
  static Result<ReadinessTracker> from_pattern(const std::string& full_match_regex,
                                               std::chrono::milliseconds min_age);

  // Records one listing and returns the entries ready now. Entries absent from `listing` are
  // forgotten (a file that disappears and comes back starts over).
  std::vector<RemoteEntry> observe(const std::vector<RemoteEntry>& listing,
                                   std::chrono::system_clock::time_point now);

 private:
  struct Seen {
    std::uint64_t size = 0;
    std::chrono::system_clock::time_point modified;
  };
  NamePredicate is_final_name_;
  std::chrono::milliseconds min_age_;
  std::map<std::string, Seen> previous_;
};

// Lists remote_dir twice, poll_settle apart, through one tracker; returns the ready entries.
Result<std::vector<RemoteEntry>> find_ready_files(SftpClient& client, const std::string& remote_dir,
                                                  ReadinessTracker& tracker,
                                                  std::chrono::milliseconds poll_settle);

}  // namespace kbix
