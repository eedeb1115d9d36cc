#include "kbix/exchange/remote_store.hpp"

#include <utility>

namespace kbix {

namespace {

// SftpClient behind the engine's interface; one object per connection.
class SftpRemoteStore final : public RemoteStore {
 public:
  explicit SftpRemoteStore(SftpClient client) : client_(std::move(client)) {}

  Result<RemoteListing> list(const std::string& remote_dir) override {
    return client_.list(remote_dir);
  }
  Result<RemoteEntry> stat(const std::string& remote_dir, const std::string& name) override {
    return client_.stat(remote_dir, name);
  }
  Result<std::uint64_t> upload(const std::filesystem::path& local_file,
                               const std::string& remote_dir, const std::string& final_name,
                               const TransferProgress& progress,
                               const BeforeRename& before_rename) override {
    return client_.upload(local_file, remote_dir, final_name, progress, before_rename);
  }
  Result<std::uint64_t> download(const std::string& remote_dir, const std::string& name,
                                 const std::filesystem::path& local_path,
                                 const TransferProgress& progress) override {
    return client_.download(remote_dir, name, local_path, progress);
  }
  Status remove(const std::string& remote_dir, const std::string& name) override {
    return client_.remove(remote_dir, name);
  }
  std::string cipher() const override { return client_.cipher(); }
  std::string host_key_fingerprint() const override { return client_.host_key_fingerprint(); }

 private:
  SftpClient client_;
};

}  // namespace

RemoteStoreConnector sftp_remote_store(SftpSettings settings) {
  return [settings = std::move(settings)]() -> Result<std::unique_ptr<RemoteStore>> {
    auto client = SftpClient::connect(settings);
    if (!client) return fail(std::move(client).error());
    return std::unique_ptr<RemoteStore>(std::make_unique<SftpRemoteStore>(std::move(*client)));
  };
}

}  // namespace kbix
