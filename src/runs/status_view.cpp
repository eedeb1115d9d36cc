#include "kbix/runs/status_view.hpp"

#include <cstdio>
#include <set>
#include <sstream>

#include "kbix/core/exit_code.hpp"
#include "kbix/core/untrusted_text.hpp"
#include "kbix/core/utc_time.hpp"
#include "kbix/runs/schedule.hpp"

namespace kbix {

std::optional<std::chrono::sys_days> last_run_day(const RunStore& store,
                                                  std::string_view exchange) {
  auto last = store.last_started_run_time(exchange);
  if (!last || !*last || (*last)->size() < 10) return std::nullopt;
  int year = 0;
  unsigned month = 0, day = 0;
  if (std::sscanf((*last)->c_str(), "%4d-%2u-%2u", &year, &month, &day) != 3) return std::nullopt;
  const std::chrono::year_month_day date{std::chrono::year{year}, std::chrono::month{month},
                                         std::chrono::day{day}};
  if (!date.ok()) return std::nullopt;
  return std::chrono::sys_days{date};
}

std::optional<std::string> next_scheduled_run_utc(const Config& config, const RunStore& store,
                                                  std::chrono::system_clock::time_point now) {
  const auto next = next_scheduled_run(config.schedule, config.protocol,
                                       last_run_day(store, config.exchange.name), now);
  if (!next) return std::nullopt;
  return utc_timestamp(*next);
}

ExchangeStatus exchange_status(const Config& config, const RunStore& store,
                               std::chrono::system_clock::time_point now) {
  ExchangeStatus status;
  status.name = config.exchange.name;
  status.protocol_id = config.protocol.id;
  status.source = config.exchange.source;
  status.ended = protocol_ended(config.protocol, std::chrono::floor<std::chrono::days>(now));
  if (!status.ended) status.next_scheduled_run = next_scheduled_run_utc(config, store, now);
  if (config.protocol.review_date) status.review_date = format_date(*config.protocol.review_date);
  return status;
}

nlohmann::json run_to_json(const RunRecord& run) {
  nlohmann::json json = {{"id", run.id},
                         {"exchange", run.exchange},
                         {"state", to_string(run.state)},
                         {"since", run.state_since_utc},
                         {"created", run.created_at_utc},
                         {"trigger", run.trigger},
                         {"actor", run.actor},
                         {"forced", run.forced},
                         {"overdue", run.overdue},
                         {"facts", run.facts}};
  if (run.forced) json["force_reason"] = run.force_reason;
  if (run.state == RunState::failed) {
    json["failure"] = {{"in_state", to_string(run.failed_in)},
                       {"code", run.failure_code},
                       {"message", run.failure_message},
                       {"retryable", run.retryable}};
  }
  if (run.state == RunState::cancelled) json["cancel_reason"] = run.cancel_reason;
  if (!run.progress.step.empty()) {
    json["progress"] = {
        {"step", run.progress.step}, {"done", run.progress.done}, {"total", run.progress.total}};
  }
  return json;
}

nlohmann::json status_to_json(const std::vector<RunRecord>& runs,
                              const std::vector<ExchangeStatus>& exchanges) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& run : runs) list.push_back(run_to_json(run));
  nlohmann::json described = nlohmann::json::array();
  std::optional<std::string> earliest;
  for (const auto& exchange : exchanges) {
    const auto& next = exchange.next_scheduled_run;
    described.push_back(
        {{"name", exchange.name},
         {"protocol", exchange.protocol_id},
         {"source", exchange.source},
         {"state", exchange.ended ? "ended" : "active"},
         {"next_scheduled_run", next ? nlohmann::json(*next) : nlohmann::json()},
         {"review_date",
          exchange.review_date ? nlohmann::json(*exchange.review_date) : nlohmann::json()}});
    if (next && (!earliest || *next < *earliest)) earliest = next;
  }
  return {{"runs", list},
          {"exchanges", described},
          {"next_scheduled_run", earliest ? nlohmann::json(*earliest) : nlohmann::json()}};
}

namespace {
void add_count(std::ostringstream& out, const nlohmann::json& facts, const char* group,
               const char* key, const char* label) {
  if (facts.contains(group) && facts[group].contains(key)) {
    out << " " << label << "=" << dump_json(facts[group][key]);
  }
}
}  // namespace

