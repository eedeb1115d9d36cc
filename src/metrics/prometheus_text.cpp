#include "kbix/metrics/prometheus_text.hpp"

#include <cmath>
#include <cstdio>

namespace kbix {

std::string prometheus_label_value(const std::string& value) {
  std::string out;
  for (const char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

void PrometheusText::gauge(const std::string& name, const std::string& help) {
  text_ += "# HELP " + name + " " + help + "\n# TYPE " + name + " gauge\n";
}

void PrometheusText::sample(const std::string& name, const Labels& labels, double value) {
  text_ += name;
  if (!labels.empty()) {
    text_ += '{';
    bool first = true;
    for (const auto& [label, label_value] : labels) {
      if (!first) text_ += ',';
      first = false;
      text_ += label + "=\"" + prometheus_label_value(label_value) + "\"";
    }
    text_ += '}';
  }
  char number[64];
  if (std::floor(value) == value && std::fabs(value) < 1e15) {
    std::snprintf(number, sizeof number, " %.0f\n", value);
  } else {
    std::snprintf(number, sizeof number, " %.17g\n", value);
  }
  text_ += number;
}

}  // namespace kbix
