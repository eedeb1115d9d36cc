#include "internal/exchange_runner.hpp"

#include <spdlog/spdlog.h>

#include "kbix/core/logging.hpp"
#include "kbix/core/untrusted_text.hpp"
#include "kbix/daemon/systemd_notify.hpp"
#include "kbix/runs/schedule.hpp"
#include "kbix/runs/status_view.hpp"

namespace kbix::detail {

namespace asio = boost::asio;
using Clock = std::chrono::system_clock;

bool contained(AuditLog& audit, std::string_view what, const std::function<void()>& work,
               const std::string& exchange) {
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
  AuditEvent event{
      "", scheduler_actor(), "daemon.exception", {{"in", std::string(what)}, {"message", failure}}};
  event.exchange = exchange;
  (void)audit.append(event);
  return false;
}

Result<std::unique_ptr<ExchangeRunner>> ExchangeRunner::start(RunnerContext& context,
                                                              Config config) {
  auto store = RunStore::open(config.daemon.state_dir / "runs.sqlite3");
  if (!store) return fail(std::move(store).error());
  std::unique_ptr<ExchangeRunner> runner(
      new ExchangeRunner(context, std::move(config), std::move(*store)));
  runner->schedule_poll(std::chrono::seconds(0));
  return runner;
}

ExchangeRunner::ExchangeRunner(RunnerContext& context, Config config, RunStore worker_store)
    : context_(context),
      name_(config.exchange.name),
      strand_(asio::make_strand(context.pool.get_executor())),
      poll_timer_(context.io),
      worker_store_(std::move(worker_store)),
      worker_(config, worker_store_, context.instance.audit()),
      control_(config, context.control_store, context.instance.audit()) {
  ExchangeObserver* observer = context.ops.observer(name_);
  worker_.set_stop_flag(&context.stopping);
  worker_.set_step_gate(&step_gate_);
  worker_.set_observer(observer);
  control_.set_step_gate(&step_gate_);
  control_.set_observer(observer);
}

ExchangeRunner::~ExchangeRunner() {
  poll_timer_.cancel();
}

void ExchangeRunner::schedule_poll(std::chrono::seconds delay) {
  if (context_.stopping || retired_) return;
  poll_timer_.expires_after(delay);
  poll_timer_.async_wait([this](const boost::system::error_code& error) {
    if (error || context_.stopping || retired_) return;
    request_tick();
    schedule_poll(control_.config().sftp.poll_interval);
  });
}

void ExchangeRunner::request_tick() {
  if (retired_ || tick_queued_.exchange(true)) return;
  asio::post(strand_, [this] {
    tick_queued_ = false;
    if (context_.stopping) return;
    contained(
        context_.instance.audit(), "tick of exchange " + name_, [this] { tick(); }, name_);
  });
}

void ExchangeRunner::tick() {
  {
    std::lock_guard lock(pending_mutex_);
    if (pending_config_) {
      worker_.replace_config(std::move(*pending_config_));
      pending_config_.reset();
    }
  }
  const int busy = ++context_.busy;
  notify_status("working (" + std::to_string(busy) + " exchange" + (busy == 1 ? "" : "s") + ")");
  const ScopedLogFields fields({"", "exchange.tick", ""});
  start_scheduled_run();
  auto ticked = worker_.tick();
  if (!ticked) spdlog::warn("{}: poll: {}", name_, ticked.error().describe());
  auto purged = worker_.purge_expired();
  if (!purged) spdlog::error("{}: retention purge: {}", name_, purged.error().describe());
  context_.ops.after_tick(name_);
  if (--context_.busy == 0) notify_status("waiting for work");
}

// The schedule: once a configured date has come, try to start until it works or the protocol's
// rules refuse it; a missing extract is reported once per due date.
void ExchangeRunner::start_scheduled_run() {
  if (retired_) return;
  const Config& config = worker_.config();
  if (!scheduled_due_) {
    scheduled_due_ = next_scheduled_run(config.schedule, config.protocol,
                                        last_run_day(worker_store_, name_), Clock::now());
  }
  if (!scheduled_due_ || Clock::now() < *scheduled_due_) return;
  const auto due_day = std::chrono::floor<std::chrono::days>(*scheduled_due_);
  if (attempted_day_ == due_day) {  // one automatic run per scheduled date, whatever its fate
    scheduled_due_.reset();
    return;
  }
  std::lock_guard lock(context_.control_mutex);
  auto started = control_.start_run(StartRequest{scheduler_actor(), "schedule", false, "", ""});
  if (started) {
    attempted_day_ = due_day;
    scheduled_due_.reset();
    return;
  }
  const std::string& code = started.error().code;
  if (code == "run.no_extract" || code == "run.ambiguous_extract" || code == "run.busy") {
    if (!reported_missing_) {
      spdlog::error("{}: scheduled run waits: {}", name_, started.error().describe());
    }
    reported_missing_ = true;
    return;
  }
  spdlog::error("{}: scheduled run refused: {}", name_, started.error().describe());
  attempted_day_ = due_day;
  scheduled_due_.reset();  // the rules refused this date: wait for the next one
  reported_missing_ = false;
}

void ExchangeRunner::replace_config(const Config& config) {
  control_.replace_config(config);
  {
    std::lock_guard lock(pending_mutex_);
    pending_config_ = config;
  }
  asio::post(strand_, [this] { scheduled_due_.reset(); });  // the schedule may have changed
}

void ExchangeRunner::retire() {
  retired_ = true;
  poll_timer_.cancel();
}

}  // namespace kbix::detail
