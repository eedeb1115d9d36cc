#include "kbix/sftp/sftp_readiness.hpp"

#include <regex>
#include <thread>
#include <utility>

namespace kbix {

ReadinessTracker::ReadinessTracker(NamePredicate is_final_name, std::chrono::milliseconds min_age)
    : is_final_name_(std::move(is_final_name)), min_age_(min_age) {}

Result<ReadinessTracker> ReadinessTracker::from_pattern(const std::string& full_match_regex,
                                                        std::chrono::milliseconds min_age) {
  try {
    std::regex pattern(full_match_regex, std::regex::ECMAScript);
    return ReadinessTracker(
        [pattern = std::move(pattern)](const std::string& name) {
          return std::regex_match(name, pattern);
        },
        min_age);
  } catch (const std::regex_error& error) {
    return fail("sftp.bad_pattern", "invalid file-name pattern: " + std::string(error.what()));
  }
}

std::vector<RemoteEntry> ReadinessTracker::observe(const std::vector<RemoteEntry>& listing,
                                                   std::chrono::system_clock::time_point now) {
  std::vector<RemoteEntry> ready;
  std::map<std::string, Seen> current;
  for (const auto& entry : listing) {
    if (!entry.is_regular_file || !is_final_name_(entry.name)) continue;
    current[entry.name] = Seen{entry.size, entry.modified};
    const auto before = previous_.find(entry.name);
    const bool stable = before != previous_.end() && before->second.size == entry.size &&
                        before->second.modified == entry.modified;
    const bool old_enough = now - entry.modified >= min_age_;
    if (stable && old_enough) ready.push_back(entry);
  }
  previous_ = std::move(current);
  return ready;
}

Result<std::vector<RemoteEntry>> find_ready_files(SftpClient& client, const std::string& remote_dir,
                                                  ReadinessTracker& tracker,
                                                  std::chrono::milliseconds poll_settle) {
  KBIX_ASSIGN_OR_RETURN(auto first, client.list(remote_dir));
  tracker.observe(first.entries, std::chrono::system_clock::now());
  std::this_thread::sleep_for(poll_settle);
  KBIX_ASSIGN_OR_RETURN(auto second, client.list(remote_dir));
  return tracker.observe(second.entries, std::chrono::system_clock::now());
}

}  // namespace kbix
