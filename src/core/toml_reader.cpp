#include "kbix/core/toml_reader.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "kbix/core/untrusted_text.hpp"

namespace kbix::detail {

Result<toml::table> parse_toml_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return fail("config.missing_file", file.string() + ": cannot open the file");
  std::ostringstream text;
  text << in.rdbuf();
  try {
    return toml::parse(text.str(), file.string());
  } catch (const toml::parse_error& error) {
    const auto& where = error.source().begin;
    return fail("config.syntax", file.string() + ":" + std::to_string(where.line) + ":" +
                                     std::to_string(where.column) + ": " +
                                     sanitize_untrusted_text(error.description()));
  }
}

TableReader::TableReader(const toml::table& table, std::filesystem::path file, std::string where)
    : table_(table), file_(std::move(file)), where_(std::move(where)) {}

std::string TableReader::position(const toml::source_region& region) const {
  return file_.string() + ":" + std::to_string(region.begin.line) + ":" +
         std::to_string(region.begin.column);
}

void TableReader::record(ErrorCode code, std::string message) {
  // Messages echo keys and values from the file: untrusted text (invariant 16).
  if (!first_error_) first_error_ = Error{code, sanitize_untrusted_text(message, 1024)};
}

const toml::node* TableReader::find(std::string_view key, bool required) {
  read_.emplace(key);
  const toml::node* node = table_.get(key);
  if (node == nullptr && required) {
    record("config.missing_key",
           position(table_.source()) + ": " + where_ + " needs the key '" + std::string(key) + "'");
  }
  return node;
}

void TableReader::reject(std::string_view key, const std::string& message, ErrorCode code) {
  const toml::node* node = table_.get(key);
  const auto& region = node != nullptr ? node->source() : table_.source();
  record(code, position(region) + ": " + where_ + " " + std::string(key) + ": " + message);
}

std::optional<std::string> TableReader::text(std::string_view key, bool required) {
  const toml::node* node = find(key, required);
  if (node == nullptr) return std::nullopt;
  if (const auto* value = node->as_string()) return value->get();
  reject(key, "must be a string (in quotes)", "config.type");
  return std::nullopt;
}

std::optional<std::int64_t> TableReader::integer(std::string_view key, bool required,
                                                 std::int64_t min, std::int64_t max) {
  const toml::node* node = find(key, required);
  if (node == nullptr) return std::nullopt;
  const auto* value = node->as_integer();
  if (value == nullptr) {
    reject(key, "must be a whole number", "config.type");
    return std::nullopt;
  }
  if (value->get() < min || value->get() > max) {
    reject(key, "must be between " + std::to_string(min) + " and " + std::to_string(max),
           "config.range");
    return std::nullopt;
  }
  return value->get();
}

std::optional<bool> TableReader::boolean(std::string_view key, bool required) {
  const toml::node* node = find(key, required);
  if (node == nullptr) return std::nullopt;
  if (const auto* value = node->as_boolean()) return value->get();
  reject(key, "must be true or false", "config.type");
  return std::nullopt;
}

std::optional<std::chrono::sys_days> TableReader::date(std::string_view key, bool required) {
  const toml::node* node = find(key, required);
  if (node == nullptr) return std::nullopt;
  const auto* value = node->as_date();
  if (value == nullptr) {
    reject(key, "must be a date like 2023-03-03 (no quotes)", "config.type");
    return std::nullopt;
  }
  const toml::date d = value->get();
  const std::chrono::year_month_day ymd{std::chrono::year{d.year},
                                        std::chrono::month{static_cast<unsigned>(d.month)},
                                        std::chrono::day{static_cast<unsigned>(d.day)}};
  if (!ymd.ok()) {
    reject(key, "is not a calendar date", "config.range");
    return std::nullopt;
  }
  return std::chrono::sys_days{ymd};
}

std::optional<std::vector<std::string>> TableReader::text_list(std::string_view key,
                                                               bool required) {
  const toml::node* node = find(key, required);
  if (node == nullptr) return std::nullopt;
  const auto* array = node->as_array();
  if (array == nullptr) {
    reject(key, "must be a list of strings, like [\"a\", \"b\"]", "config.type");
    return std::nullopt;
  }
  std::vector<std::string> items;
  for (const auto& element : *array) {
    const auto* value = element.as_string();
    if (value == nullptr) {
      record("config.type", position(element.source()) + ": " + where_ + " " + std::string(key) +
                                ": every item must be a string");
      return std::nullopt;
    }
    items.push_back(value->get());
  }
  return items;
}

const toml::table* TableReader::table(std::string_view key, bool required) {
  const toml::node* node = find(key, false);
  if (node == nullptr) {
    if (required) {
      record("config.missing_key", position(table_.source()) + ": " + where_ +
                                       " needs the section [" + std::string(key) + "]");
    }
    return nullptr;
  }
  if (const auto* sub = node->as_table()) return sub;
  reject(key, "must be a table, like [" + std::string(key) + "]", "config.type");
  return nullptr;
}

