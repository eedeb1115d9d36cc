#include "kbix/metrics/metrics_writer.hpp"

#include <spdlog/spdlog.h>

#include <array>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>

#include "kbix/core/file_safety.hpp"
#include "kbix/envelope/keys.hpp"
#include "kbix/exchange/exchange_keys.hpp"
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

void add_counts(PrometheusText& out, const PrometheusText::Labels& labels,
                const nlohmann::json& facts) {
  for (const char* group : {"export", "merge"}) {
    const auto found = facts.find(group);
    if (found == facts.end() || !found->is_object()) continue;
    for (const auto& [count, value] : found->items()) {
      if (value.is_number_unsigned() || value.is_number_integer()) {
        auto with_count = labels;
        with_count["count"] = std::string(group) + "_" + count;
        out.sample("kbix_last_finished_run_rows", with_count, value.get<double>());
      }
    }
  }
}

}  // namespace

Result<std::unique_ptr<MetricsWriter>> MetricsWriter::start(std::vector<Config> exchanges) {
  if (exchanges.empty()) return fail("metrics.no_exchange", "no exchange to write metrics for");
  auto store = RunStore::open(exchanges.front().daemon.state_dir / "runs.sqlite3");
  if (!store) return fail(std::move(store).error());
  std::unique_ptr<MetricsWriter> writer(new MetricsWriter(std::move(exchanges), std::move(*store)));
  writer->load_times();
  if (auto written = writer->write(); !written) {
    spdlog::warn("metrics: {}", written.error().describe());
  }
  return writer;
}

fs::path MetricsWriter::file() const {
  return daemon_wide().metrics.textfile_dir.value_or(fs::path{}) / "kbix.prom";
}

// metrics-state.json: {"<exchange>": {"last_poll": ..., ...}}; the file of a single-exchange
// kbix (the three times at the top) belongs to the only exchange.
void MetricsWriter::load_times() {
  std::ifstream in(daemon_wide().daemon.state_dir / "metrics-state.json");
  if (!in) return;
  const auto state = nlohmann::json::parse(in, nullptr, false);
  if (!state.is_object()) return;
  const auto read = [](const nlohmann::json& from) {
    return Times{from.value("last_poll", std::int64_t{0}),
                 from.value("last_return", std::int64_t{0}),
                 from.value("last_publication", std::int64_t{0})};
  };
  if (state.contains("last_poll") && exchanges_.size() == 1) {
    times_[exchanges_.front().exchange.name] = read(state);
    return;
  }
  for (const auto& [name, saved] : state.items()) {
    if (saved.is_object()) times_[name] = read(saved);
  }
}

