#include "kbix/daemon/daemon.hpp"

#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/asio.hpp>
#include <map>
#include <mutex>
#include <optional>
#include <set>

#include "internal/exchange_runner.hpp"
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

using detail::ExchangeRunner;

nlohmann::json refusal(const Error& error) {
  return {{"ok", false}, {"error", error.code}, {"message", error.message}};
}

// Everything the daemon owns; lives on run_daemon's stack.
class DaemonState {
 public:
  DaemonState(asio::io_context& io, Instance& instance)
      : io_(io),
        instance_(instance),
        pool_(static_cast<std::size_t>(instance.daemon_config().daemon.max_parallel_exchanges)),
        watchdog_timer_(io),
        ops_(Operations::start(instance, true)) {}

  Status start() {
    auto control_store =
        RunStore::open(instance_.daemon_config().daemon.state_dir / "runs.sqlite3");
    if (!control_store) return fail(std::move(control_store).error());
    control_store_ = std::make_unique<RunStore>(std::move(*control_store));
    context_.emplace(detail::RunnerContext{instance_, io_, pool_, *ops_, control_mutex_,
                                           *control_store_, stopping_, busy_});
    {
      std::lock_guard lock(control_mutex_);
      for (const auto& exchange : instance_.exchanges()) KBIX_TRY(add_runner(exchange));
    }
    // Under systemd, kbix.socket made the socket (group and mode set: no chown needed here).
    auto inherited = inherited_listening_socket(instance_.daemon_config().daemon.control_socket);
    if (!inherited) return fail(std::move(inherited).error());
    auto server = ControlServer::start(
        io_, instance_.daemon_config().daemon.control_socket,
        instance_.daemon_config().daemon.control_group,
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
    if (auto interval = watchdog_interval()) schedule_watchdog(*interval / 2);
    notify_ready();
    notify_status("waiting for work");
    const ScopedLogFields fields({"", "daemon.ready", ""});
    spdlog::info("kbix daemon ready: {} exchange(s), at most {} at once; control socket {} ({})",
                 runners_.size(), instance_.daemon_config().daemon.max_parallel_exchanges,
                 instance_.daemon_config().daemon.control_socket.string(),
                 *inherited ? "from systemd" : "created by kbix");
    return ok();
  }

  void stop(std::string_view why) {
    if (stopping_.exchange(true)) return;
    spdlog::info("stopping ({}); the current steps finish first", why);
    notify_stopping();
    watchdog_timer_.cancel();
    {
      std::lock_guard lock(control_mutex_);
      for (auto& [name, runner] : runners_) runner->retire();
    }
    if (control_) control_->stop();
    pool_.join();
    runners_.clear();
    retired_.clear();
    ops_->stop();  // queued notifications are sent (bounded) and audited before the log closes
    (void)instance_.close(why);
  }

  // SIGHUP: kbix.toml and every exchange file again. A broken kbix.toml keeps the old
  // configuration; a broken exchange file is refused and the other exchanges go on (a running
  // exchange whose file broke keeps its previous version: Instance::reload).
  void reload() {
    notify_reloading();
    contained("reload", [this] {
      std::lock_guard lock(control_mutex_);
      auto reloaded = instance_.reload();
      if (!reloaded) {
        const ScopedLogFields fields({"", "config.reload_refused", reloaded.error().code});
        spdlog::error("configuration reload refused, keeping the old one: {}",
                      reloaded.error().describe());
        return;
      }
      ops_->replace_config(instance_.exchanges());
      std::set<std::string> present;
      for (const auto& exchange : instance_.exchanges()) {
        present.insert(exchange.exchange.name);
        auto found = runners_.find(exchange.exchange.name);
        if (found != runners_.end()) {
          found->second->replace_config(exchange);
        } else if (auto added = add_runner(exchange); !added) {
          spdlog::error("exchange {} not started: {}", exchange.exchange.name,
                        added.error().describe());
        } else {
          spdlog::info("exchange {} added", exchange.exchange.name);
        }
      }
      for (auto it = runners_.begin(); it != runners_.end();) {
        if (present.contains(it->first)) {
          ++it;
          continue;
        }
        spdlog::info("exchange {} left the configuration: it takes no new work", it->first);
        it->second->retire();
        retired_.push_back(std::move(it->second));  // queued work may still refer to it
        it = runners_.erase(it);
      }
      spdlog::info("configuration reloaded: {} exchange(s)", runners_.size());
    });
    notify_ready();
  }

 private:
  // Control mutex held.
  Status add_runner(const Config& exchange) {
    auto runner = ExchangeRunner::start(*context_, exchange);
    if (!runner) return fail(std::move(runner).error());
    runners_[exchange.exchange.name] = std::move(*runner);
    return ok();
  }

  void schedule_watchdog(std::chrono::microseconds every) {
    watchdog_timer_.expires_after(every);
    watchdog_timer_.async_wait([this, every](const boost::system::error_code& error) {
      if (error || stopping_) return;
      notify_watchdog();
      schedule_watchdog(every);
    });
  }

  bool contained(std::string_view what, const std::function<void()>& work) {
    return detail::contained(instance_.audit(), what, work);
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

  // The runner of `name`, or of the only exchange when `name` is empty.
  Result<ExchangeRunner*> runner_for(const std::string& name) {
    if (name.empty()) {
      if (runners_.size() == 1) return runners_.begin()->second.get();
      std::string known;
      for (const auto& [each, runner] : runners_) known += (known.empty() ? "" : ", ") + each;
      return fail("config.exchange_required",
                  "several exchanges are configured (" + known + "); name one");
    }
    auto found = runners_.find(name);
    if (found == runners_.end()) {
      return fail("config.unknown_exchange", "no exchange '" + name + "' is running");
    }
    return found->second.get();
  }

  // The runner a run belongs to.
  Result<ExchangeRunner*> runner_of_run(const std::string& run_id) {
    auto run = control_store_->find(run_id);
    if (!run) return fail(std::move(run).error());
    if (!*run) return fail("run.unknown", "no run " + run_id);
    return runner_for((*run)->exchange);
  }

  nlohmann::json status(const std::string& exchange) {
    if (!exchange.empty() && !runners_.contains(exchange)) {
      return refusal({"config.unknown_exchange", "no exchange '" + exchange + "' is running"});
    }
    auto runs = control_store_->list(exchange);
    if (!runs) return refusal(runs.error());
    std::vector<ExchangeStatus> exchanges;
    for (const auto& [name, runner] : runners_) {
      if (exchange.empty() || name == exchange) {
        exchanges.push_back(exchange_status(runner->config(), *control_store_, Clock::now()));
      }
    }
    auto answer = status_to_json(*runs, exchanges);
    nlohmann::json refused = nlohmann::json::array();
    for (const auto& problem : instance_.site().refused) {
      refused.push_back({{"file", problem.file.string()},
                         {"code", problem.error.code},
                         {"message", problem.error.message}});
    }
    answer["refused_exchanges"] = refused;
    answer["ok"] = true;
    return answer;
  }

  nlohmann::json handle_unguarded(const ControlRequest& request, const PeerCredentials& peer) {
    const AuditActor actor{peer.user_name, peer.uid};
    std::lock_guard lock(control_mutex_);
    switch (request.command) {
      case ControlCommand::status:
        return status(request.exchange);
      case ControlCommand::run_show: {
        auto run = control_store_->find(request.run_id);
        if (!run) return refusal(run.error());
        if (!*run) return refusal({"run.unknown", "no run " + request.run_id});
        return {{"ok", true}, {"run", run_to_json(**run)}};
      }
      case ControlCommand::run_start: {
        auto runner = runner_for(request.exchange);
        if (!runner) return refusal(runner.error());
        auto started = (*runner)->control().start_run(StartRequest{
            actor, "operator", request.force, request.reason, request.request_reference});
        if (!started) return refusal(started.error());
        (*runner)->request_tick();
        return {{"ok", true}, {"run", run_to_json(*started)}};
      }
      case ControlCommand::run_cancel: {
        auto runner = runner_of_run(request.run_id);
        if (!runner) return refusal(runner.error());
        // Audited first; waits for a step under way to commit its side effect (inv. 12).
        auto cancelled = (*runner)->control().cancel_run(request.run_id, request.reason, actor);
        if (!cancelled) return refusal(cancelled.error());
        if (!*cancelled) {
          (*runner)->request_tick();  // the worker applies it as soon as its step is committed
          return {{"ok", true},
                  {"pending", true},
                  {"message",
                   "cancel recorded and audited; it takes effect when the step under "
                   "way has committed"}};
        }
        if (auto* observer = ops_->observer((*runner)->name())) {
          observer->on_exchange_notice({ExchangeNoticeKind::state_changed,
                                        request.run_id,
                                        RunState::cancelled,
                                        {},
                                        (*runner)->name()});
        }
        return {{"ok", true}};
      }
      case ControlCommand::run_retry: {
        auto runner = runner_of_run(request.run_id);
        if (!runner) return refusal(runner.error());
        auto retried = (*runner)->control().retry_run(request.run_id, actor);
        if (!retried) return refusal(retried.error());
        (*runner)->request_tick();
        return {{"ok", true}};
      }
      case ControlCommand::export_password: {
        auto runner = runner_of_run(request.run_id);
        if (!runner) return refusal(runner.error());
        auto password = (*runner)->control().release_password(
            request.run_id, PasswordRelease{request.channel, request.again, request.reason}, actor);
        if (!password) return refusal(password.error());
        return {{"ok", true}, {"password", std::string(password->reveal())}};
      }
      case ControlCommand::export_delivered: {
        auto runner = runner_of_run(request.run_id);
        if (!runner) return refusal(runner.error());
        auto delivered = (*runner)->control().record_delivery(
            request.run_id, DeliveryRecord{request.channel, request.reference}, actor);
        if (!delivered) return refusal(delivered.error());
        (*runner)->request_tick();  // the worker removes the outbox copy
        return {{"ok", true}};
      }
    }
    return refusal({"control.bad_request", "unknown command"});
  }

  asio::io_context& io_;
  Instance& instance_;
  asio::thread_pool pool_;  // [daemon] max_parallel_exchanges threads
  asio::steady_timer watchdog_timer_;
  std::unique_ptr<Operations> ops_;
  std::unique_ptr<RunStore> control_store_;
  std::unique_ptr<ControlServer> control_;
  std::mutex control_mutex_;  // the control exchanges are used by the socket and the schedule
  std::atomic<bool> stopping_{false};
  std::atomic<int> busy_{0};
  std::optional<detail::RunnerContext> context_;
  std::map<std::string, std::unique_ptr<ExchangeRunner>> runners_;
  std::vector<std::unique_ptr<ExchangeRunner>> retired_;
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