std::optional<std::filesystem::path> TableReader::path(std::string_view key, bool required,
                                                       const std::filesystem::path& base_dir) {
  auto value = text(key, required);
  if (!value) return std::nullopt;
  return resolve(key, *value, base_dir);
}

std::optional<std::filesystem::path> TableReader::resolve(std::string_view key,
                                                          const std::string& value,
                                                          const std::filesystem::path& base_dir) {
  if (value.empty()) {
    reject(key, "must not be empty", "config.value");
    return std::nullopt;
  }
  std::filesystem::path given(value);
  if (given.is_absolute()) return given.lexically_normal();
  const auto resolved = (base_dir / given).lexically_normal();
  const auto relative = resolved.lexically_relative(base_dir.lexically_normal());
  if (relative.empty() || *relative.begin() == "..") {
    reject(key,
           "relative path '" + value +
               "' leaves the configuration directory; use an absolute path instead",
           "config.path_escape");
    return std::nullopt;
  }
  return resolved;
}

std::string TableReader::position_of(std::string_view key) const {
  const toml::node* node = table_.get(key);
  return position(node != nullptr ? node->source() : table_.source());
}

std::optional<std::vector<std::filesystem::path>> TableReader::path_list(
    std::string_view key, bool required, const std::filesystem::path& base_dir) {
  auto values = text_list(key, required);
  if (!values) return std::nullopt;
  if (values->empty()) {
    reject(key, "must list at least one file", "config.value");
    return std::nullopt;
  }
  std::vector<std::filesystem::path> paths;
  for (const auto& value : *values) {
    auto resolved = resolve(key, value, base_dir);
    if (!resolved) return std::nullopt;
    paths.push_back(std::move(*resolved));
  }
  return paths;
}

std::optional<std::vector<TableReader>> TableReader::table_list(std::string_view key,
                                                                bool required) {
  const toml::node* node = find(key, required);
  if (node == nullptr) return std::nullopt;
  const auto* array = node->as_array();
  std::vector<TableReader> readers;
  for (std::size_t i = 0; array != nullptr && i < array->size(); ++i) {
    const auto* table = array->get(i)->as_table();
    if (table == nullptr) {
      array = nullptr;
      break;
    }
    readers.emplace_back(*table, file_,
                         where_ + " " + std::string(key) + "[" + std::to_string(i + 1) + "]");
  }
  if (array == nullptr) {
    reject(key, "must be a list of tables, like [{ certificate = \"a.crt\", key = \"a.key\" }]",
           "config.type");
    return std::nullopt;
  }
  return readers;
}

void TableReader::absorb(Status status) {
  // The code was checked where the error was made; keep it, sanitize the message as record does.
  if (status || first_error_) return;
  Error error = std::move(status).error();
  error.message = sanitize_untrusted_text(error.message, 1024);
  first_error_ = std::move(error);
}

Status TableReader::finish() {
  for (const auto& [key, node] : table_) {
    if (!read_.contains(key.str())) {
      record("config.unknown_key", position(node.source()) + ": " + where_ +
                                       " has an unknown key '" + std::string(key.str()) +
                                       "' (misspelt?)");
    }
  }
  if (first_error_) return fail(*first_error_);
  return ok();
}

namespace {
bool is_lower(char c) {
  return c >= 'a' && c <= 'z';
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
int two_digits(std::string_view text) {
  return (text[0] - '0') * 10 + (text[1] - '0');
}
}  // namespace

bool is_month_day(std::string_view text) {
  if (text.size() != 5 || text[2] != '-') return false;
  if (!is_digit(text[0]) || !is_digit(text[1]) || !is_digit(text[3]) || !is_digit(text[4])) {
    return false;
  }
  const int month = two_digits(text.substr(0, 2));
  const int day = two_digits(text.substr(3, 2));
  return month >= 1 && month <= 12 && day >= 1 && day <= 28;
}

bool is_user_name(std::string_view text) {
  if (text.empty() || text.size() > 32 || !(is_lower(text[0]) || text[0] == '_')) return false;
  return std::all_of(text.begin(), text.end(), [](char c) {
    return is_lower(c) || is_digit(c) || c == '_' || c == '.' || c == '-';
  });
}

bool is_column_name(std::string_view text) {
  if (text.empty() || text.size() > 64 || !is_lower(text[0])) return false;
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return is_lower(c) || is_digit(c) || c == '_'; });
}

bool is_protocol_id(std::string_view text) {
  if (text.size() < 3 || text.size() > 64 || text[0] == '-') return false;
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return is_lower(c) || is_digit(c) || c == '-'; });
}

}  // namespace kbix::detail
