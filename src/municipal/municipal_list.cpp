#include "kbix/municipal/municipal_list.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <istream>
#include <optional>
#include <streambuf>
#include <unordered_set>

#include "kbix/domain/csv.hpp"
#include "kbix/domain/insz.hpp"
#include "kbix/domain/schema.hpp"

namespace kbix::municipal {

namespace {

constexpr std::size_t kLinesKept = 1000;
constexpr std::uint64_t kMaxRows = 1'048'575;  // an Excel sheet, less the header row

// A read-only streambuf over a descriptor it does not own, reading with pread from byte 0, so
// the descriptor's offset is left alone.
class PreadBuffer : public std::streambuf {
 public:
  explicit PreadBuffer(int fd) : fd_(fd), buffer_(1 << 20) {}
  bool failed() const { return failed_; }

 protected:
  int_type underflow() override {
    if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
    ssize_t got = 0;
    do {
      got = ::pread(fd_, buffer_.data(), buffer_.size(), offset_);
    } while (got < 0 && errno == EINTR);
    if (got < 0) failed_ = true;
    if (got <= 0) return traits_type::eof();
    offset_ += got;
    setg(buffer_.data(), buffer_.data(), buffer_.data() + got);
    return traits_type::to_int_type(*gptr());
  }

 private:
  int fd_;
  off_t offset_ = 0;
  std::vector<char> buffer_;
  bool failed_ = false;
};

std::size_t index_of(const std::vector<std::string>& columns, const std::string& column) {
  return static_cast<std::size_t>(std::find(columns.begin(), columns.end(), column) -
                                  columns.begin());
}

bool is_nis_code(std::string_view text) {
  return text.size() == 5 &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Where each rule reads, as positions in the extract's columns.
struct Plan {
  std::size_t key = 0;
  std::vector<std::size_t> fields;
  std::size_t scope = 0;
  std::optional<std::size_t> residence;  // compared with the request's NIS code
  bool scope_is_residence = false;
  std::optional<std::size_t> retention_date;
  std::chrono::sys_days cutoff{};
  std::vector<std::pair<std::size_t, const ColumnDomain*>> closed_lists;
};

// Where each rule reads. A protocol from load_protocol always fits its extract; one built by hand
// that names a column the extract lacks is refused here rather than read out of bounds.
Result<Plan> make_plan(const Protocol& protocol, const ExportRules& rules,
                       const ListRequest& request) {
  const auto& columns = protocol.extract_columns;
  std::string missing;
  auto at = [&](const std::string& column) {
    const std::size_t index = index_of(columns, column);
    if (index == columns.size() && missing.empty()) missing = column;
    return index;
  };
  Plan plan;
  plan.key = at(protocol.key_column);
  for (const auto& field : rules.fields) plan.fields.push_back(at(field));
  plan.scope = at(rules.scope.column);
  plan.scope_is_residence = rules.scope.kind == ExportScope::Kind::residence;
  if (!plan.scope_is_residence && !rules.scope.residence_column.empty()) {
    plan.residence = at(rules.scope.residence_column);
  }
  if (rules.person_retention) {
    plan.retention_date = at(rules.person_retention->date_column);
    plan.cutoff = retention_cutoff(request.today, rules.person_retention->months);
  }
  for (const auto& column : rules.closed_lists) {
    const auto domain = protocol.domains.find(column);
    if (domain == protocol.domains.end() && missing.empty()) missing = column + " (its domain)";
    if (domain != protocol.domains.end())
      plan.closed_lists.emplace_back(at(column), &domain->second);
  }
  if (!missing.empty()) {
    return fail("municipal.protocol", "protocol " + protocol.id + " names column " + missing +
                                          ", which its extract does not have");
  }
  return plan;
}

enum class Verdict { in_scope, out_of_scope, retention, invalid_value };

Verdict judge(const Plan& plan, const std::vector<std::string>& fields,
              const ListRequest& request) {
  if (plan.scope_is_residence) {
    if (fields[plan.scope] != request.residence_nis) return Verdict::out_of_scope;
  } else if (fields[plan.scope] != "ja" ||
             (plan.residence && fields[*plan.residence] != request.residence_nis)) {
    return Verdict::out_of_scope;
  }
  if (plan.retention_date && !fields[*plan.retention_date].empty()) {
    const auto day = parse_date(fields[*plan.retention_date]);
    if (!day) return Verdict::invalid_value;
    if (*day < plan.cutoff) return Verdict::retention;
  }
  for (const auto& [column, domain] : plan.closed_lists) {
    if (!fields[column].empty() && !codes_allow(*domain, fields[column])) {
      return Verdict::invalid_value;
    }
  }
  return Verdict::in_scope;
}

void keep_line(std::vector<std::uint64_t>& lines, std::uint64_t line) {
  if (lines.size() < kLinesKept) lines.push_back(line);
}

}  // namespace

std::chrono::sys_days retention_cutoff(std::chrono::sys_days today, int months) {
  const std::chrono::year_month_day ymd{today};
  const auto month = std::chrono::year_month{ymd.year(), ymd.month()} - std::chrono::months{months};
  const auto last =
      std::chrono::year_month_day_last{month.year(), std::chrono::month_day_last{month.month()}};
  const auto day = std::min(ymd.day(), last.day());
  return std::chrono::sys_days{std::chrono::year_month_day{month.year(), month.month(), day}};
}

Result<MunicipalList> make_municipal_list(const Protocol& protocol, const ListRequest& request,
                                          int extract_fd, std::string_view extract_name) {
  if (protocol.kind != ProtocolKind::export_ || !protocol.export_rules) {
    return fail("municipal.not_export",
                "protocol " + protocol.id + " is not an export; it makes no municipal list");
  }
  const ExportRules& rules = *protocol.export_rules;
  const bool needs_residence =
      rules.scope.kind == ExportScope::Kind::residence || !rules.scope.residence_column.empty();
  if (needs_residence && !is_nis_code(request.residence_nis)) {
    return fail("municipal.residence",
                "protocol " + protocol.id +
                    " makes a list per municipality: the request needs the municipality's NIS "
                    "code (5 digits)");
  }
  auto planned = make_plan(protocol, rules, request);
  if (!planned) return fail(std::move(planned).error());
  const Plan& plan = *planned;

  PreadBuffer buffer(extract_fd);
  std::istream in(&buffer);
  CsvReader reader(in, std::string(extract_name));
  auto columns = read_header(reader, protocol.extract_columns);
  if (!columns) return fail(std::move(columns).error());

  MunicipalList list;
  list.table.header = rules.fields;
  ListCounts& counts = list.counts;
  std::unordered_set<std::uint64_t> seen;
  std::vector<std::string> fields;
  for (;;) {
    auto more = reader.next(fields);
    if (!more) return fail(std::move(more).error());
    if (!*more) break;
    KBIX_TRY(check_field_count(reader, fields.size(), *columns));
    ++counts.rows;
    const std::uint64_t line = reader.record_line();
    auto insz = Insz::parse(fields[plan.key]);
    if (!insz) {
      ++counts.invalid;
      keep_line(list.invalid_lines, line);
      continue;
    }
    if (!seen.insert(insz->value()).second) {
      ++counts.duplicates;
      keep_line(list.duplicate_lines, line);
      continue;
    }
    switch (judge(plan, fields, request)) {
      case Verdict::out_of_scope:
        ++counts.out_of_scope;
        continue;
      case Verdict::retention:
        ++counts.left_out_for_retention;
        continue;
      case Verdict::invalid_value:
        ++counts.invalid_values;
        keep_line(list.invalid_value_lines, line);
        continue;
      case Verdict::in_scope:
        break;
    }
    if (++counts.in_scope > kMaxRows) {
      return fail("municipal.too_many_rows", std::string(extract_name) + ": more than " +
                                                 std::to_string(kMaxRows) +
                                                 " people in scope; an Excel sheet holds no more");
    }
    std::vector<std::string> row;
    row.reserve(plan.fields.size());
    for (const std::size_t column : plan.fields) {
      row.push_back(column == plan.key ? insz->digits() : std::move(fields[column]));
    }
    list.table.rows.push_back(std::move(row));
    list.insz.push_back(insz->digits());
  }
  if (buffer.failed()) {
    return fail("municipal.read", std::string(extract_name) + ": read error");
  }
  return list;
}

}  // namespace kbix::municipal
