#include "kbix/notify/notifier.hpp"

#include <spdlog/spdlog.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "internal/channels.hpp"
#include "kbix/core/file_safety.hpp"

namespace kbix {

namespace {

std::int64_t epoch_seconds(std::chrono::system_clock::time_point when) {
  return std::chrono::duration_cast<std::chrono::seconds>(when.time_since_epoch()).count();
}

}  // namespace

Result<std::vector<std::unique_ptr<NotifyChannel>>> make_channels(const NotifyConfig& config) {
  std::vector<std::unique_ptr<NotifyChannel>> channels;
  if (config.email) {
    KBIX_ASSIGN_OR_RETURN(auto email, detail::make_email_channel(*config.email, config.timeout));
    channels.push_back(std::move(email));
  }
  if (config.webhook)
    channels.push_back(detail::make_webhook_channel(*config.webhook, config.timeout));
  return channels;
}

Result<std::unique_ptr<Notifier>> Notifier::start(const NotifyConfig& config,
                                                  std::filesystem::path dedup_file,
                                                  AuditLog& audit) {
  KBIX_ASSIGN_OR_RETURN(auto channels, make_channels(config));
  std::unique_ptr<Notifier> notifier(
      new Notifier(config, std::move(dedup_file), audit, std::move(channels)));
  notifier->load_dedup();
  notifier->worker_ = std::thread([raw = notifier.get()] { raw->work(); });
  return notifier;
}

Notifier::Notifier(const NotifyConfig& config, std::filesystem::path dedup_file, AuditLog& audit,
                   std::vector<std::unique_ptr<NotifyChannel>> channels)
    : config_(config),
      dedup_file_(std::move(dedup_file)),
      audit_(audit),
      channels_(std::move(channels)) {}

Notifier::~Notifier() {
  stop(std::chrono::milliseconds(0));
}

void Notifier::load_dedup() {
  std::ifstream in(dedup_file_);
  if (!in) return;
  const auto document = nlohmann::json::parse(in, nullptr, false);
  if (!document.is_object()) {
    spdlog::warn("{}: not a notification record; starting afresh", dedup_file_.string());
    return;
  }
  for (const auto& [condition, when] : document.items()) {
    if (when.is_number_integer()) last_submitted_[condition] = when.get<std::int64_t>();
  }
}

void Notifier::save_dedup() const {
  const nlohmann::json document(last_submitted_);
  if (auto saved = write_file_atomically(dedup_file_, document.dump() + "\n"); !saved) {
    spdlog::warn("notifications: {}", saved.error().describe());
  }
}

bool Notifier::submit(Notice notice, std::chrono::system_clock::time_point now) {
  std::lock_guard lock(mutex_);
  if (stopping_) return false;
  const std::int64_t at = epoch_seconds(now);
  const auto last = last_submitted_.find(notice.condition);
  if (last != last_submitted_.end() && at - last->second < config_.repeat_interval.count()) {
    spdlog::debug("notification {} already sent within the repeat interval", notice.condition);
    return false;
  }
  // Forget conditions older than the interval, so the record stays small.
  std::erase_if(last_submitted_, [&](const auto& entry) {
    return at - entry.second >= config_.repeat_interval.count();
  });
  last_submitted_[notice.condition] = at;
  save_dedup();
  queue_.push_back(std::move(notice));
  changed_.notify_all();
  return true;
}

bool Notifier::flush(std::chrono::milliseconds max_wait) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, max_wait, [&] { return queue_.empty() && !busy_; });
}

void Notifier::stop(std::chrono::milliseconds max_wait) {
  if (!worker_.joinable()) return;
  (void)flush(max_wait);
  std::deque<Notice> left;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    left.swap(queue_);
    changed_.notify_all();
  }
  worker_.join();
  for (const auto& notice : left) {
    for (const auto& channel : channels_) {
      (void)audit_.append(AuditEvent{notice.run_id,
                                     scheduler_actor(),
                                     "notify.failed",
                                     {{"channel", channel->name()},
                                      {"event", notice.event},
                                      {"attempts", 0},
                                      {"code", "notify.shutdown"}}});
    }
  }
}

void Notifier::work() {
  std::unique_lock lock(mutex_);
  for (;;) {
    changed_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (stopping_) return;
    Notice notice = std::move(queue_.front());
    queue_.pop_front();
    busy_ = true;
    lock.unlock();
    deliver(notice);
    lock.lock();
    busy_ = false;
    changed_.notify_all();
  }
}

void Notifier::deliver(const Notice& notice) {
  for (const auto& channel : channels_) {
    Status sent = fail("notify.send", "not tried");
    int attempt = 0;
    while (attempt < config_.attempts) {
      ++attempt;
      sent = channel->send(notice);
      if (sent || attempt == config_.attempts) break;
      std::unique_lock lock(mutex_);
      if (changed_.wait_for(lock, config_.retry_delay, [&] { return stopping_; })) break;
    }
    nlohmann::json details = {
        {"channel", channel->name()}, {"event", notice.event}, {"attempts", attempt}};
    if (sent) {
      spdlog::info("notification {} sent by {}", notice.event, channel->name());
    } else {
      spdlog::error("notification {} not sent by {} after {} attempts: {}", notice.event,
                    channel->name(), attempt, sent.error().describe());
      details["code"] = sent.error().code;
      details["message"] = sent.error().message;
    }
    (void)audit_.append(AuditEvent{notice.run_id, scheduler_actor(),
                                   sent ? "notify.sent" : "notify.failed", details});
  }
}

}  // namespace kbix

namespace kbix {

void NotifyingObserver::on_exchange_notice(const ExchangeNotice& notice) noexcept {
  try {
    std::lock_guard lock(mutex_);
    if (auto message = notice_for(notice, config_)) notifier_.submit(std::move(*message));
  } catch (const std::exception& error) {  // an observer never fails the run
    spdlog::error("notification for run {} not queued: {}", notice.run_id, error.what());
  }
}

void NotifyingObserver::replace_config(Config config) {
  std::lock_guard lock(mutex_);
  config_ = std::move(config);
}

void NotifyingObserver::check_certificates() noexcept {
  try {
    std::lock_guard lock(mutex_);
    for (auto& message : certificate_notices(config_)) notifier_.submit(std::move(message));
  } catch (const std::exception& error) {
    spdlog::error("certificate notifications not queued: {}", error.what());
  }
}

}  // namespace kbix