std::string format_run(const nlohmann::json& run) {
  std::ostringstream out;
  out << run.value("id", "") << "  " << run.value("state", "") << " since "
      << run.value("since", "") << " (" << run.value("trigger", "") << ", "
      << run.value("actor", "") << ")";
  if (run.value("forced", false)) out << " FORCED: " << run.value("force_reason", "");
  if (run.value("overdue", false)) out << "  OVERDUE: no return within the deadline";
  out << "\n";
  if (run.contains("progress")) {
    const auto& p = run["progress"];
    out << "    progress: " << p.value("step", "") << " " << p.value("done", 0ULL) << "/"
        << p.value("total", 0ULL) << " bytes\n";
  }
  const auto& facts = run.contains("facts") ? run["facts"] : nlohmann::json::object();
  std::ostringstream counts;
  add_count(counts, facts, "export", "rows", "extract_rows");
  add_count(counts, facts, "export", "exported", "sent");
  add_count(counts, facts, "export", "invalid_insz", "invalid");
  add_count(counts, facts, "export", "duplicate_insz", "duplicates");
  add_count(counts, facts, "merge", "returned", "returned");
  add_count(counts, facts, "merge", "matched", "matched");
  add_count(counts, facts, "merge", "output_rows", "published_rows");
  add_count(counts, facts, "list", "rows", "extract_rows");
  add_count(counts, facts, "list", "invalid", "invalid");
  add_count(counts, facts, "list", "duplicates", "duplicates");
  add_count(counts, facts, "list", "in_scope", "in_scope");
  add_count(counts, facts, "list", "out_of_scope", "out_of_scope");
  add_count(counts, facts, "list", "left_out_for_retention", "left_out_for_retention");
  add_count(counts, facts, "list", "invalid_values", "invalid_values");
  if (!counts.str().empty()) out << "    counts:" << counts.str() << "\n";
  const std::string id = run.value("id", "");
  const std::string state = run.value("state", "");
  const bool by_sftp = facts.value("delivery", "") == "sftp";
  const auto password_hint = [&] {
    if (facts.value("password_sealed", false) && facts.value("password_releases", 0) == 0) {
      out << "    next: kbix export password " << id << " --channel sms  (send it apart)\n";
    }
  };
  if (state == "placed" && facts.contains("outbox_file") && by_sftp) {
    // kbix drops the list itself; the operator only sends the password, apart.
    out << "    delivering by SFTP: kbix uploads " << facts["outbox_file"].get<std::string>()
        << " to the municipality's drop directory\n";
    if (facts.contains("delivery_attempts")) {
      out << "    attempt " << dump_json(facts["delivery_attempts"]) << " failed ["
          << facts.value("delivery_last_error", "") << "] at "
          << facts.value("delivery_last_attempt", "") << "; kbix tries again on the next tick\n";
    }
    password_hint();
  } else if (state == "placed" && facts.contains("outbox_file")) {
    // What the operator on duty does next, in order.
    out << "    waiting for delivery: " << facts["outbox_file"].get<std::string>() << "\n";
    password_hint();
    out << "    then: kbix export delivered " << id << " --channel sharepoint|email|sftp\n";
  } else if (by_sftp && facts.contains("delivery_remote_name")) {
    out << "    delivered by SFTP: " << facts.value("delivery_remote_dir", "") << "/"
        << facts.value("delivery_remote_name", "") << "\n";
    password_hint();
  }
  if (facts.contains("published_output")) {
    out << "    output: " << facts["published_output"].get<std::string>() << "\n";
  }
  if (run.contains("failure")) {
    const auto& f = run["failure"];
    out << "    failed in " << f.value("in_state", "") << ": " << f.value("message", "") << " ["
        << f.value("code", "") << "]"
        << (f.value("retryable", false) ? "; retry with: kbix run retry " + run.value("id", "")
                                        : "; not retryable: fix the cause, then start a new run")
        << "\n";
  }
  if (run.contains("cancel_reason")) {
    out << "    cancelled: " << run["cancel_reason"].get<std::string>() << "\n";
  }
  return out.str();
}

