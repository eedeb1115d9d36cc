// Small text helpers shared by the reports (internal to the reports module).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace kbix::detail {

// A plain-text table: columns padded to their widest cell, numbers as given.
class TextTable {
 public:
  explicit TextTable(std::vector<std::string> header) : header_(std::move(header)) {}
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  std::string render() const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

// Text for an HTML element or attribute value: & < > " ' escaped; control bytes dropped.
std::string html_escape(std::string_view text);

}  // namespace kbix::detail
