// `kbix status --check`: the monitoring-plugins exit code and its one-line summary.
#include <gtest/gtest.h>

#include "kbix/core/exit_code.hpp"
#include "kbix/runs/status_view.hpp"

namespace kbix {
namespace {

nlohmann::json run(const std::string& id, const std::string& state, bool overdue = false) {
  nlohmann::json json = {{"id", id}, {"state", state}, {"overdue", overdue}};
  if (state == "failed") json["failure"] = {{"code", "sftp.host_key_mismatch"}};
  return json;
}

MonitoringInput with_runs(nlohmann::json runs) {
  MonitoringInput input;
  input.status = nlohmann::json{{"ok", true}, {"runs", std::move(runs)}};
  input.audit_intact = true;
  return input;
}

TEST(StatusCheck, AllWellIsOkWithCountsAsPerformanceData) {
  const auto result = monitoring_check(with_runs({run("r2", "done"), run("r1", "done")}));
  EXPECT_EQ(result.exit_code, kMonitoringOk);
  EXPECT_EQ(result.line,
            "KBIX OK - 2 runs, none failed; audit chain intact; certificates valid | runs=2 "
            "failed=0 overdue=0");
}

TEST(StatusCheck, AnOverdueRunOrACertificateIsAWarning) {
  auto overdue = monitoring_check(with_runs({run("r1", "awaiting_return", true)}));
  EXPECT_EQ(overdue.exit_code, kMonitoringWarning);
  EXPECT_EQ(overdue.line.rfind("KBIX WARNING - run r1 overdue", 0), 0u) << overdue.line;
  auto input = with_runs({run("r1", "done")});
  input.certificate_problems = {"our signing certificate needs attention"};
  auto certificate = monitoring_check(input);
  EXPECT_EQ(certificate.exit_code, kMonitoringWarning);
  EXPECT_NE(certificate.line.find("our signing certificate"), std::string::npos);
}

TEST(StatusCheck, AFailedRunNotFollowedByADoneOneIsCritical) {
  auto failed = monitoring_check(with_runs({run("r2", "failed"), run("r1", "done")}));
  EXPECT_EQ(failed.exit_code, kMonitoringCritical);
  EXPECT_EQ(failed.line.rfind("KBIX CRITICAL - run r2 failed [sftp.host_key_mismatch]", 0), 0u)
      << failed.line;
  auto superseded = monitoring_check(with_runs({run("r2", "done"), run("r1", "failed")}));
  EXPECT_EQ(superseded.exit_code, kMonitoringOk) << superseded.line;
}

TEST(StatusCheck, NoDaemonOrABrokenAuditChainIsCritical) {
  MonitoringInput down;
  down.unreachable = "control.unreachable";
  auto result = monitoring_check(down);
  EXPECT_EQ(result.exit_code, kMonitoringCritical);
  EXPECT_EQ(result.line.rfind("KBIX CRITICAL - daemon not running (control.unreachable)", 0), 0u);
  auto broken = with_runs({run("r1", "done", true)});
  broken.audit_intact = false;
  broken.audit_problem = "audit.chain_broken";
  result = monitoring_check(broken);
  EXPECT_EQ(result.exit_code, kMonitoringCritical);
  EXPECT_NE(result.line.find("audit chain broken (audit.chain_broken); run r1 overdue"),
            std::string::npos)
      << "critical first, warnings after: " << result.line;
}

TEST(StatusCheck, AnUncheckedAuditLogIsSaidNotHidden) {
  auto input = with_runs({run("r1", "done")});
  input.audit_intact.reset();
  const auto result = monitoring_check(input);
  EXPECT_EQ(result.exit_code, kMonitoringOk);
  EXPECT_NE(result.line.find("audit chain not checked here"), std::string::npos);
}

}  // namespace
}  // namespace kbix
