#include "kbix/daemon/operations.hpp"

#include <spdlog/spdlog.h>

#include "kbix/audit/audit_verify.hpp"

namespace kbix {

namespace {

// A non-owning shared_ptr for an observer owned elsewhere in Operations.
template <class T>
std::shared_ptr<ExchangeObserver> borrowed(const std::shared_ptr<T>& owner) {
  return std::shared_ptr<ExchangeObserver>(owner, owner.get());
}

void degraded(Instance& instance, std::string_view part, const Error& error) {
  spdlog::error("{} not started: {}", part, error.describe());
  (void)instance.audit().append(
      AuditEvent{"",
                 instance.actor(),
                 "ops.degraded",
                 {{"part", std::string(part)}, {"code", error.code}, {"message", error.message}}});
}

}  // namespace

std::unique_ptr<Operations> Operations::start(Instance& instance, bool verify_audit_log) {
  std::unique_ptr<Operations> ops(new Operations());
  const Config& config = instance.daemon_config();
  if (config.notify.enabled()) {
    auto notifier = Notifier::start(config.notify, config.daemon.state_dir / "notify-sent.json",
                                    instance.audit());
    if (notifier) {
      ops->notifier_ = std::move(*notifier);
    } else {
      degraded(instance, "notify", notifier.error());
    }
  }
  if (config.metrics.textfile_dir) {
    auto metrics = MetricsWriter::start(instance.exchanges());
    if (metrics) {
      ops->metrics_ = std::move(*metrics);
    } else {
      degraded(instance, "metrics", metrics.error());
    }
  }
  {
    std::lock_guard lock(ops->mutex_);
    for (const auto& exchange : instance.exchanges()) ops->exchange_locked(exchange);
  }
  if (verify_audit_log && ops->notifier_ && !instance.exchanges().empty()) {
    AuditVerifyOptions verify;
    verify.directory = config.daemon.state_dir / "audit";
    verify.certificate = config.keys.signing_certificate;
    verify.previous_certificates = config.keys.previous_signing_certificates;
    const auto report = verify_audit(verify);
    if (!report.ok) {
      spdlog::critical("audit log NOT intact at start-up: {} [{}]", report.first_problem,
                       report.error_code);
      ops->notifier_->submit(audit_verify_notice(instance.exchanges().front(), report.error_code,
                                                 report.first_problem));
    }
  }
  for (const auto& exchange : instance.exchanges()) ops->after_tick(exchange.exchange.name);
  return ops;
}

Operations::PerExchange& Operations::exchange_locked(const Config& config) {
  auto [found, added] = exchanges_.try_emplace(config.exchange.name);
  PerExchange& entry = found->second;
  if (!added) {
    if (entry.notifying) entry.notifying->replace_config(config);
    return entry;
  }
  if (notifier_) {
    entry.notifying = std::make_shared<NotifyingObserver>(*notifier_, config);
    entry.observers.add(borrowed(entry.notifying));
  }
  if (metrics_) entry.observers.add(borrowed(metrics_));
  return entry;
}

ExchangeObserver* Operations::observer(const std::string& name) {
  std::lock_guard lock(mutex_);
  auto found = exchanges_.find(name);
  return found == exchanges_.end() ? nullptr : &found->second.observers;
}

Operations::~Operations() {
  stop();
}

void Operations::after_tick(const std::string& name) {
  std::shared_ptr<NotifyingObserver> notifying;
  {
    std::lock_guard lock(mutex_);
    auto found = exchanges_.find(name);
    if (found != exchanges_.end()) notifying = found->second.notifying;
  }
  if (notifying) notifying->check_certificates();
  if (metrics_) {
    if (auto written = metrics_->write(); !written) {
      spdlog::warn("metrics: {}", written.error().describe());
    }
  }
}

void Operations::replace_config(const std::vector<Config>& exchanges) {
  {
    std::lock_guard lock(mutex_);
    for (const auto& exchange : exchanges) exchange_locked(exchange);
  }
  if (metrics_) metrics_->replace_config(exchanges);
}

void Operations::stop() {
  if (notifier_) notifier_->stop(std::chrono::seconds(60));
}

}  // namespace kbix
