#include "kbix/metrics/metrics_writer.hpp"

#include <spdlog/spdlog.h>

#include <array>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>

#include "kbix/core/file_safety.hpp"
#include "kbix/envelope/keys.hpp"
#include "kbix/metrics/prometheus_text.hpp"

namespace kbix {

namespace fs = std::filesystem;

namespace {

constexpr std::array kStates = {RunState::planned,
                                RunState::extract_sealed,
                                RunState::outbound_sealed,
                                RunState::uploaded,
                                RunState::awaiting_return,
                                RunState::return_downloaded,
                                RunState::return_verified,
                                RunState::merged,
                                RunState::published,
                                RunState::cleaned,
                                RunState::done,
                                RunState::failed,
                                RunState::cancelled};

std::int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::int64_t epoch_of(std::chrono::system_clock::time_point when) {
  return std::chrono::duration_cast<std::chrono::seconds>(when.time_since_epoch()).count();
}

// "2026-11-22T13:55:00[.123]Z" -> seconds since the epoch; 0 when it is not such a time.
std::int64_t epoch_of(const std::string& utc) {
  std::tm parts{};
  if (std::sscanf(utc.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d", &parts.tm_year, &parts.tm_mon,
                  &parts.tm_mday, &parts.tm_hour, &parts.tm_min, &parts.tm_sec) != 6) {
    return 0;
  }
  parts.tm_year -= 1900;
  parts.tm_mon -= 1;
  return static_cast<std::int64_t>(timegm(&parts));
}

// The time of the newest signed checkpoint: the last line of checkpoints.jsonl.
std::int64_t last_checkpoint_time(const fs::path& audit_dir) {
  std::ifstream in(audit_dir / "checkpoints.jsonl", std::ios::binary | std::ios::ate);
  if (!in) return 0;
  const std::streamoff size = in.tellg();
  const std::streamoff start = std::max<std::streamoff>(0, size - 8192);
  in.seekg(start);
  std::string tail(static_cast<std::size_t>(size - start), '\0');
  in.read(tail.data(), static_cast<std::streamsize>(tail.size()));
  while (!tail.empty() && tail.back() == '\n') tail.pop_back();
  const auto line = nlohmann::json::parse(tail.substr(tail.rfind('\n') + 1), nullptr, false);
  if (!line.is_object() || !line.contains("time") || !line["time"].is_string()) return 0;
  return epoch_of(line["time"].get<std::string>());
}

void add_counts(PrometheusText& out, const std::string& protocol, const nlohmann::json& facts) {
  for (const char* group : {"export", "merge"}) {
    const auto found = facts.find(group);
    if (found == facts.end() || !found->is_object()) continue;
    for (const auto& [count, value] : found->items()) {
      if (value.is_number_unsigned() || value.is_number_integer()) {
        out.sample("kbix_last_finished_run_rows",
                   {{"protocol", protocol}, {"count", std::string(group) + "_" + count}},
                   value.get<double>());
      }
    }
  }
}

}  // namespace

Result<std::unique_ptr<MetricsWriter>> MetricsWriter::start(const Config& config) {
  KBIX_ASSIGN_OR_RETURN(auto store, RunStore::open(config.daemon.state_dir / "runs.sqlite3"));
  std::unique_ptr<MetricsWriter> writer(new MetricsWriter(config, std::move(store)));
  writer->load_times();
  if (auto written = writer->write(); !written) {
    spdlog::warn("metrics: {}", written.error().describe());
  }
  return writer;
}

fs::path MetricsWriter::file() const {
  return config_.metrics.textfile_dir.value_or(fs::path{}) / "kbix.prom";
}

void MetricsWriter::load_times() {
  std::ifstream in(config_.daemon.state_dir / "metrics-state.json");
  if (!in) return;
  const auto state = nlohmann::json::parse(in, nullptr, false);
  if (!state.is_object()) return;
  last_poll_ = state.value("last_poll", std::int64_t{0});
  last_return_ = state.value("last_return", std::int64_t{0});
  last_publication_ = state.value("last_publication", std::int64_t{0});
}

void MetricsWriter::save_times() const {
  const nlohmann::json state = {{"last_poll", last_poll_},
                                {"last_return", last_return_},
                                {"last_publication", last_publication_}};
  if (auto saved = write_file_atomically(config_.daemon.state_dir / "metrics-state.json",
                                         state.dump() + "\n");
      !saved) {
    spdlog::warn("metrics: {}", saved.error().describe());
  }
}

void MetricsWriter::on_exchange_notice(const ExchangeNotice& notice) noexcept {
  try {
    std::lock_guard lock(mutex_);
    const bool poll = notice.kind == ExchangeNoticeKind::poll_succeeded;
    const bool arrived = notice.kind == ExchangeNoticeKind::state_changed &&
                         notice.state == RunState::return_downloaded;
    const bool published =
        notice.kind == ExchangeNoticeKind::state_changed && notice.state == RunState::published;
    if (poll) last_poll_ = now_seconds();
    if (arrived) last_return_ = now_seconds();
    if (published) last_publication_ = now_seconds();
    if (poll || arrived || published) save_times();
    if (auto written = write_locked(); !written) {
      spdlog::warn("metrics: {}", written.error().describe());
    }
  } catch (const std::exception& error) {  // an observer never fails the run
    spdlog::error("metrics not written: {}", error.what());
  }
}

void MetricsWriter::replace_config(Config config) {
  std::lock_guard lock(mutex_);
  config_ = std::move(config);
}

Status MetricsWriter::write() {
  std::lock_guard lock(mutex_);
  return write_locked();
}

Status MetricsWriter::write_locked() {
  if (!config_.metrics.textfile_dir) return ok();
  const std::string& protocol = config_.protocol.id;
  const PrometheusText::Labels base = {{"protocol", protocol}};
  KBIX_ASSIGN_OR_RETURN(auto runs, store_.list());
  PrometheusText out;

  out.gauge("kbix_newest_run_state", "1 for the state of the newest run, 0 for the other states");
  out.gauge("kbix_newest_run_overdue", "1 while the newest run waits past its return deadline");
  out.gauge("kbix_newest_run_start_timestamp_seconds", "when the newest run was created");
  if (!runs.empty()) {
    const RunRecord& newest = runs.front();
    for (const RunState state : kStates) {
      out.sample("kbix_newest_run_state",
                 {{"protocol", protocol}, {"state", std::string(to_string(state))}},
                 newest.state == state ? 1 : 0);
    }
    out.sample("kbix_newest_run_overdue", base, newest.overdue ? 1 : 0);
    out.sample("kbix_newest_run_start_timestamp_seconds", base,
               static_cast<double>(epoch_of(newest.created_at_utc)));
  } else {
    out.sample("kbix_newest_run_overdue", base, 0);
  }

  out.gauge("kbix_last_finished_run_rows", "counts of the newest run that reached done");
  out.gauge("kbix_last_finished_run_timestamp_seconds", "when the newest finished run ended");
  const auto finished = std::find_if(
      runs.begin(), runs.end(), [](const RunRecord& run) { return run.state == RunState::done; });
  if (finished != runs.end()) {
    add_counts(out, protocol, finished->facts);
    out.sample("kbix_last_finished_run_timestamp_seconds", base,
               static_cast<double>(epoch_of(finished->state_since_utc)));
  }

  out.gauge("kbix_last_successful_poll_timestamp_seconds",
            "last complete pass over the return directory (0: none yet)");
  out.sample("kbix_last_successful_poll_timestamp_seconds", base, static_cast<double>(last_poll_));
  out.gauge("kbix_last_return_timestamp_seconds", "last return downloaded (0: none yet)");
  out.sample("kbix_last_return_timestamp_seconds", base, static_cast<double>(last_return_));
  out.gauge("kbix_last_publication_timestamp_seconds", "last output published (0: none yet)");
  out.sample("kbix_last_publication_timestamp_seconds", base,
             static_cast<double>(last_publication_));

  out.gauge("kbix_certificate_expiry_timestamp_seconds", "notAfter of each configured certificate");
  for (const auto& item : key_check_items(config_)) {
    auto certificate = Certificate::load(item.certificate);
    if (!certificate) continue;
    out.sample("kbix_certificate_expiry_timestamp_seconds",
               {{"protocol", protocol}, {"certificate", item.label}},
               static_cast<double>(epoch_of(certificate->not_after())));
  }

  out.gauge("kbix_audit_last_checkpoint_timestamp_seconds",
            "time of the newest signed audit checkpoint");
  out.sample("kbix_audit_last_checkpoint_timestamp_seconds", base,
             static_cast<double>(last_checkpoint_time(config_.daemon.state_dir / "audit")));
  return write_file_atomically(file(), out.text(), 0644);
}

}  // namespace kbix
