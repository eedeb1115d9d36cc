// Strict reading of one TOML table: the one reader of every kbix file in TOML (the protocol files
// here in core, the configuration in module config).
//
// Every key must be read exactly by the code that knows it: keys nobody asked for are reported as
// unknown, a value of the wrong type is reported with its position, and the first problem wins.
// All messages are "FILE:LINE:COL: message" so an operator can go straight to the spot.
#pragma once

#define TOML_EXCEPTIONS 1
#include <toml++/toml.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "kbix/core/result.hpp"

namespace kbix::detail {

// Parses a TOML file; syntax errors carry the file, line and column. Error code "config.syntax"
// or "config.missing_file".
Result<toml::table> parse_toml_file(const std::filesystem::path& file);

class TableReader {
 public:
  // `where` names the table for messages ("[sftp]"); `file` is the file being read.
  TableReader(const toml::table& table, std::filesystem::path file, std::string where);

  std::optional<std::string> text(std::string_view key, bool required);
  std::optional<std::int64_t> integer(std::string_view key, bool required, std::int64_t min,
                                      std::int64_t max);
  std::optional<bool> boolean(std::string_view key, bool required);
  std::optional<std::chrono::sys_days> date(std::string_view key, bool required);
  std::optional<std::vector<std::string>> text_list(std::string_view key, bool required);
  // A sub-table; nullptr (and an error when required) if absent or not a table.
  const toml::table* table(std::string_view key, bool required);
  // A path resolved against `base_dir`. Relative paths may not leave base_dir ("..").
  std::optional<std::filesystem::path> path(std::string_view key, bool required,
                                            const std::filesystem::path& base_dir);
  // A list of paths, each resolved as path() does; an empty list is an error.
  std::optional<std::vector<std::filesystem::path>> path_list(
      std::string_view key, bool required, const std::filesystem::path& base_dir);
  // A list of tables (`key = [{...}, {...}]` or `[[section.key]]`), one reader each, named
  // "where key[N]"; pass each reader's finish() to absorb().
  std::optional<std::vector<TableReader>> table_list(std::string_view key, bool required);
  // Records the first problem of a sub-table's reader.
  void absorb(Status status);

  // Whether the table sets `key` at all (without reading it).
  [[nodiscard]] bool has(std::string_view key) const { return table_.contains(key); }

  // "FILE:LINE:COL" of the value at `key`, or of the table itself when it has no such key.
  [[nodiscard]] std::string position_of(std::string_view key) const;

  // Records a problem with the value at `key` (for checks only the caller can make).
  void reject(std::string_view key, const std::string& message, ErrorCode code = "config.value");

  // Reports keys nobody read, then returns the first problem, if any.
  Status finish();

 private:
  const toml::node* find(std::string_view key, bool required);
  std::optional<std::filesystem::path> resolve(std::string_view key, const std::string& value,
                                               const std::filesystem::path& base_dir);
  std::string position(const toml::source_region& region) const;
  void record(ErrorCode code, std::string message);

  const toml::table& table_;
  std::filesystem::path file_;
  std::string where_;
  std::set<std::string, std::less<>> read_;
  std::optional<Error> first_error_;
};

// Small text rules for configuration values (hand-written: std::regex is slow to build and trips
// GCC 12's -Wmaybe-uninitialized under the sanitizers).
bool is_month_day(std::string_view text);  // "MM-DD", day 01..28 so every year has it
bool is_user_name(std::string_view text);  // [a-z_][a-z0-9_.-]{0,31}
bool is_column_name(std::string_view text);
bool is_protocol_id(
    std::string_view text);  // [a-z0-9][a-z0-9-]{2,63}: part of file names  // [a-z][a-z0-9_]{0,63}

}  // namespace kbix::detail
