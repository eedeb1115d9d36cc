#include <unistd.h>

#include <optional>

#include "kbix/core/utc_time.hpp"
#include "kbix/envelope/keys.hpp"
#include "kbix/exchange/exchange_keys.hpp"
#include "kbix/notify/notice.hpp"

namespace kbix {

namespace {

std::string host_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return "this host";
  return notice_safe_text(name, 64);
}

std::string date_of(std::chrono::system_clock::time_point when) {
  return utc_formatted(when, UtcShape::date);
}

std::string subject_of(const Config& config, const std::string& what) {
  return "[kbix " + config.protocol.id + "] " + what;
}

std::string footer(const Config& config) {
  return "\n\n-- \nkbix on " + host_name() + ", exchange " + config.protocol.id + " with " +
         notice_safe_text(config.partner.name, 64) +
         ".\nThis message holds no personal data. Details: kbix status, kbix audit show.";
}

}  // namespace

std::string notice_safe_text(std::string_view text, std::size_t limit) {
  std::string out;
  for (const char c : text.substr(0, limit)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  return out;
}

std::optional<Notice> notice_for(const ExchangeNotice& event, const Config& config) {
  const std::string run = event.run_id;
  switch (event.kind) {
    case ExchangeNoticeKind::failed_for_good:
      return Notice{"run.failed", "run.failed:" + run, run,
                    subject_of(config, "run " + run + " failed and needs an operator"),
                    "Run " + run + " failed with " + event.code +
                        " and will not be retried automatically.\n"
                        "See what happened:  kbix run show " +
                        run + "\nAfter fixing the cause:  kbix run retry " + run +
                        "\nTo give it up:  kbix run cancel " + run + " --reason TEXT" +
                        footer(config)};
    case ExchangeNoticeKind::overdue:
      return Notice{
          "run.overdue", "run.overdue:" + run, run,
          subject_of(config, "run " + run + " is overdue: no return from " +
                                 notice_safe_text(config.partner.name, 64)),
          "Run " + run + " has waited more than " +
              std::to_string(config.schedule.return_deadline.count() / 24) +
              " days for the partner's return. kbix keeps waiting; ask the partner, or cancel "
              "the run:  kbix run cancel " +
              run + " --reason TEXT" + footer(config)};
    case ExchangeNoticeKind::return_quarantined:
      return Notice{"return.quarantined", "return.quarantined", "",
                    subject_of(config, "a return was quarantined"),
                    "A file in the return directory matched no waiting run (" + event.code +
                        ") and was moved, still sealed, to the quarantine directory of the "
                        "state directory. Its name is in the audit log (return.quarantined)." +
                        footer(config)};
    case ExchangeNoticeKind::finished:
      if (!config.notify.run_finished) return std::nullopt;
      return Notice{"run.finished", "run.finished:" + run, run,
                    subject_of(config, "run " + run + " finished"),
                    "Run " + run +
                        " finished: the output is published and the remote files "
                        "are removed.\nCounts:  kbix run show " +
                        run + footer(config)};
    case ExchangeNoticeKind::state_changed:
    case ExchangeNoticeKind::poll_succeeded:
      return std::nullopt;
  }
  return std::nullopt;
}

std::vector<Notice> certificate_notices(const Config& config,
                                        std::chrono::system_clock::time_point now) {
  std::vector<Notice> notices;
  const auto warning = std::chrono::days(config.keys.expiry_warning_days);
  auto items = key_check_items(config);
  for (auto& item : items) item.private_key.reset();  // expiry only
  const auto checked = check_keys(items, std::nullopt, config.keys.expiry_warning_days, now);
  for (std::size_t i = 0; i < items.size(); ++i) {
    const auto& item = items[i];
    // Rollover: an earlier key is kept past its expiry on purpose, and an expired entry of a
    // list another entry covers is a warning in `keys check`, not a reason to alert.
    if (item.previous || checked.lines[i].warning) continue;
    auto certificate = Certificate::load(item.certificate);
    const std::string label = notice_safe_text(item.label, 64);
    if (!certificate) {
      notices.push_back({"certificate.unreadable", "certificate.unreadable:" + label, "",
                         subject_of(config, "certificate cannot be read: " + label),
                         "The " + label + " (" + notice_safe_text(item.certificate.string()) +
                             ") cannot be read: " + certificate.error().code +
                             ".\nCheck it:  kbix keys check" + footer(config)});
      continue;
    }
    const auto expires = certificate->not_after();
    if (expires - now > warning) continue;
    const auto days_left = std::chrono::floor<std::chrono::days>(expires - now).count();
    const std::string when = days_left < 0 ? "expired on " + date_of(expires)
                                           : "expires on " + date_of(expires) + " (in " +
                                                 std::to_string(days_left) + " days)";
    const std::string fingerprint = certificate->fingerprint_sha256().substr(0, 16);
    notices.push_back(
        {"certificate.expiring", "certificate.expiring:" + label + ":" + fingerprint, "",
         subject_of(config, "certificate " + when + ": " + label),
         "The " + label + " " + when + ".\nSubject: " + notice_safe_text(certificate->subject()) +
             "\nSHA-256 (first 16): " + fingerprint +
             "\nRenew it and install the new one before then (docs/operator-guide.md, "
             "\"Rolling certificates over\").\nCheck:  kbix keys check" +
             footer(config)});
  }
  return notices;
}

Notice audit_verify_notice(const Config& config, const std::string& error_code,
                           const std::string& problem) {
  return {"audit.verify_failed", "audit.verify_failed:" + notice_safe_text(error_code, 64), "",
          subject_of(config, "the audit log did NOT verify at start-up"),
          "kbix checked its audit log at start-up and found a problem (" +
              notice_safe_text(error_code, 64) + "): " + notice_safe_text(problem, 300) +
              "\nThe log may have been edited, truncated or damaged. Keep a copy and tell the "
              "DPO.\nCheck:  kbix audit verify" +
              footer(config)};
}

}  // namespace kbix
