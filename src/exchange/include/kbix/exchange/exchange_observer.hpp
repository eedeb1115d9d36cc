// ExchangeObserver: what the Exchange tells the rest of the process about its runs, so that
// notifications, metrics (and later features) follow runs without living inside a step.
//
// Calls happen on the Exchange's own thread, after the change is durable in the run store and
// audited. An observer must return quickly and never fail the run: it gets no way to (noexcept)
// and must hand slow work (sending mail, a webhook) to a thread of its own. Notices carry run
// ids, states and error codes only: never a file's content or a personal value.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "kbix/runs/run_state.hpp"

namespace kbix {

enum class ExchangeNoticeKind {
  state_changed,       // a run reached `state` (started, advanced, failed, retried, cancelled)
  failed_for_good,     // a run failed and will not be retried automatically (`code`)
  overdue,             // a run waits longer than the return deadline
  return_quarantined,  // a return that matches no waiting run was set aside (`code`: why)
  finished,            // a run reached done
  poll_succeeded,      // one pass over the return directory completed
};

struct ExchangeNotice {
  ExchangeNoticeKind kind = ExchangeNoticeKind::state_changed;
  std::string run_id;  // empty for poll_succeeded and return_quarantined
  RunState state = RunState::planned;
  std::string code;        // an error code, a reason code; never personal content
  std::string exchange{};  // the exchange's name (ExchangeSettings::name)
};

class ExchangeObserver {
 public:
  virtual ~ExchangeObserver() = default;
  virtual void on_exchange_notice(const ExchangeNotice& notice) noexcept = 0;
};

// Hands every notice to each observer in the order they were added. Thread-safe.
class ExchangeObservers final : public ExchangeObserver {
 public:
  void add(std::shared_ptr<ExchangeObserver> observer) {
    std::lock_guard lock(mutex_);
    observers_.push_back(std::move(observer));
  }
  void on_exchange_notice(const ExchangeNotice& notice) noexcept override {
    std::vector<std::shared_ptr<ExchangeObserver>> copy;
    {
      std::lock_guard lock(mutex_);
      copy = observers_;
    }
    for (const auto& observer : copy) observer->on_exchange_notice(notice);
  }

 private:
  std::mutex mutex_;
  std::vector<std::shared_ptr<ExchangeObserver>> observers_;
};

}  // namespace kbix
