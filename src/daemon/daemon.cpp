#include "kbix/daemon/daemon.hpp"

#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/asio.hpp>
#include <mutex>
#include <optional>

#include "kbix/core/exit_code.hpp"
#include "kbix/core/logging.hpp"
#include "kbix/core/untrusted_text.hpp"
#include "kbix/core/utc_time.hpp"
#include "kbix/daemon/control_socket.hpp"
#include "kbix/daemon/operations.hpp"
#include "kbix/daemon/systemd_notify.hpp"
#include "kbix/exchange/exchange.hpp"
#include "kbix/exchange/instance.hpp"
#include "kbix/runs/schedule.hpp"
#include "kbix/runs/status_view.hpp"

namespace kbix {

namespace asio = boost::asio;
using Clock = std::chrono::system_clock;

namespace {

nlohmann::json refusal(const Error& error) {
  return {{"ok", false}, {"error", error.code}, {"message", error.message}};
}

// Everything the daemon owns; lives on run_daemon's stack.
class DaemonState {
 public:
  DaemonState(asio::io_context& io, Instance& instance)
      : io_(io),
        instance_(instance),
        worker_(1),
        poll_timer_(io),
        watchdog_timer_(io),
        worker_exchange_(instance.config(), instance.store(), instance.audit()),
        ops_(Operations::start(instance, true)) {
    worker_exchange_.set_stop_flag(&stopping_);
    worker_exchange_.set_step_gate(&step_gate_);
    worker_exchange_.set_observer(ops_->observer());
  }

  Status start() {
    auto control_store = RunStore::open(instance_.config().daemon.state_dir / "runs.sqlite3");
    if (!control_store) return fail(std::move(control_store).error());
    control_store_ = std::make_unique<RunStore>(std::move(*control_store));
    control_exchange_.emplace(instance_.config(), *control_store_, instance_.audit());
    // Under systemd, kbix.socket made the socket (group and mode set: no chown needed here).
    auto inherited = inherited_listening_socket(instance_.config().daemon.control_socket);
    if (!inherited) return fail(std::move(inherited).error());
    control_exchange_->set_step_gate(&step_gate_);
    control_exchange_->set_observer(ops_->observer());
    auto server = ControlServer::start(
        io_, instance_.config().daemon.control_socket, instance_.config().daemon.control_group,
        [this](const ControlRequest& request, const PeerCredentials& peer) {
          return handle(request, peer);
        },
        [this](const PeerCredentials& peer, std::string_view why) {
          (void)instance_.audit().append(
              AuditEvent{"",
                         AuditActor{peer.user_name, peer.uid},
                         "control.refused",
                         {{"uid", peer.uid}, {"pid", peer.pid}, {"reason", std::string(why)}}});
        },
        *inherited);
    if (!server) return fail(std::move(server).error());
    control_ = std::move(*server);
    schedule_poll(std::chrono::seconds(0));
    if (auto interval = watchdog_interval()) schedule_watchdog(*interval / 2);
    notify_ready();
    notify_status("waiting for work");
    const ScopedLogFields fields({"", "daemon.ready", ""});
    spdlog::info("kbix daemon ready; control socket {} ({})",
                 instance_.config().daemon.control_socket.string(),
                 *inherited ? "from systemd" : "created by kbix");
    return ok();
  }

  void stop(std::string_view why) {
    if (stopping_.exchange(true)) return;
    spdlog::info("stopping ({}); the current step finishes first", why);
    notify_stopping();
    poll_timer_.cancel();
    watchdog_timer_.cancel();
    if (control_) control_->stop();
    worker_.join();
    ops_->stop();  // queued notifications are sent (bounded) and audited before the log closes
    (void)instance_.close(why);
  }

  void reload() {
    notify_reloading();
    asio::post(worker_, [this] {
      contained("reload", [this] {
        std::lock_guard lock(control_mutex_);  // the socket reads the configuration too
        auto reloaded = instance_.reload();
        if (!reloaded) {
          const ScopedLogFields fields({"", "config.reload_refused", reloaded.error().code});
          spdlog::error("configuration reload refused, keeping the old one: {}",
                        reloaded.error().describe());
        } else {
          worker_exchange_.replace_config(instance_.config());
          control_exchange_->replace_config(instance_.config());
          ops_->replace_config(instance_.config());
          spdlog::info("configuration reloaded");
        }
      });
      notify_ready();
    });
  }

