#include "kbix/core/logging.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/sinks/systemd_sink.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <string>

namespace kbix {

Status setup_logging(std::string_view level) {
  const auto parsed = spdlog::level::from_str(std::string(level));
  if (parsed == spdlog::level::off && level != "off") {
    return fail("config.value", "unknown log level '" + std::string(level) +
                                    "' (trace, debug, info, warn, error, critical, off)");
  }
  // systemd sets JOURNAL_STREAM when stderr goes to the journal; log there with priorities.
  std::shared_ptr<spdlog::logger> logger;
  if (std::getenv("JOURNAL_STREAM") != nullptr) {
    logger = std::make_shared<spdlog::logger>(
        "kbix", std::make_shared<spdlog::sinks::systemd_sink_mt>("kbix", false));
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
