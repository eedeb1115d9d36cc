// Notifier: sends notices to the configured channels (e-mail, webhook) from a thread of its own.
//
// submit() never blocks on the network and never fails the caller: it drops a notice whose
// condition was already submitted within the repeat interval (remembered across restarts in a
// small file in the state directory), else queues it. The worker tries each channel up to
// `attempts` times, `retry_delay` apart, each attempt bounded by `timeout`, and audits
// notify.sent (channel, event, run id) or notify.failed (channel, event, attempts, error code).
// The audit entries never hold the message text.
//
// Does NOT guarantee: delivery (a relay may accept and lose a message), nor order across
// channels. Notices still queued when stop() gives up are audited as notify.failed.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "kbix/audit/audit.hpp"
#include "kbix/config/ops_config.hpp"
#include "kbix/core/result.hpp"
#include "kbix/notify/notice.hpp"

namespace kbix {

// A way to reach people. Implementations: e-mail (SMTP) and webhook, both through libcurl.
class NotifyChannel {
 public:
  virtual ~NotifyChannel() = default;
  virtual std::string name() const = 0;  // "email", "webhook"
  virtual Status send(const Notice& notice) = 0;
};

class Notifier {
 public:
  // `dedup_file`: where submitted conditions are remembered; `audit` must outlive the notifier.
  // `protocol_id` goes into subjects and webhook documents. Errors: notify.setup.
  static Result<std::unique_ptr<Notifier>> start(const NotifyConfig& config,
                                                 std::filesystem::path dedup_file, AuditLog& audit);
  ~Notifier();
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  // Queues the notice unless its condition was submitted within the repeat interval.
  // Returns whether it was queued.
  bool submit(Notice notice,
              std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

  // Waits until the queue is empty and nothing is being sent, at most `max_wait`. True if idle.
  bool flush(std::chrono::milliseconds max_wait);

  // Stops the worker after at most `max_wait` of draining; what is left is audited as failed.
  void stop(std::chrono::milliseconds max_wait = std::chrono::seconds(30));

 private:
  Notifier(const NotifyConfig& config, std::filesystem::path dedup_file, AuditLog& audit,
           std::vector<std::unique_ptr<NotifyChannel>> channels);
  void work();
  void deliver(const Notice& notice);
  void load_dedup();
  void save_dedup() const;

  NotifyConfig config_;
  std::filesystem::path dedup_file_;
  AuditLog& audit_;
  std::vector<std::unique_ptr<NotifyChannel>> channels_;

  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Notice> queue_;
  bool busy_ = false;
  bool stopping_ = false;
  std::map<std::string, std::int64_t> last_submitted_;  // condition -> epoch seconds
  std::thread worker_;
};

// The channels of a configuration (e-mail and/or webhook). Errors: notify.setup (a password
// file that cannot be read or is readable by others).
Result<std::vector<std::unique_ptr<NotifyChannel>>> make_channels(const NotifyConfig& config);

}  // namespace kbix

namespace kbix {

// Turns the Exchange's notices into notifications (notice_for) and submits them.
class NotifyingObserver final : public ExchangeObserver {
 public:
  NotifyingObserver(Notifier& notifier, Config config)
      : notifier_(notifier), config_(std::move(config)) {}
  void on_exchange_notice(const ExchangeNotice& notice) noexcept override;
  void replace_config(Config config);  // after a reload

  // Submits a notice per certificate inside its warning period (de-duplicated by the notifier).
  void check_certificates() noexcept;

 private:
  Notifier& notifier_;
  std::mutex mutex_;
  Config config_;
};

}  // namespace kbix
