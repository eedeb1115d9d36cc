// The quarantine: returns that match no waiting run are taken off the server into
// <state_dir>/quarantine for an operator to look at. A hostile server cannot fill the disk with
// them: the quarantine holds at most [sftp] quarantine_max_files files and quarantine_max_bytes
// bytes (a file that does not fit stays on the server, audited once as return.quarantine_full),
// and files older than quarantine_max_age_days are purged, each purge audited.
#include <algorithm>
#include <limits>
#include <system_error>
#include <vector>

#include "kbix/exchange/exchange.hpp"
#include "kbix/exchange/remote_store.hpp"

namespace kbix {

namespace fs = std::filesystem;

namespace {

struct QuarantineUsage {
  std::uint64_t files = 0;
  std::uint64_t bytes = 0;
};

// Counts what is there; anything unreadable counts as full (fail closed).
QuarantineUsage usage_of(const fs::path& dir) {
  QuarantineUsage usage;
  std::error_code error;
  for (fs::directory_iterator it(dir, error), end; !error && it != end; it.increment(error)) {
    std::error_code size_error;
    const auto size = it->file_size(size_error);
    ++usage.files;
    usage.bytes += size_error ? 0 : size;
  }
  if (error) usage.files = usage.bytes = std::numeric_limits<std::uint64_t>::max();
  return usage;
}

}  // namespace

Status Exchange::quarantine_return(RemoteStore& remote, const RemoteEntry& entry,
                                   std::string_view why) {
  const fs::path dir = config_.quarantine_dir();
  std::error_code error;
  fs::create_directories(dir, error);
  fs::permissions(dir, fs::perms::owner_all, error);
  const fs::path local = dir / entry.name;
  const auto& sftp = config_.sftp;
  if (!fs::exists(fs::symlink_status(local, error))) {
    const QuarantineUsage usage = usage_of(dir);
    std::uint64_t room =
        usage.bytes >= sftp.quarantine_max_bytes ? 0 : sftp.quarantine_max_bytes - usage.bytes;
    if (sftp.max_download_bytes) room = std::min(room, *sftp.max_download_bytes);
    auto refuse = [&](const std::string& reason) -> Status {
      if (!quarantine_refused_.insert(entry.name).second) return ok();
      return record("", "return.quarantine_full",
                    {{"remote_file", sftp.return_dir + "/" + entry.name},
                     {"bytes", entry.size},
                     {"quarantine_files", usage.files},
                     {"quarantine_bytes", usage.bytes},
                     {"reason", reason}});
    };
    if (usage.files >= sftp.quarantine_max_files) {
      return refuse("the quarantine holds its maximum number of files; left on the server");
    }
    if (entry.size > room) {
      return refuse("larger than the room left in the quarantine; left on the server");
    }
    auto got = remote.download(sftp.return_dir, entry.name, local, {}, room);
    if (!got && got.error().code == "sftp.too_large") return refuse(got.error().message);
    if (!got) return fail(std::move(got).error());
  }
  KBIX_TRY(remote.remove(sftp.return_dir, entry.name));
  return record("", "return.quarantined",
                {{"remote_file", sftp.return_dir + "/" + entry.name},
                 {"local_file", local.string()},
                 {"bytes", entry.size},
                 {"reason", std::string(why)}});
}

Status Exchange::purge_quarantine(Clock::time_point now) {
  const fs::path dir = config_.quarantine_dir();
  std::error_code error;
  if (!fs::is_directory(dir, error)) return ok();
  // Expired: modified before now - max_age, with `now` moved onto the file clock.
  const auto shift = std::chrono::duration_cast<fs::file_time_type::duration>(Clock::now() - now);
  const auto cutoff = fs::file_time_type::clock::now() - shift - config_.sftp.quarantine_max_age;
  std::vector<fs::path> expired;
  for (fs::directory_iterator it(dir, error), end; !error && it != end; it.increment(error)) {
    std::error_code time_error;
    const auto modified = it->last_write_time(time_error);
    if (!time_error && modified < cutoff) expired.push_back(it->path());
  }
  if (error) return fail("io.read", "cannot list the quarantine " + dir.string());
  for (const auto& file : expired) {
    std::error_code remove_error;
    const auto bytes = fs::file_size(file, remove_error);
    fs::remove(file, remove_error);
    if (remove_error) return fail("io.remove", "cannot purge " + file.string());
    KBIX_TRY(record("", "quarantine.purge",
                    {{"local_file", file.filename().string()},
                     {"bytes", bytes == static_cast<std::uintmax_t>(-1) ? 0 : bytes},
                     {"max_age_days", config_.sftp.quarantine_max_age.count() / 24}}));
  }
  return ok();
}

}  // namespace kbix
