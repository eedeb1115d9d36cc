// PLACEHOLDER (lead's branch only): the API agreed with branch `gemeenten`, replaced at merge.
#pragma once
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "kbix/core/protocol.hpp"
#include "kbix/core/result.hpp"
#include "kbix/office/workbook.hpp"

namespace kbix {
struct ListRequest {
  std::string residence_nis;
  std::chrono::sys_days today;
};
struct ListCounts {
  std::uint64_t rows = 0, invalid = 0, duplicates = 0, in_scope = 0, out_of_scope = 0,
                left_out_for_retention = 0;
};
struct MunicipalList {
  office::Table table;
  std::vector<std::string> insz;
  ListCounts counts;
};
Result<MunicipalList> make_municipal_list(const Protocol& protocol, const ListRequest& request,
                                          int extract_fd, std::string_view extract_name);
}  // namespace kbix
