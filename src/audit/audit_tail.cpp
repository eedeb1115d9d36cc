#include <fstream>
#include <memory>
#include <sstream>

#include "internal/audit_internal.hpp"
#include "kbix/audit/audit_verify.hpp"
#include "kbix/core/file_safety.hpp"

namespace kbix::detail {

namespace fs = std::filesystem;

namespace {

std::string read_all(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

Result<AuditTail> parse_last_line(const std::string& text, const fs::path& file) {
  AuditTail tail;
  if (text.empty()) return tail;
  const std::size_t end = text.size() - 1;  // the final '\n'
  const std::size_t start = text.rfind('\n', end == 0 ? 0 : end - 1);
  const std::string line = text.substr(start == std::string::npos ? 0 : start + 1,
                                       end - (start == std::string::npos ? 0 : start + 1));
  const auto entry = nlohmann::json::parse(line, nullptr, false);
  if (entry.is_discarded() || !entry.is_object() || !entry.contains("seq") ||
      !entry["seq"].is_number_unsigned() || !entry.contains("hash") || !entry["hash"].is_string()) {
    return fail("audit.malformed", file.string() +
                                       ": the last entry cannot be read; run `kbix audit verify` "
                                       "and repair the log before starting");
  }
  tail.last_seq = entry["seq"];
  tail.last_hash = entry["hash"];
  return tail;
}

}  // namespace

Result<AuditTail> recover_tail(const fs::path& log_file) {
  if (!fs::exists(log_file)) return AuditTail{};
  std::string text = read_all(log_file);
  std::string torn_name;
  std::uint64_t torn_bytes = 0;
  if (!text.empty() && text.back() != '\n') {
    const std::size_t cut = text.rfind('\n');
    const std::size_t keep = cut == std::string::npos ? 0 : cut + 1;
    torn_bytes = text.size() - keep;
    torn_name = log_file.filename().string() + ".torn-" + audit_time_now();
    KBIX_TRY(write_file_atomically(log_file.parent_path() / torn_name, text.substr(keep)));
    std::error_code error;
    fs::resize_file(log_file, keep, error);
    if (error) return fail("audit.io", "cannot cut the torn line off " + log_file.string());
    text.resize(keep);
  }
  auto tail = parse_last_line(text, log_file);
  if (!tail) return tail;
  tail->torn_file = torn_name;
  tail->torn_bytes = torn_bytes;
  return tail;
}

Result<AuditTail> last_rotated_tail(const fs::path& directory) {
  const auto files = audit_log_files(directory);
  for (auto file = files.rbegin(); file != files.rend(); ++file) {
    if (file->filename() == "audit.jsonl") continue;
    return parse_last_line(read_all(*file), *file);
  }
  return AuditTail{};
}

}  // namespace kbix::detail
