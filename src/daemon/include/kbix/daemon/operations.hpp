// Operations: what a kbix process runs beside its exchange so people and monitoring know how it
// goes: the notifier ([notify]) and the metrics file ([metrics]), both fed by the Exchange's
// observer interface. Used by the daemon and by `kbix run once`.
//
// Starting never fails the process: a part that cannot start (a password file readable by
// others, a metrics directory missing) is logged and audited as ops.degraded, and the rest runs.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>
#include <string_view>

#include "kbix/exchange/exchange_observer.hpp"
#include "kbix/exchange/instance.hpp"
#include "kbix/metrics/metrics_writer.hpp"
#include "kbix/notify/notifier.hpp"

namespace kbix {

class Operations {
 public:
  // `verify_audit_log`: run `audit verify` once now and notify when it fails (the daemon does).
  static std::unique_ptr<Operations> start(Instance& instance, bool verify_audit_log);
  ~Operations();

  // Hand this to the Exchange objects of exchange `name` (set_observer); stays valid as long as
  // Operations lives, also across reloads.
  ExchangeObserver* observer(const std::string& name);

  // After each pass of an exchange's worker: its certificate warnings (de-duplicated) and a
  // fresh metrics file.
  void after_tick(const std::string& name);
  // After a reload: the exchanges that run now.
  void replace_config(const std::vector<Config>& exchanges);
  // Waits (bounded) for queued notifications, then stops; called before the audit log closes.
  void stop();

 private:
  Operations() = default;
  struct PerExchange {
    ExchangeObservers observers;
    std::shared_ptr<NotifyingObserver> notifying;
  };
  PerExchange& exchange_locked(const Config& config);

  std::mutex mutex_;  // guards exchanges_ (its nodes, and so the observers, never move)
  std::map<std::string, PerExchange> exchanges_;
  std::unique_ptr<Notifier> notifier_;
  std::shared_ptr<MetricsWriter> metrics_;
};

}  // namespace kbix
