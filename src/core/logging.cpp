#include "kbix/core/logging.hpp"

#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/uio.h>
#include <syslog.h>
#include <systemd/sd-journal.h>

#include <cstdlib>
#include <mutex>
#include <string>

namespace kbix {
namespace {

thread_local LogFields t_fields;

int syslog_priority(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
    case spdlog::level::debug:
      return LOG_DEBUG;
    case spdlog::level::info:
      return LOG_INFO;
    case spdlog::level::warn:
      return LOG_WARNING;
    case spdlog::level::err:
      return LOG_ERR;
    default:
      return LOG_CRIT;
  }
}

// spdlog's own systemd sink sends only MESSAGE and PRIORITY; this one adds kbix's fields.
class JournalSink final : public spdlog::sinks::base_sink<std::mutex> {
 protected:
  void sink_it_(const spdlog::details::log_msg& message) override {
    const auto entry =
        journal_fields(std::string_view(message.payload.data(), message.payload.size()),
                       syslog_priority(message.level), t_fields);
    std::vector<iovec> vector;
    vector.reserve(entry.size());
    for (const auto& field : entry) {
      vector.push_back(iovec{const_cast<char*>(field.data()), field.size()});  // NOLINT: C API
    }
    sd_journal_sendv(vector.data(), static_cast<int>(vector.size()));
  }
  void flush_() override {}
};

}  // namespace

ScopedLogFields::ScopedLogFields(LogFields fields) : previous_(t_fields) {
  if (fields.run_id.empty()) fields.run_id = previous_.run_id;
  if (fields.event.empty()) fields.event = previous_.event;
  t_fields = std::move(fields);
}

ScopedLogFields::~ScopedLogFields() {
  t_fields = std::move(previous_);
}

const LogFields& current_log_fields() {
  return t_fields;
}

std::vector<std::string> journal_fields(std::string_view message, int priority,
                                        const LogFields& fields) {
  std::vector<std::string> entry = {
      "MESSAGE=" + std::string(message), "PRIORITY=" + std::to_string(priority),
      "SYSLOG_IDENTIFIER=kbix",
      "KBIX_EVENT=" + (fields.event.empty() ? std::string("daemon") : fields.event)};
  if (!fields.run_id.empty()) entry.push_back("KBIX_RUN_ID=" + fields.run_id);
  if (!fields.error.empty()) entry.push_back("KBIX_ERROR=" + fields.error);
  return entry;
}

Status setup_logging(std::string_view level) {
  const auto parsed = spdlog::level::from_str(std::string(level));
  if (parsed == spdlog::level::off && level != "off") {
    return fail("config.value", "unknown log level '" + std::string(level) +
                                    "' (trace, debug, info, warn, error, critical, off)");
  }
  // systemd sets JOURNAL_STREAM when stderr goes to the journal; log there with fields.
  std::shared_ptr<spdlog::logger> logger;
  if (std::getenv("JOURNAL_STREAM") != nullptr) {
    logger = std::make_shared<spdlog::logger>("kbix", std::make_shared<JournalSink>());
  } else {
    logger =
        std::make_shared<spdlog::logger>("kbix", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);
  }
  logger->set_level(parsed);
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(logger);
  return ok();
}

}  // namespace kbix