namespace {
void format_schedule(std::ostringstream& out, const nlohmann::json& exchange) {
  if (exchange.value("state", "") == "ended") {
    out << "protocol ended: this exchange never runs again (retire it: docs/operator-guide.md)\n";
  } else if (exchange.contains("next_scheduled_run") && !exchange["next_scheduled_run"].is_null()) {
    out << "next scheduled run: " << exchange["next_scheduled_run"].get<std::string>() << "\n";
  } else {
    out << "next scheduled run: none left in the protocol's validity window\n";
  }
}
}  // namespace

std::string format_status(const nlohmann::json& status) {
  std::ostringstream out;
  const auto& runs = status.contains("runs") ? status["runs"] : nlohmann::json::array();
  const auto& exchanges =
      status.contains("exchanges") ? status["exchanges"] : nlohmann::json::array();
  if (exchanges.empty()) {  // an older daemon's answer
    if (runs.empty()) out << "no runs yet\n";
    for (const auto& run : runs) out << format_run(run);
    format_schedule(out, status);
    return out.str();
  }
  for (const auto& exchange : exchanges) {
    const std::string name = exchange.value("name", "");
    if (exchanges.size() > 1) out << (&exchange == &exchanges[0] ? "" : "\n");
    out << "exchange " << name << " (protocol " << exchange.value("protocol", "") << ", "
        << exchange.value("state", "") << ")\n";
    bool any = false;
    for (const auto& run : runs) {
      if (run.value("exchange", "") != name) continue;
      out << format_run(run);
      any = true;
    }
    if (!any) out << "no runs yet\n";
    format_schedule(out, exchange);
  }
  return out.str();
}

MonitoringResult monitoring_check(const MonitoringInput& input) {
  std::vector<std::string> critical;
  std::vector<std::string> warning;
  std::vector<std::string> fine;
  int runs = 0, failed = 0, overdue = 0;
  if (!input.status) {
    critical.push_back("daemon not running (" + input.unreachable + ")");
  } else {
    const auto& list =
        input.status->contains("runs") ? (*input.status)["runs"] : nlohmann::json::array();
    std::set<std::string> finished;  // exchanges whose newest done run was seen (newest first)
    for (const auto& run : list) {
      ++runs;
      const std::string state = run.value("state", "");
      const std::string exchange = run.value("exchange", "");
      if (state == "done") finished.insert(exchange);
      if (state == "failed" && !finished.contains(exchange)) {
        ++failed;
        const auto failure = run.value("failure", nlohmann::json::object());
        critical.push_back("run " + run.value("id", "") + " failed [" + failure.value("code", "?") +
                           "]");
      }
      if (run.value("overdue", false)) {
        ++overdue;
        warning.push_back("run " + run.value("id", "") + " overdue");
      }
    }
    if (failed == 0 && overdue == 0) fine.push_back(std::to_string(runs) + " runs, none failed");
  }
  if (input.audit_intact && !*input.audit_intact) {
    critical.push_back("audit chain broken (" + input.audit_problem + ")");
  } else {
    fine.push_back(input.audit_intact ? "audit chain intact" : "audit chain not checked here");
  }
  for (const auto& problem : input.certificate_problems) warning.push_back(problem);
  if (input.certificate_problems.empty()) fine.push_back("certificates valid");

  MonitoringResult result;
  std::vector<std::string> said;
  if (!critical.empty()) {
    result.exit_code = kMonitoringCritical;
    said = critical;
    said.insert(said.end(), warning.begin(), warning.end());
  } else if (!warning.empty()) {
    result.exit_code = kMonitoringWarning;
    said = warning;
  } else {
    result.exit_code = kMonitoringOk;
    said = fine;
  }
  static constexpr const char* kNames[] = {"OK", "WARNING", "CRITICAL"};
  std::string line = std::string("KBIX ") + kNames[result.exit_code] + " - ";
  for (std::size_t i = 0; i < said.size(); ++i) line += (i ? "; " : "") + said[i];
  line += " | runs=" + std::to_string(runs) + " failed=" + std::to_string(failed) +
          " overdue=" + std::to_string(overdue);
  result.line = std::move(line);
  return result;
}

}  // namespace kbix