 private:
  void schedule_poll(std::chrono::seconds delay) {
    if (stopping_) return;
    poll_timer_.expires_after(delay);
    poll_timer_.async_wait([this](const boost::system::error_code& error) {
      if (error || stopping_) return;
      request_tick();
      schedule_poll(instance_.config().sftp.poll_interval);
    });
  }

  void schedule_watchdog(std::chrono::microseconds every) {
    watchdog_timer_.expires_after(every);
    watchdog_timer_.async_wait([this, every](const boost::system::error_code& error) {
      if (error || stopping_) return;
      notify_watchdog();
      schedule_watchdog(every);
    });
  }

  // At most one tick queued: the worker catches up with everything in one pass.
  void request_tick() {
    if (tick_queued_.exchange(true)) return;
    asio::post(worker_, [this] {
      tick_queued_ = false;
      if (stopping_) return;
      contained("tick", [this] {
        start_scheduled_run();
        notify_status("working");
        auto ticked = worker_exchange_.tick();
        if (!ticked) spdlog::warn("poll: {}", ticked.error().describe());
        auto purged = worker_exchange_.purge_expired();
        if (!purged) spdlog::error("retention purge: {}", purged.error().describe());
        ops_->after_tick();
      });
      notify_status("waiting for work");
    });
  }

  // The six-monthly schedule: once a configured date has come, try to start until it works or
  // the protocol's rules refuse it; a missing extract is reported once per due date.
  void start_scheduled_run() {
    const Config& config = worker_exchange_.config();
    if (!scheduled_due_) {
      scheduled_due_ = next_scheduled_run(config.schedule, config.protocol,
                                          last_run_day(instance_.store()), Clock::now());
    }
    if (!scheduled_due_ || Clock::now() < *scheduled_due_) return;
    const auto due_day = std::chrono::floor<std::chrono::days>(*scheduled_due_);
    if (attempted_day_ == due_day) {  // one automatic run per scheduled date, whatever its fate
      scheduled_due_.reset();
      return;
    }
    std::lock_guard lock(control_mutex_);
    auto started =
        control_exchange_->start_run(StartRequest{scheduler_actor(), "schedule", false, ""});
    if (started) {
      attempted_day_ = due_day;
      scheduled_due_.reset();
      return;
    }
    const std::string& code = started.error().code;
    if (code == "run.no_extract" || code == "run.ambiguous_extract" || code == "run.busy") {
      if (!reported_missing_) spdlog::error("scheduled run waits: {}", started.error().describe());
      reported_missing_ = true;
      return;
    }
    spdlog::error("scheduled run refused: {}", started.error().describe());
    attempted_day_ = due_day;
    scheduled_due_.reset();  // the rules refused this date: wait for the next one
    reported_missing_ = false;
  }

  // A daemon boundary (invariant 16): whatever `work` throws fails this piece of work only; it
  // is logged and audited with its text sanitised, and the daemon goes on.
  template <class Work>
  bool contained(std::string_view what, Work&& work, const std::string& run_id = "") {
    std::string failure;
    try {
      work();
      return true;
    } catch (const std::exception& error) {
      failure = sanitize_untrusted_text(error.what());
    } catch (...) {
      failure = "unknown exception";
    }
    spdlog::critical("{} failed with an exception (the daemon goes on): {}", what, failure);
    (void)instance_.audit().append(AuditEvent{run_id,
                                              scheduler_actor(),
                                              "daemon.exception",
                                              {{"in", std::string(what)}, {"message", failure}}});
    return false;
  }

  nlohmann::json handle(const ControlRequest& request, const PeerCredentials& peer) {
    nlohmann::json answer;
    if (!contained("control request", [&] { answer = handle_unguarded(request, peer); })) {
      return refusal({"daemon.internal_error",
                      "the request failed inside the daemon (logged and audited); the daemon "
                      "goes on"});
    }
    return answer;
  }

