// Notice: one message for people (an e-mail, a webhook post) about a condition that needs them,
// and the builders that turn kbix's events into notices.
//
// A notice holds run ids, states, error codes, certificate labels and dates only: never a
// file's content, a remote name or a personal value, so it can go to a mailbox or a chat channel.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "kbix/config/config.hpp"
#include "kbix/exchange/exchange_observer.hpp"

namespace kbix {

struct AuditVerifyReport;  // kbix/audit/audit_verify.hpp

struct Notice {
  std::string event;      // "run.failed", "run.overdue", "certificate.expiring",
                          // "audit.verify_failed", "return.quarantined", "run.finished"
  std::string condition;  // de-duplication key: the same condition is sent once per interval
  std::string run_id;     // may be empty
  std::string subject;    // one line
  std::string body;       // plain text, lines separated by \n
};

// The notice for an exchange event, or nothing when the event is not one people are told about
// (`run_finished` switches the optional "run finished" message on).
std::optional<Notice> notice_for(const ExchangeNotice& event, const Config& config);

// One notice per certificate of the configuration that expires within the warning period (or
// has expired, or cannot be read).
std::vector<Notice> certificate_notices(
    const Config& config,
    std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

// The notice for a failed `audit verify` at start-up.
Notice audit_verify_notice(const Config& config, const std::string& error_code,
                           const std::string& problem);

// Keeps printable ASCII of `text` (at most `limit` bytes): for values that come from files.
std::string notice_safe_text(std::string_view text, std::size_t limit = 200);

}  // namespace kbix
