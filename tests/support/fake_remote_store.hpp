// FakeRemoteStore: the partner's side of a transfer as plain directories on the local disk, for
// unit tests of the exchange engine (tests/unit/exchange/). It keeps RemoteStore's contract (final
// names never overwritten, temporary name then rename on upload, sftp.not_found for a missing
// file) and injects faults: the Nth call of an operation fails with a given code, a file vanishes
// between the listing and the download, or a listing shows a file twice.
//
// Every call is counted, so a test can assert how often the engine uploaded or removed.
// Does NOT model: partial transfers on the wire, server clocks, permissions.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kbix/core/error_codes.hpp"
#include "kbix/exchange/remote_store.hpp"

namespace kbix::test {

enum class RemoteOp { connect, list, stat, upload, download, remove };
std::string_view to_string(RemoteOp op);

struct RemoteFault {
  RemoteOp op;
  int on_call = 1;  // the Nth call of `op` (counted over every connection) fails
  ErrorCode code;   // e.g. "sftp.connection_lost", "sftp.timeout"
};

class FakeRemote {
 public:
  explicit FakeRemote(std::filesystem::path root);

  // The connector the engine gets: each call is one connection (counted as RemoteOp::connect).
  RemoteStoreConnector connector();

  void inject(RemoteFault fault) { faults_.push_back(std::move(fault)); }
  // The next download of `name` finds it gone (the server removed it after listing).
  void vanish_before_download(std::string name) { vanishing_.push_back(std::move(name)); }
  // Listings show `name` twice (a broken or hostile server).
  void list_twice(std::string name) { doubled_.push_back(std::move(name)); }

  std::filesystem::path dir(const std::string& remote_dir) const { return root_ / remote_dir; }
  int calls(RemoteOp op) const;
  // Successful completed uploads (renamed into place).
  int completed_uploads() const { return completed_uploads_; }

  // Used by the store objects the connector hands out.
  Status take_fault(RemoteOp op);
  bool take_vanishing(const std::string& name);
  bool doubled(const std::string& name) const;
  void count_completed_upload() { ++completed_uploads_; }

 private:
  std::filesystem::path root_;
  std::vector<RemoteFault> faults_;
  std::vector<std::string> vanishing_;
  std::vector<std::string> doubled_;
  std::map<RemoteOp, int> calls_;
  int completed_uploads_ = 0;
};

}  // namespace kbix::test
