#include "kbix/metrics/prometheus_text.hpp"

#include <gtest/gtest.h>

namespace kbix {
namespace {

TEST(PrometheusText, GaugesCarryHelpTypeAndEscapedLabels) {
  PrometheusText out;
  out.gauge("kbix_x", "an example");
  out.sample("kbix_x", {{"protocol", "p"}, {"certificate", "a\"b\\c\nd"}}, 1764619410);
  out.sample("kbix_x", {}, 0.5);
  EXPECT_EQ(out.text(),
            "# HELP kbix_x an example\n# TYPE kbix_x gauge\n"
            "kbix_x{certificate=\"a\\\"b\\\\c\\nd\",protocol=\"p\"} 1764619410\n"
            "kbix_x 0.5\n");
}

}  // namespace
}  // namespace kbix
