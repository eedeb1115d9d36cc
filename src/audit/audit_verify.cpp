#include "kbix/audit/audit_verify.hpp"

#include <algorithm>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "internal/audit_internal.hpp"
#include "kbix/audit/audit.hpp"
#include "kbix/core/untrusted_text.hpp"
#include "kbix/envelope/keys.hpp"

namespace kbix {

namespace fs = std::filesystem;

std::vector<fs::path> audit_log_files(const fs::path& directory) {
  std::vector<fs::path> rotated;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(directory, error)) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with("audit-") && name.ends_with(".jsonl")) rotated.push_back(entry.path());
  }
  std::sort(rotated.begin(), rotated.end());
  if (fs::exists(directory / "audit.jsonl")) rotated.push_back(directory / "audit.jsonl");
  return rotated;
}

namespace {

struct Problem {
  std::string code;
  std::string file;
  std::uint64_t line = 0;
  std::string what;
};

std::string read_all(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// Walks the chain; remembers each seq's hash for the checkpoint checks.
class ChainChecker {
 public:
  explicit ChainChecker(bool anchored) : anchored_(anchored) {}

  std::optional<Problem> check_file(const fs::path& file, bool last_file) {
    const std::string text = read_all(file);
    const std::string name = file.filename().string();
    std::uint64_t line_number = 0;
    std::size_t start = 0;
    while (start < text.size()) {
      ++line_number;
      const std::size_t end = text.find('\n', start);
      if (end == std::string::npos) {
        return Problem{last_file ? "audit.torn_tail" : "audit.malformed", name, line_number,
                       last_file ? "torn final line without a line end (a crash mid-write?)"
                                 : "line without a line end inside the chain"};
      }
      if (auto problem = check_line(text.substr(start, end - start), name, line_number)) {
        return problem;
      }
      start = end + 1;
    }
    return std::nullopt;
  }

  std::uint64_t entries() const { return entries_; }
  std::uint64_t last_seq() const { return last_seq_; }
  const std::map<std::uint64_t, std::string>& hashes() const { return hashes_; }

 private:
  std::optional<Problem> check_line(const std::string& line, const std::string& file,
                                    std::uint64_t number) {
    auto entry = nlohmann::json::parse(line, nullptr, false);
    if (entry.is_discarded() || !entry.is_object() || !entry.contains("seq") ||
        !entry["seq"].is_number_unsigned() || !entry.contains("hash") ||
        !entry["hash"].is_string() || !entry.contains("prev") || !entry["prev"].is_string()) {
      return Problem{"audit.malformed", file, number, "not an audit entry (edited or damaged)"};
    }
    if (audit_canonical(entry) != line) {
      return Problem{"audit.not_canonical", file, number,
                     "the line is not in canonical form (edited)"};
    }
    const std::string hash = entry["hash"];
    const std::uint64_t seq = entry["seq"];
    const std::string prev = entry["prev"];
    entry.erase("hash");
    if (audit_entry_hash(entry) != hash) {
      return Problem{"audit.hash_mismatch", file, number, "hash mismatch (entry edited)"};
    }
    if (entries_ == 0 && !anchored_) {
      expected_seq_ = seq;  // explicit files: the first one anchors the chain
      head_ = prev;
    }
    if (seq != expected_seq_) {
      return Problem{"audit.sequence_gap", file, number,
                     "sequence " + std::to_string(seq) + " where " + std::to_string(expected_seq_) +
                         " was expected (entry deleted, duplicated or moved)"};
    }
    if (prev != head_) {
      return Problem{"audit.prev_mismatch", file, number,
                     "does not link to the previous entry (entry deleted or moved)"};
    }
    head_ = hash;
    hashes_[seq] = hash;
    last_seq_ = seq;
    ++expected_seq_;
    ++entries_;
    return std::nullopt;
  }

  bool anchored_;
  std::uint64_t expected_seq_ = 1;
  std::string head_ = std::string(64, '0');
  std::uint64_t entries_ = 0;
  std::uint64_t last_seq_ = 0;
  std::map<std::uint64_t, std::string> hashes_;
};

std::optional<Problem> check_checkpoints(const fs::path& file,
                                         const std::optional<Certificate>& certificate,
                                         const ChainChecker& chain, std::uint64_t& count) {
  const std::string name = file.filename().string();
  std::istringstream in(read_all(file));
  std::uint64_t number = 0;
  for (std::string line; std::getline(in, line);) {
    ++number;
    const auto checkpoint = nlohmann::json::parse(line, nullptr, false);
    if (checkpoint.is_discarded() || !checkpoint.is_object() ||
        !checkpoint.value("seq", nlohmann::json()).is_number_unsigned() ||
        !checkpoint.value("head", nlohmann::json()).is_string() ||
        !checkpoint.value("time", nlohmann::json()).is_string() ||
        !checkpoint.value("signature", nlohmann::json()).is_string() ||
        !checkpoint.value("algorithm", nlohmann::json()).is_string()) {
      return Problem{"audit.malformed", name, number, "not a checkpoint"};
    }
    const std::uint64_t seq = checkpoint["seq"];
    const std::string head = checkpoint["head"];
    if (certificate &&
        !detail::verify_checkpoint_signature(
            *certificate, checkpoint["algorithm"],
            audit_checkpoint_message(seq, head, checkpoint["time"].get<std::string>()),
            checkpoint["signature"])) {
      return Problem{"audit.bad_checkpoint_signature", name, number,
                     "the checkpoint's signature does not verify with the pinned certificate"};
    }
    if (seq == 0) {
      ++count;
      continue;
    }
    const auto at = chain.hashes().find(seq);
    if (at == chain.hashes().end()) {
      if (seq > chain.last_seq()) {
        return Problem{"audit.truncated", name, number,
                       "checkpoint covers entry " + std::to_string(seq) + " but the log ends at " +
                           std::to_string(chain.last_seq()) + " (entries cut off)"};
      }
      continue;  // before the files given
    }
    if (at->second != head) {
      return Problem{"audit.checkpoint_mismatch", name, number,
                     "entry " + std::to_string(seq) + " differs from the signed checkpoint"};
    }
    ++count;
  }
  return std::nullopt;
}

}  // namespace

AuditVerifyReport verify_audit(const AuditVerifyOptions& options) {
  AuditVerifyReport report;
  const bool explicit_files = !options.log_files.empty();
  const auto files = explicit_files ? options.log_files : audit_log_files(options.directory);
  auto failed = [&](const Problem& problem) {
    report.ok = false;
    report.error_code = problem.code;
    report.bad_file = problem.file;
    report.bad_line = problem.line;
    report.first_problem = problem.file + (problem.line ? ":" + std::to_string(problem.line) : "") +
                           ": " + problem.what;
    return report;
  };
  if (files.empty()) return failed({"audit.no_log", options.directory.string(), 0, "no log"});
  ChainChecker chain(!explicit_files);
  for (std::size_t i = 0; i < files.size(); ++i) {
    if (!fs::exists(files[i])) {
      return failed({"audit.no_log", files[i].string(), 0, "no such file"});
    }
    if (auto problem = chain.check_file(files[i], i + 1 == files.size())) return failed(*problem);
  }
  report.entries = chain.entries();

  std::optional<Certificate> certificate;
  if (options.certificate) {
    auto loaded = Certificate::load(*options.certificate);
    if (!loaded)
      return failed(
          {loaded.error().code, options.certificate->string(), 0, loaded.error().message});
    certificate.emplace(std::move(*loaded));
  }
  const fs::path checkpoints =
      options.checkpoint_file ? *options.checkpoint_file : options.directory / "checkpoints.jsonl";
  if (fs::exists(checkpoints)) {
    if (auto problem = check_checkpoints(checkpoints, certificate, chain, report.checkpoints)) {
      return failed(*problem);
    }
  } else if (options.checkpoint_file) {
    return failed({"audit.no_log", checkpoints.string(), 0, "no such checkpoint file"});
  }
  report.ok = true;
  return report;
}

namespace {
// `audit show` reads a log that may have been tampered with: every field is read by type,
// so a wrong type prints as "?" instead of throwing.
std::string text_field(const nlohmann::json& object, const char* key) {
  if (!object.is_object()) return "?";
  const auto found = object.find(key);
  if (found == object.end()) return "";
  return found->is_string() ? found->get<std::string>() : "?";
}

std::string number_field(const nlohmann::json& object, const char* key) {
  if (!object.is_object()) return "?";
  const auto found = object.find(key);
  if (found == object.end() || !found->is_number_unsigned()) return "?";
  return std::to_string(found->get<std::uint64_t>());
}
}  // namespace

std::string format_entries(const AuditVerifyOptions& options,
                           const std::optional<std::string>& run_id_filter) {
  const auto files =
      options.log_files.empty() ? audit_log_files(options.directory) : options.log_files;
  std::ostringstream out;
  for (const auto& file : files) {
    std::istringstream in(read_all(file));
    for (std::string line; std::getline(in, line);) {
      const auto entry = nlohmann::json::parse(line, nullptr, false);
      if (entry.is_discarded() || !entry.is_object()) {
        out << "(unreadable line in " << file.filename().string() << ")\n";
        continue;
      }
      const std::string run = text_field(entry, "run_id");
      if (run_id_filter && run != *run_id_filter) continue;
      const auto actor = entry.find("actor");
      const bool has_actor = actor != entry.end() && actor->is_object();
      out << number_field(entry, "seq") << "  " << text_field(entry, "time") << "  "
          << (has_actor ? text_field(*actor, "name") : std::string("?"));
      if (has_actor && actor->contains("uid") && !(*actor)["uid"].is_null()) {
        out << "(" << number_field(*actor, "uid") << ")";  // the scheduler has no uid
      }
      out << "  " << text_field(entry, "event");
      if (!run.empty()) out << "  run " << run;
      const auto details = entry.find("details");
      if (details != entry.end() && !details->empty()) out << "  " << dump_json(*details);
      out << "\n";
    }
  }
  return out.str();
}

}  // namespace kbix
