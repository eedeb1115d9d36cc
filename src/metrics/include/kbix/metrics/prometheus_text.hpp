// The Prometheus text exposition format (version 0.0.4), as node_exporter's textfile collector
// reads it: # HELP and # TYPE once per metric, then its samples.
#pragma once

#include <map>
#include <string>

namespace kbix {

class PrometheusText {
 public:
  using Labels = std::map<std::string, std::string>;

  // Declares a gauge (call once per name, before its samples).
  void gauge(const std::string& name, const std::string& help);
  void sample(const std::string& name, const Labels& labels, double value);

  const std::string& text() const { return text_; }

 private:
  std::string text_;
};

// A label value with \\, \" and \n escaped as the format asks.
std::string prometheus_label_value(const std::string& value);

}  // namespace kbix