  nlohmann::json handle_unguarded(const ControlRequest& request, const PeerCredentials& peer) {
    const AuditActor actor{peer.user_name, peer.uid};
    std::lock_guard lock(control_mutex_);
    RunStore& store = *control_store_;
    switch (request.command) {
      case ControlCommand::status: {
        auto runs = store.list();
        if (!runs) return refusal(runs.error());
        auto status =
            status_to_json(*runs, next_scheduled_run_utc(instance_.config(), store, Clock::now()));
        status["ok"] = true;
        return status;
      }
      case ControlCommand::run_show: {
        auto run = store.find(request.run_id);
        if (!run) return refusal(run.error());
        if (!*run) return refusal({"run.unknown", "no run " + request.run_id});
        return {{"ok", true}, {"run", run_to_json(**run)}};
      }
      case ControlCommand::run_start: {
        auto started = control_exchange_->start_run(
            StartRequest{actor, "operator", request.force, request.reason});
        if (!started) return refusal(started.error());
        request_tick();
        return {{"ok", true}, {"run", run_to_json(*started)}};
      }
      case ControlCommand::run_cancel: {
        // Audited first; waits for a step under way to commit its side effect (inv. 12).
        auto cancelled = control_exchange_->cancel_run(request.run_id, request.reason, actor);
        if (!cancelled) return refusal(cancelled.error());
        if (!*cancelled) {
          request_tick();  // the worker applies it as soon as its step is committed
          return {{"ok", true},
                  {"pending", true},
                  {"message",
                   "cancel recorded and audited; it takes effect when the step under "
                   "way has committed"}};
        }
        ops_->observer()->on_exchange_notice(
            {ExchangeNoticeKind::state_changed, request.run_id, RunState::cancelled, {}});
        return {{"ok", true}};
      }
      case ControlCommand::run_retry: {
        auto retried = control_exchange_->retry_run(request.run_id, actor);
        if (!retried) return refusal(retried.error());
        request_tick();
        return {{"ok", true}};
      }
    }
    return refusal({"control.bad_request", "unknown command"});
  }

  asio::io_context& io_;
  Instance& instance_;
  asio::thread_pool worker_;
  asio::steady_timer poll_timer_;
  asio::steady_timer watchdog_timer_;
  Exchange worker_exchange_;
  std::unique_ptr<Operations> ops_;
  std::unique_ptr<RunStore> control_store_;
  std::optional<Exchange> control_exchange_;
  std::unique_ptr<ControlServer> control_;
  std::mutex control_mutex_;  // the control exchange is used by the socket and the schedule
  std::mutex step_gate_;      // held by a step from reading its run to auditing its outcome
  std::atomic<bool> stopping_{false};
  std::atomic<bool> tick_queued_{false};
  std::optional<Clock::time_point> scheduled_due_;
  bool reported_missing_ = false;
  std::optional<std::chrono::sys_days> attempted_day_;
};

}  // namespace

int run_daemon(const DaemonOptions& options) {
  auto instance = Instance::open(options.config_file, "daemon", scheduler_actor());
  if (!instance) {
    const ScopedLogFields fields({"", "daemon.refused", instance.error().code});
    spdlog::critical("refusing to start: {}", instance.error().describe());
    return exit_code_for(instance.error());
  }
  asio::io_context io;
  DaemonState daemon(io, **instance);
  asio::signal_set signals(io, SIGTERM, SIGINT, SIGHUP);
  std::function<void(const boost::system::error_code&, int)> on_signal =
      [&](const boost::system::error_code& error, int signal) {
        if (error) return;
        if (signal == SIGHUP) {
          daemon.reload();
          signals.async_wait(on_signal);
          return;
        }
        daemon.stop(signal == SIGTERM ? "SIGTERM" : "SIGINT");
        io.stop();
      };
  signals.async_wait(on_signal);
  auto started = daemon.start();
  if (!started) {
    const ScopedLogFields fields({"", "daemon.refused", started.error().code});
    spdlog::critical("refusing to start: {}", started.error().describe());
    daemon.stop("start-up failed");
    return exit_code_for(started.error());
  }
  io.run();
  return kExitOk;
}

}  // namespace kbix
