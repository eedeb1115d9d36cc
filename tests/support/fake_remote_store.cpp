#include "support/fake_remote_store.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <system_error>

namespace kbix::test {

namespace fs = std::filesystem;

std::string_view to_string(RemoteOp op) {
  switch (op) {
    case RemoteOp::connect:
      return "connect";
    case RemoteOp::list:
      return "list";
    case RemoteOp::stat:
      return "stat";
    case RemoteOp::upload:
      return "upload";
    case RemoteOp::download:
      return "download";
    case RemoteOp::remove:
      return "remove";
  }
  return "?";
}

FakeRemote::FakeRemote(fs::path root) : root_(std::move(root)) {}

int FakeRemote::calls(RemoteOp op) const {
  const auto found = calls_.find(op);
  return found == calls_.end() ? 0 : found->second;
}

Status FakeRemote::take_fault(RemoteOp op) {
  const int call = ++calls_[op];
  for (auto it = faults_.begin(); it != faults_.end(); ++it) {
    if (it->op == op && it->on_call == call) {
      const ErrorCode code = it->code;
      faults_.erase(it);
      return fail(
          code, "injected fault: " + std::string(to_string(op)) + " call " + std::to_string(call));
    }
  }
  return ok();
}

bool FakeRemote::take_vanishing(const std::string& name) {
  const auto it = std::find(vanishing_.begin(), vanishing_.end(), name);
  if (it == vanishing_.end()) return false;
  vanishing_.erase(it);
  return true;
}

bool FakeRemote::doubled(const std::string& name) const {
  return std::find(doubled_.begin(), doubled_.end(), name) != doubled_.end();
}

namespace {

// Whole seconds, as an SFTP server reports them.
std::chrono::system_clock::time_point modified_time(const fs::path& file) {
  struct stat info {};
  if (::stat(file.c_str(), &info) != 0) return {};
  return std::chrono::system_clock::from_time_t(info.st_mtime);
}

Status not_found(const std::string& remote_dir, const std::string& name) {
  return fail("sftp.not_found", remote_dir + "/" + name + " does not exist");
}

class FakeRemoteStore final : public RemoteStore {
 public:
  explicit FakeRemoteStore(FakeRemote& remote) : remote_(remote) {}

  Result<RemoteListing> list(const std::string& remote_dir) override {
    KBIX_TRY(remote_.take_fault(RemoteOp::list));
    RemoteListing listing;
    std::error_code error;
    for (const auto& entry : fs::directory_iterator(remote_.dir(remote_dir), error)) {
      RemoteEntry item;
      item.name = entry.path().filename().string();
      item.size = entry.is_regular_file() ? entry.file_size() : 0;
      item.is_regular_file = entry.is_regular_file();
      item.modified = modified_time(entry.path());
      listing.entries.push_back(item);
      if (remote_.doubled(item.name)) listing.entries.push_back(item);
    }
    if (error) return fail("sftp.not_found", remote_dir + " does not exist");
    std::sort(listing.entries.begin(), listing.entries.end(),
              [](const RemoteEntry& a, const RemoteEntry& b) { return a.name < b.name; });
    return listing;
  }

  Result<RemoteEntry> stat(const std::string& remote_dir, const std::string& name) override {
    KBIX_TRY(remote_.take_fault(RemoteOp::stat));
    const fs::path file = remote_.dir(remote_dir) / name;
    std::error_code error;
    if (!fs::is_regular_file(file, error)) return fail(not_found(remote_dir, name).error());
    RemoteEntry entry;
    entry.name = name;
    entry.size = fs::file_size(file, error);
    entry.is_regular_file = true;
    return entry;
  }

  Result<std::uint64_t> upload(const fs::path& local_file, const std::string& remote_dir,
                               const std::string& final_name, const TransferProgress& progress,
                               const BeforeRename& before_rename) override {
    KBIX_TRY(remote_.take_fault(RemoteOp::upload));
    const fs::path target = remote_.dir(remote_dir) / final_name;
    std::error_code error;
    if (fs::exists(target, error)) {
      return fail("sftp.exists", remote_dir + "/" + final_name + " exists; not overwritten");
    }
    const std::string temporary = "." + final_name + ".part-fake";
    const fs::path temp = remote_.dir(remote_dir) / temporary;
    fs::copy_file(local_file, temp, fs::copy_options::overwrite_existing, error);
    if (error) return fail("sftp.remote_failure", "cannot write " + remote_dir + "/" + temporary);
    const std::uint64_t size = fs::file_size(temp, error);
    if (progress) progress(size, size);
    if (before_rename) {
      if (auto ready = before_rename(temporary); !ready) {
        fs::remove(temp, error);
        return fail(std::move(ready).error());
      }
    }
    fs::rename(temp, target, error);
    if (error) return fail("sftp.remote_failure", "cannot rename " + remote_dir + "/" + temporary);
    remote_.count_completed_upload();
    return size;
  }

  Result<std::uint64_t> download(const std::string& remote_dir, const std::string& name,
                                 const fs::path& local_path, const TransferProgress& progress,
                                 std::uint64_t max_bytes) override {
    KBIX_TRY(remote_.take_fault(RemoteOp::download));
    const fs::path file = remote_.dir(remote_dir) / name;
    std::error_code error;
    if (remote_.take_vanishing(name)) fs::remove(file, error);
    if (!fs::is_regular_file(file, error)) return fail(not_found(remote_dir, name).error());
    if (fs::file_size(file, error) > max_bytes) {
      return fail("sftp.too_large", name + ": more than the limit of " + std::to_string(max_bytes));
    }
    if (fs::exists(local_path, error)) {
      return fail("io.exists", local_path.string() + " exists; not replaced");
    }
    fs::copy_file(file, local_path, error);
    if (error) return fail("io.write", "cannot write " + local_path.string());
    const std::uint64_t size = fs::file_size(local_path, error);
    if (progress) progress(size, size);
    return size;
  }

  Status remove(const std::string& remote_dir, const std::string& name) override {
    KBIX_TRY(remote_.take_fault(RemoteOp::remove));
    std::error_code error;
    if (!fs::remove(remote_.dir(remote_dir) / name, error)) return not_found(remote_dir, name);
    return ok();
  }

  std::string cipher() const override { return "fake"; }
  std::string host_key_fingerprint() const override { return "fake SHA256:none"; }

 private:
  FakeRemote& remote_;
};

}  // namespace

RemoteStoreConnector FakeRemote::connector() {
  return [this]() -> Result<std::unique_ptr<RemoteStore>> {
    KBIX_TRY(take_fault(RemoteOp::connect));
    return std::unique_ptr<RemoteStore>(std::make_unique<FakeRemoteStore>(*this));
  };
}

}  // namespace kbix::test