void MetricsWriter::save_times() const {
  nlohmann::json state = nlohmann::json::object();
  for (const auto& [name, times] : times_) {
    state[name] = {{"last_poll", times.last_poll},
                   {"last_return", times.last_return},
                   {"last_publication", times.last_publication}};
  }
  if (auto saved = write_file_atomically(daemon_wide().daemon.state_dir / "metrics-state.json",
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
    Times& times = times_[notice.exchange];
    if (poll) times.last_poll = now_seconds();
    if (arrived) times.last_return = now_seconds();
    if (published) times.last_publication = now_seconds();
    if (poll || arrived || published) save_times();
    if (auto written = write_locked(); !written) {
      spdlog::warn("metrics: {}", written.error().describe());
    }
  } catch (const std::exception& error) {  // an observer never fails the run
    spdlog::error("metrics not written: {}", error.what());
  }
}

void MetricsWriter::replace_config(std::vector<Config> exchanges) {
  if (exchanges.empty()) return;
  std::lock_guard lock(mutex_);
  exchanges_ = std::move(exchanges);
}

Status MetricsWriter::write() {
  std::lock_guard lock(mutex_);
  return write_locked();
}

Status MetricsWriter::write_locked() {
  if (!daemon_wide().metrics.textfile_dir) return ok();
  struct Exchange {
    const Config* config;
    PrometheusText::Labels labels;
    std::vector<RunRecord> runs;
    Times times;
  };
  std::vector<Exchange> exchanges;
  for (const auto& config : exchanges_) {
    auto runs = store_.list(config.exchange.name);
    if (!runs) return fail(std::move(runs).error());
    exchanges.push_back({&config,
                         {{"exchange", config.exchange.name}, {"protocol", config.protocol.id}},
                         std::move(*runs),
                         times_[config.exchange.name]});
  }
  PrometheusText out;

  out.gauge("kbix_newest_run_state", "1 for the state of the newest run, 0 for the other states");
  for (const auto& e : exchanges) {
    if (e.runs.empty()) continue;
    for (const RunState state : kStates) {
      auto labels = e.labels;
      labels["state"] = std::string(to_string(state));
      out.sample("kbix_newest_run_state", labels, e.runs.front().state == state ? 1 : 0);
    }
  }
  out.gauge("kbix_newest_run_overdue", "1 while the newest run waits past its return deadline");
  for (const auto& e : exchanges) {
    out.sample("kbix_newest_run_overdue", e.labels,
               !e.runs.empty() && e.runs.front().overdue ? 1 : 0);
  }
  out.gauge("kbix_newest_run_start_timestamp_seconds", "when the newest run was created");
  for (const auto& e : exchanges) {
    if (e.runs.empty()) continue;
    out.sample("kbix_newest_run_start_timestamp_seconds", e.labels,
               static_cast<double>(epoch_of(e.runs.front().created_at_utc)));
  }

  const auto finished_run = [](const Exchange& e) {
    return std::find_if(e.runs.begin(), e.runs.end(),
                        [](const RunRecord& run) { return run.state == RunState::done; });
  };
  out.gauge("kbix_last_finished_run_rows", "counts of the newest run that reached done");
  for (const auto& e : exchanges) {
    const auto finished = finished_run(e);
    if (finished != e.runs.end()) add_counts(out, e.labels, finished->facts);
  }
  out.gauge("kbix_last_finished_run_timestamp_seconds", "when the newest finished run ended");
  for (const auto& e : exchanges) {
    const auto finished = finished_run(e);
    if (finished == e.runs.end()) continue;
    out.sample("kbix_last_finished_run_timestamp_seconds", e.labels,
               static_cast<double>(epoch_of(finished->state_since_utc)));
  }

  out.gauge("kbix_last_successful_poll_timestamp_seconds",
            "last complete pass over the return directory (0: none yet)");
  for (const auto& e : exchanges) {
    out.sample("kbix_last_successful_poll_timestamp_seconds", e.labels,
               static_cast<double>(e.times.last_poll));
  }
  out.gauge("kbix_last_return_timestamp_seconds", "last return downloaded (0: none yet)");
  for (const auto& e : exchanges) {
    out.sample("kbix_last_return_timestamp_seconds", e.labels,
               static_cast<double>(e.times.last_return));
  }
  out.gauge("kbix_last_publication_timestamp_seconds", "last output published (0: none yet)");
  for (const auto& e : exchanges) {
    out.sample("kbix_last_publication_timestamp_seconds", e.labels,
               static_cast<double>(e.times.last_publication));
  }

  out.gauge("kbix_certificate_expiry_timestamp_seconds", "notAfter of each configured certificate");
  for (const auto& e : exchanges) {
    for (const auto& item : key_check_items(*e.config)) {
      auto certificate = Certificate::load(item.certificate);
      if (!certificate) continue;
      auto labels = e.labels;
      labels["certificate"] = item.label;
      out.sample("kbix_certificate_expiry_timestamp_seconds", labels,
                 static_cast<double>(epoch_of(certificate->not_after())));
    }
  }

  out.gauge("kbix_audit_last_checkpoint_timestamp_seconds",
            "time of the newest signed audit checkpoint");
  out.sample("kbix_audit_last_checkpoint_timestamp_seconds", {},
             static_cast<double>(last_checkpoint_time(daemon_wide().daemon.state_dir / "audit")));
  return write_file_atomically(file(), out.text(), 0644);
}

}  // namespace kbix
