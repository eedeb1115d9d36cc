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
  const Config& config = instance.config();
  if (config.notify.enabled()) {
    auto notifier = Notifier::start(config.notify, config.daemon.state_dir / "notify-sent.json",
                                    instance.audit());
    if (notifier) {
      ops->notifier_ = std::move(*notifier);
      ops->notifying_ = std::make_shared<NotifyingObserver>(*ops->notifier_, config);
      ops->observers_.add(borrowed(ops->notifying_));
    } else {
      degraded(instance, "notify", notifier.error());
    }
  }
  if (config.metrics.textfile_dir) {
    auto metrics = MetricsWriter::start(config);
    if (metrics) {
      ops->metrics_ = std::move(*metrics);
      ops->observers_.add(borrowed(ops->metrics_));
    } else {
      degraded(instance, "metrics", metrics.error());
    }
  }
  if (verify_audit_log && ops->notifier_) {
    AuditVerifyOptions verify;
    verify.directory = config.daemon.state_dir / "audit";
    verify.certificate = config.keys.signing_certificate;
    verify.previous_certificates = config.keys.previous_signing_certificates;
    const auto report = verify_audit(verify);
    if (!report.ok) {
      spdlog::critical("audit log NOT intact at start-up: {} [{}]", report.first_problem,
                       report.error_code);
      ops->notifier_->submit(audit_verify_notice(config, report.error_code, report.first_problem));
    }
  }
  if (ops->notifying_) ops->notifying_->check_certificates();
  return ops;
}

Operations::~Operations() {
  stop();
}

void Operations::after_tick() {
  if (notifying_) notifying_->check_certificates();
  if (metrics_) {
    if (auto written = metrics_->write(); !written) {
      spdlog::warn("metrics: {}", written.error().describe());
    }
  }
}

void Operations::replace_config(const Config& config) {
  if (notifying_) notifying_->replace_config(config);
  if (metrics_) metrics_->replace_config(config);
}

void Operations::stop() {
  if (notifier_) notifier_->stop(std::chrono::seconds(60));
}

}  // namespace kbix
