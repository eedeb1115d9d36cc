#include "kbix/audit/audit_verify.hpp"

#include <algorithm>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "internal/audit_internal.hpp"
#include "internal/checkpoint.hpp"
#include "kbix/audit/audit.hpp"
#include "kbix/core/untrusted_text.hpp"
#include "kbix/envelope/keys.hpp"

namespace kbix {

namespace fs = std::filesystem;

std::vector<fs::path> audit_log_files(const fs::path& directory) {
  std::vector<fs::path> rotated;
  std::error_code error;
  fs::directory_iterator entry(directory, error);
  for (; !error && entry != fs::directory_iterator(); entry.increment(error)) {
    const std::string name = entry->path().filename().string();
    if (name.starts_with("audit-") && name.ends_with(".jsonl")) rotated.push_back(entry->path());
  }
  std::sort(rotated.begin(), rotated.end());
  if (fs::exists(directory / "audit.jsonl", error)) rotated.push_back(directory / "audit.jsonl");
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

// No pinned certificate: signatures are not checked; else one of them must verify.
bool signed_by_one_of(const std::vector<Certificate>& certificates,
                      const detail::Checkpoint& checkpoint) {
  return certificates.empty() ||
         std::any_of(certificates.begin(), certificates.end(), [&](const Certificate& c) {
           return detail::checkpoint_signature_ok(c, checkpoint);
         });
}

// The local checkpoint file: each line signed, chained to the one before (a deleted, edited or
// reordered checkpoint breaks the chain), covering entries the log still holds unchanged.
std::optional<Problem> check_checkpoints(const std::vector<std::string>& lines,
                                         const std::string& name,
                                         const std::vector<Certificate>& certificates,
                                         const ChainChecker& chain, std::uint64_t& count,
                                         std::uint64_t& last_covered) {
  std::string expected_prev = detail::kNoCheckpoint;
  bool chained = false;
  std::uint64_t number = 0;
  for (const auto& line : lines) {
    ++number;
    const auto checkpoint = detail::parse_checkpoint(line);
    if (!checkpoint) return Problem{"audit.malformed", name, number, "not a checkpoint"};
    if (!signed_by_one_of(certificates, *checkpoint)) {
      return Problem{"audit.bad_checkpoint_signature", name, number,
                     "the checkpoint's signature does not verify with the pinned certificate"};
    }
    if (checkpoint->prev_checkpoint) {
      if (*checkpoint->prev_checkpoint != expected_prev) {
        return Problem{"audit.checkpoint_chain", name, number,
                       "does not name the checkpoint before it (a checkpoint was deleted, "
                       "edited or reordered)"};
      }
      chained = true;
    } else if (chained) {
      return Problem{"audit.checkpoint_chain", name, number,
                     "an unchained checkpoint after chained ones (inserted)"};
    }
    expected_prev = detail::checkpoint_line_hash(line);
    last_covered = std::max(last_covered, checkpoint->seq);
    const std::uint64_t seq = checkpoint->seq;
    if (seq == 0) {
      ++count;
      continue;
    }
    const auto at = chain.hashes().find(seq);
    if (at == chain.hashes().end()) {
      if (seq > chain.last_seq()) {
        return Problem{"audit.truncated", name, number,
                       "checkpoint covers entry " + std::to_string(seq) + " but the log ends at " +
                           std::to_string(chain.last_seq()) + " (entries cut off; the first " +
                           "missing is entry " + std::to_string(chain.last_seq() + 1) + ")"};
      }
      continue;  // before the files given
    }
    if (at->second != checkpoint->head) {
      return Problem{"audit.checkpoint_mismatch", name, number,
                     "entry " + std::to_string(seq) + " differs from the signed checkpoint"};
    }
    ++count;
  }
  return std::nullopt;
}

// A copy kept outside the state directory (a file or the journal): every checkpoint in it must
// be in the local file, and every entry it covers in the log, unchanged. This is what finds a
// consistent cut of both local files.
std::optional<Problem> check_against_copy(const std::vector<std::string>& copy,
                                          const std::string& copy_name,
                                          const std::vector<std::string>& local_lines,
                                          const std::vector<Certificate>& certificates,
                                          const ChainChecker& chain, std::uint64_t& missing_seq) {
  const std::set<std::string> local(local_lines.begin(), local_lines.end());
  std::vector<detail::Checkpoint> checkpoints;
  std::uint64_t number = 0;
  for (const auto& line : copy) {
    ++number;
    auto checkpoint = detail::parse_checkpoint(line);
    if (!checkpoint) return Problem{"audit.malformed", copy_name, number, "not a checkpoint"};
    if (!signed_by_one_of(certificates, *checkpoint)) {
      return Problem{"audit.bad_checkpoint_signature", copy_name, number,
                     "the copy's checkpoint does not verify with the pinned certificate"};
    }
    checkpoints.push_back(std::move(*checkpoint));
  }
  if (checkpoints.empty()) {
    return Problem{"audit.no_copy", copy_name, 0, "holds no checkpoint of this audit log"};
  }
  std::stable_sort(checkpoints.begin(), checkpoints.end(),
                   [](const auto& a, const auto& b) { return a.seq < b.seq; });
  for (const auto& checkpoint : checkpoints) {
    if (checkpoint.seq > chain.last_seq()) {
      missing_seq = chain.last_seq() + 1;
      return Problem{"audit.truncated", copy_name, 0,
                     "the copy holds a signed checkpoint at entry " +
                         std::to_string(checkpoint.seq) + " but the log ends at entry " +
                         std::to_string(chain.last_seq()) + ": the first missing entry is " +
                         std::to_string(missing_seq) + " (log and checkpoints cut)"};
    }
    const auto at = chain.hashes().find(checkpoint.seq);
    if (checkpoint.seq > 0 && at != chain.hashes().end() && at->second != checkpoint.head) {
      missing_seq = checkpoint.seq;
      return Problem{"audit.checkpoint_mismatch", copy_name, 0,
                     "entry " + std::to_string(checkpoint.seq) +
                         " differs from the checkpoint in the copy (the log was rewritten "
                         "from there or before)"};
    }
    if (!local.contains(checkpoint.line)) {
      return Problem{"audit.checkpoints_truncated", copy_name, 0,
                     "the checkpoint at entry " + std::to_string(checkpoint.seq) +
                         " is in the copy but not in the local checkpoint file (removed)"};
    }
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

  std::vector<Certificate> certificates;  // empty: signatures are not checked
  std::vector<fs::path> certificate_files;
  if (options.certificate) {
    certificate_files.push_back(*options.certificate);
    certificate_files.insert(certificate_files.end(), options.previous_certificates.begin(),
                             options.previous_certificates.end());
  }
  for (const auto& file : certificate_files) {
    auto loaded = Certificate::load(file);
    if (!loaded) return failed({loaded.error().code, file.string(), 0, loaded.error().message});
    certificates.push_back(std::move(*loaded));
  }
  const fs::path checkpoints =
      options.checkpoint_file ? *options.checkpoint_file : options.directory / "checkpoints.jsonl";
  const auto lines = detail::read_checkpoint_lines(checkpoints);
  if (!lines && options.checkpoint_file) {
    return failed({"audit.no_log", checkpoints.string(), 0, "no such checkpoint file"});
  }
  const std::string name = checkpoints.filename().string();
  std::uint64_t last_covered = 0;
  if (lines) {
    if (auto problem = check_checkpoints(*lines, name, certificates, chain, report.checkpoints,
                                         last_covered)) {
      return failed(*problem);
    }
  }
  // Checkpoints are written at open, every checkpoint_every entries and at close: a log with
  // entries and no checkpoint, or more entries past the last one, lost checkpoints.
  if (chain.entries() > 0 && (!lines || lines->empty())) {
    return failed({"audit.checkpoints_missing", name, 0,
                   "no signed checkpoint for a log of " + std::to_string(chain.entries()) +
                       " entries (the checkpoint file was deleted or emptied)"});
  }
  if (!explicit_files && chain.last_seq() > last_covered + options.checkpoint_every) {
    return failed({"audit.checkpoints_truncated", name, 0,
                   std::to_string(chain.last_seq() - last_covered) +
                       " entries after the last checkpoint (entry " + std::to_string(last_covered) +
                       "), at most " + std::to_string(options.checkpoint_every) +
                       " expected: checkpoints were removed (or could not be written)"});
  }
  if (options.against_file || options.against_journal) {
    std::vector<std::string> copy;
    std::string copy_name;
    if (options.against_file) {
      auto read = detail::read_checkpoint_lines(*options.against_file);
      if (!read) {
        return failed({"audit.no_copy", options.against_file->string(), 0, "no such file"});
      }
      copy = std::move(*read);
      copy_name = options.against_file->string();
    } else {
      auto read = detail::journal_checkpoint_lines(options.directory, options.journal_directory);
      if (!read) return failed({read.error().code, "the system journal", 0, read.error().message});
      copy = std::move(*read);
      copy_name = "the system journal";
    }
    if (auto problem =
            check_against_copy(copy, copy_name, lines.value_or(std::vector<std::string>{}),
                               certificates, chain, report.first_missing_seq)) {
      return failed(*problem);
    }
    report.copy_checkpoints = copy.size();
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
