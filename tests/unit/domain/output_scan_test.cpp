// The output scan's observer (kbix/domain/output_scan.hpp): a report over the output (the
// disclosure classes) rides on the scan's one read of the file.
#include "kbix/domain/output_scan.hpp"

#include <gtest/gtest.h>

#include <sstream>
#include <string>

#include "scan_recorder.hpp"

namespace kbix {
namespace {

using Recorder = test::ScanRecorder;
// The code ScanRecorder fails with: no kbix part produces it (deliberately unregistered).
const std::string kObserverCode = "test.observer";

TEST(OutputScanObserver, SeesTheHeaderAndEveryRowAsTheScanReadThem) {
  std::istringstream output("a;b\nx;\"y;z\"\n;\"multi\nline\"\n");
  Recorder recorder;
  auto scanned = scan_output(output, "out.csv", recorder);
  ASSERT_TRUE(scanned) << scanned.error().describe();
  EXPECT_EQ(scanned->rows, 2u);
  const std::vector<std::vector<std::string>> expected = {
      {"a", "b"}, {"x", "y;z"}, {"", "multi\nline"}};
  EXPECT_EQ(recorder.records, expected);
  EXPECT_EQ(recorder.lines, (std::vector<std::uint64_t>{1, 2, 3}));
}

TEST(OutputScanObserver, AnErrorOfTheObserverStopsTheScan) {
  std::istringstream output("a;b\n1;2\n3;4\n5;6\n");
  Recorder recorder;
  recorder.fail_at = 2;
  auto scanned = scan_output(output, "out.csv", recorder);
  ASSERT_FALSE(scanned);
  EXPECT_EQ(scanned.error().code, kObserverCode);
  EXPECT_EQ(scanned.error().message.rfind("out.csv:2:1:", 0), 0u) << scanned.error().message;
  EXPECT_EQ(recorder.records.size(), 2u) << "nothing read after the error";
}

TEST(OutputScanObserver, NeverSeesARecordTheScanBlocks) {
  std::istringstream output("a;b\nok;fine\nok;BE85073003328\nok;later\n");
  Recorder recorder;
  auto scanned = scan_output(output, "out.csv", recorder);
  ASSERT_FALSE(scanned);
  EXPECT_EQ(scanned.error().code, "scan.insz_found");
  EXPECT_EQ(recorder.records.size(), 2u) << "header and the clean row only";
  std::istringstream key_column("a;insz\n1;2\n");
  Recorder none;
  EXPECT_EQ(scan_output(key_column, "out.csv", none).error().code, "scan.key_column");
  EXPECT_TRUE(none.records.empty());
}

}  // namespace
}  // namespace kbix
