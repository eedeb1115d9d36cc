// ExchangeRunner: one exchange inside the daemon (internal to the daemon module).
//
// Each exchange has its own worker (a strand on the daemon's bounded thread pool), its own poll
// timer, schedule and step gate, and its own run store connection: one exchange failing, waiting
// on a slow server or being slow itself never delays another, and at most
// [daemon] max_parallel_exchanges of them work at the same time. The control socket uses the
// runner's control Exchange on the event loop's thread, under the daemon's control mutex.
#pragma once

// First: boost/asio/awaitable.hpp (Boost 1.74) uses std::exchange without including it.
#include <utility>
// clang-format off
#include <boost/asio.hpp>
// clang-format on

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "kbix/config/config.hpp"
#include "kbix/daemon/operations.hpp"
#include "kbix/exchange/exchange.hpp"
#include "kbix/exchange/instance.hpp"
#include "kbix/runs/run_store.hpp"

namespace kbix::detail {

// What every runner shares; owned by the daemon, outlives the runners.
struct RunnerContext {
  Instance& instance;
  boost::asio::io_context& io;
  boost::asio::thread_pool& pool;
  Operations& ops;
  std::mutex& control_mutex;
  RunStore& control_store;
  const std::atomic<bool>& stopping;
  std::atomic<int>& busy;  // exchanges working now (for systemd's status line)
};

// A daemon boundary (invariant 16): whatever `work` throws fails this piece of work only; it is
// logged and audited with its text sanitised, and the daemon goes on. Returns whether it ran.
bool contained(AuditLog& audit, std::string_view what, const std::function<void()>& work,
               const std::string& exchange = "");

class ExchangeRunner {
 public:
  static Result<std::unique_ptr<ExchangeRunner>> start(RunnerContext& context, Config config);
  ~ExchangeRunner();

  const std::string& name() const { return name_; }
  // The control side (the event loop's thread, under the control mutex).
  Exchange& control() { return control_; }
  const Config& config() const { return control_.config(); }

  // At most one tick queued: the worker catches up with everything in one pass.
  void request_tick();
  // After a reload (control mutex held): the control side now, the worker between two ticks.
  void replace_config(const Config& config);
  // The exchange left the configuration: no new work; what is queued finishes.
  void retire();

 private:
  ExchangeRunner(RunnerContext& context, Config config, RunStore worker_store);
  void schedule_poll(std::chrono::seconds delay);
  void tick();
  void start_scheduled_run();

  RunnerContext& context_;
  std::string name_;
  boost::asio::strand<boost::asio::thread_pool::executor_type> strand_;
  boost::asio::steady_timer poll_timer_;
  RunStore worker_store_;
  std::mutex step_gate_;  // held by a step from reading its run to auditing its outcome
  Exchange worker_;
  Exchange control_;
  std::atomic<bool> tick_queued_{false};
  std::atomic<bool> retired_{false};
  std::mutex pending_mutex_;
  std::optional<Config> pending_config_;  // taken by the worker before its next tick
  // The schedule (worker only).
  std::optional<std::chrono::system_clock::time_point> scheduled_due_;
  bool reported_missing_ = false;
  std::optional<std::chrono::sys_days> attempted_day_;
};

}  // namespace kbix::detail
