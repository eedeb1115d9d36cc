#include "kbix/reports/evidence.hpp"

#include <algorithm>
#include <fstream>
#include <map>
#include <set>

#include "kbix/core/digest.hpp"
#include "kbix/core/protocol.hpp"
#include "kbix/core/utc_time.hpp"
#include "kbix/envelope/keys.hpp"

namespace kbix {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string utc(std::chrono::system_clock::time_point when) {
  return utc_formatted(when, UtcShape::readable);
}

std::uint64_t num(const json& object, const char* key) {
  if (!object.is_object()) return 0;
  const auto found = object.find(key);
  return found != object.end() && found->is_number_unsigned() ? found->get<std::uint64_t>() : 0;
}

std::string str(const json& object, const char* key) {
  if (!object.is_object()) return "";
  const auto found = object.find(key);
  return found != object.end() && found->is_string() ? found->get<std::string>() : "";
}

std::string n(std::uint64_t value) {
  return std::to_string(value);
}

// A member of a (possibly tampered) entry, or null: const operator[] must not meet a missing key.
const json& sub(const json& object, const char* key) {
  static const json null_value;
  if (!object.is_object()) return null_value;
  const auto found = object.find(key);
  return found == object.end() ? null_value : *found;
}

// Every entry of the log that parses as JSON, in chain order (the verifier judges the rest).
std::vector<json> read_entries(const fs::path& audit_dir) {
  std::vector<json> entries;
  for (const auto& file : audit_log_files(audit_dir)) {
    std::ifstream in(file, std::ios::binary);
    std::string line;
    while (std::getline(in, line)) {
      json entry = json::parse(line, nullptr, false);
      if (entry.is_object() && entry.contains("seq") && entry["seq"].is_number_unsigned()) {
        entries.push_back(std::move(entry));
      }
    }
  }
  return entries;
}

std::string sha_of(const fs::path& file) {
  if (!fs::exists(file)) return "";
  auto sha = sha256_file_hex(file);
  return sha ? *sha : "";
}

std::string algorithms(const std::string& profile) {
  if (profile == "cbc") {
    return "CMS SignedData (SHA-256) inside EnvelopedData AES-256-CBC";
  }
  return "CMS SignedData (SHA-256) inside AuthEnvelopedData AES-256-GCM with a 16-byte tag";
}

class RunClaims {
 public:
  RunClaims(const std::vector<const json*>& entries, const EvidenceSources& sources,
            const EvidenceReport& report, const std::string& run_id)
      : entries_(entries), sources_(sources), report_(report), run_id_(run_id) {}

  std::vector<EvidenceClaim> build() {
    started();
    sent();
    envelope();
    sftp();
    upload();
    vdab_return();
    quality();
    disclosure();
    merged();
    published();
    deleted();
    ended();
    purged();
    missing_steps();
    checkpoint();
    return std::move(claims_);
  }

 private:
  std::vector<const json*> all(std::initializer_list<const char*> events) const {
    std::vector<const json*> found;
    for (const json* e : entries_) {
      const std::string event = str(*e, "event");
      for (const char* wanted : events) {
        if (event == wanted) found.push_back(e);
      }
    }
    return found;
  }
  const json* first(std::initializer_list<const char*> events) const {
    const auto found = all(events);
    return found.empty() ? nullptr : found.front();
  }
  static std::uint64_t seq(const json* e) { return num(*e, "seq"); }
  static const json& details(const json* e) { return sub(*e, "details"); }
  static std::string time(const json* e) { return str(*e, "time"); }
  void claim(std::string topic, std::string statement, std::vector<const json*> from,
             bool holds = true) {
    std::vector<std::uint64_t> seqs;
    for (const json* e : from) seqs.push_back(seq(e));
    claims_.push_back({std::move(topic), std::move(statement), std::move(seqs), holds});
  }
  std::string certificate_fingerprint(const std::string& role) const {
    for (const auto& c : report_.certificates) {
      if (c.role == role) return c.fingerprint_sha256;
    }
    return "";
  }

  void started() {
    const json* e = first({"run.start", "run.start_forced"});
    if (e == nullptr) return;
    const json& d = details(e);
    std::string text = "Started at " + time(e) + " by " + str(sub(*e, "actor"), "name") + " (" +
                       str(d, "trigger") + "), " + str(d, "rule") + ".";
    if (str(*e, "event") == "run.start_forced")
      text += " Forced; reason given: " + str(d, "reason");
    claim("start", text, {e});
  }

  void sent() {
    if (const json* e = first({"run.extract_sealed"})) {
      const json& d = details(e);
      const json& x = sub(d, "export");
      claim("sent",
            "The KBI extract had " + n(num(x, "rows")) + " rows (" + n(num(x, "invalid_insz")) +
                " invalid and " + n(num(x, "duplicate_insz")) +
                " repeated INSZ never left AgII), SHA-256 " + str(d, "extract_sha256") + ", " +
                n(num(d, "extract_bytes")) +
                " bytes; it was sealed to AgII's own certificate as the snapshot (SHA-256 " +
                str(d, "snapshot_sha256") + ", " + n(num(d, "snapshot_bytes")) + " bytes).",
            {e});
      extract_sha_ = str(d, "extract_sha256");
    }
    if (const json* e = first({"inbox.extract_removed"})) {
      const std::string sha = str(details(e), "sha256");
      claim("deletion",
            "The plaintext extract " + str(details(e), "file") + " was removed from the inbox at " +
                time(e) + " (SHA-256 " + sha +
                (sha == extract_sha_ ? ", the file that was sealed)."
                                     : ", NOT the SHA-256 recorded when it was sealed)."),
            {e}, sha == extract_sha_);
    }
    if (const json* e = first({"run.outbound_sealed"})) {
      const json& d = details(e);
      outbound_bytes_ = num(d, "outbound_bytes");
      profile_ = str(d, "envelope_profile");
      claim("sent",
            "The file for the partner held one column, insz, with " + n(num(d, "outbound_rows")) +
                " valid INSZ; sealed, it had SHA-256 " + str(d, "outbound_sha256") + " and " +
                n(outbound_bytes_) + " bytes.",
            {e});
    }
  }

  void envelope() {
    const json* e = first({"run.outbound_sealed"});
    if (e == nullptr) return;
    const std::string fingerprint = certificate_fingerprint("partner encryption");
    claim("envelope",
          "Envelope profile " + profile_ + ": " + algorithms(profile_) +
              "; RSA recipients get RSA-OAEP SHA-256, EC recipients ECDH (X9.63 SHA-256 KDF). "
              "The partner encryption certificate configured now has SHA-256 " +
              (fingerprint.empty() ? std::string("(not readable)") : fingerprint) +
              " (see Certificates; the log records the profile, not the certificate).",
          {e}, profile_ == sources_.envelope_profile);
  }

  void sftp() {
    const auto connects = all({"sftp.connect"});
    if (connects.empty()) return;
    std::set<std::string> host_keys;
    std::set<std::string> pins;
    for (const json* e : connects) {
      host_keys.insert(str(details(e), "host_key"));
      pins.insert(str(details(e), "known_hosts_sha256"));
    }
    const json& d = details(connects.front());
    const std::string pin_now = sha_of(sources_.known_hosts_file);
    std::string text = n(connects.size()) + " SFTP connection(s) to " + str(d, "host") + ":" +
                       n(num(d, "port")) + " as " + str(d, "user") + " (cipher " +
                       str(d, "cipher") + "); the server's host key " + *host_keys.begin() +
                       " matched the pinned known_hosts file (SHA-256 " + *pins.begin() + ")";
    const bool one_key = host_keys.size() == 1 && pins.size() == 1;
    if (!one_key) text += "; MORE THAN ONE host key or pin file was used";
    text += pin_now == *pins.begin()
                ? "; the pin file is unchanged since."
                : "; the pin file has changed since (now SHA-256 " +
                      (pin_now.empty() ? std::string("absent") : pin_now) + ").";
    claim("sftp", text, connects, one_key);
  }

  void upload() {
    const json* e = first({"run.upload", "run.upload_confirmed"});
    if (e == nullptr) return;
    const json& d = details(e);
    const std::uint64_t bytes = num(d, "outbound_remote_bytes");
    claim("upload",
          "Uploaded to the partner's server as " + str(d, "outbound_remote_dir") + "/" +
              str(d, "outbound_remote_name") + " at " + time(e) + " (" + str(d, "upload") +
              (bytes != 0 ? ", " + n(bytes) + " bytes" : std::string()) + ").",
          {e}, bytes == 0 || bytes == outbound_bytes_);
  }

  void vdab_return() {
    const json* detected = first({"run.return_detected"});
    const json* downloaded = first({"run.download"});
    if (downloaded != nullptr) {
      const json& d = details(downloaded);
      std::vector<const json*> from = {downloaded};
      if (detected != nullptr) from.insert(from.begin(), detected);
      claim("return",
            "The return " + str(d, "return_remote_name") + " was downloaded at " +
                time(downloaded) + ": " + n(num(d, "return_bytes")) + " bytes, SHA-256 " +
                str(d, "return_sha256") + ".",
            from);
    }
    if (const json* e = first({"run.return_verified"})) {
      const std::string signer = str(details(e), "return_signer_sha256");
      const std::string pinned = certificate_fingerprint("partner signing");
      claim("return",
            "It decrypted with AgII's key, its authentication tag verified, and its signature "
            "verified at " +
                time(e) + " against the signer SHA-256 " + signer +
                (signer == pinned ? ", the partner signing certificate pinned now."
                                  : ", which is NOT the partner signing certificate pinned now."),
            {e}, signer == pinned);
    }
  }

  void report_file_claim(const char* event, const char* file, std::string text) {
    const json* e = first({event});
    if (e == nullptr) return;
    const std::string logged = str(details(e), "report_sha256");
    const std::string now = sha_of(sources_.runs_dir / run_id_ / file);
    if (now.empty()) {
      text += " The report file is no longer there (purged).";
    } else if (now == logged) {
      text += " The report file " + std::string(file) + " has this SHA-256 now.";
    } else {
      text += " The report file " + std::string(file) + " HAS CHANGED since (now " + now + ").";
    }
    claim(event == std::string("report.quality") ? "quality" : "disclosure", text, {e},
          now.empty() || now == logged);
  }

  void quality() {
    const json* e = first({"report.quality"});
    if (e == nullptr) return;
    const json& d = details(e);
    const json& x = sub(d, "extract");
    const json& r = sub(d, "return");
    report_file_claim(
        "report.quality", "quality.json",
        "Data-quality report (article 7), dates checked against " + str(d, "as_of") + ": extract " +
            n(num(x, "rows")) + " rows, " + n(num(x, "empty_cells")) + " empty and " +
            n(num(x, "out_of_domain_cells")) + " out-of-domain cells; return " + n(num(r, "rows")) +
            " rows, " + n(num(r, "empty_cells")) + " empty and " +
            n(num(r, "out_of_domain_cells")) + " out-of-domain cells, " +
            n(num(r, "invalid_insz")) + " invalid, " + n(num(r, "duplicate_insz")) +
            " repeated and " + n(num(r, "not_sent")) + " unsent INSZ; " +
            n(num(d, "sent_not_returned")) + " people sent were not returned. Report SHA-256 " +
            str(d, "report_sha256") + ", partner summary SHA-256 " +
            str(d, "partner_summary_sha256") + ".");
  }

  void disclosure() {
    const json* e = first({"report.disclosure"});
    if (e == nullptr) return;
    const json& d = details(e);
    const bool blocked = sub(d, "blocked").is_boolean() && sub(d, "blocked").get<bool>();
    report_file_claim("report.disclosure", "disclosure.json",
                      "Disclosure check of the output (k = " + n(num(d, "k")) + ", action " +
                          str(d, "action") + "): " + n(num(d, "rows")) + " rows in " +
                          n(num(d, "classes")) + " classes, smallest class " +
                          n(num(d, "smallest_class")) + ", " + n(num(d, "rows_in_small_classes")) +
                          " rows in classes smaller than k; " + n(num(d, "suppressed_cells")) +
                          " cells in " + n(num(d, "suppressed_rows")) + " rows suppressed" +
                          (blocked ? "; publication BLOCKED." : ".") + " Report SHA-256 " +
                          str(d, "report_sha256") + ".");
  }

  void merged() {
    const json* e = first({"run.merged"});
    if (e == nullptr) return;
    const json& d = details(e);
    const json& m = sub(d, "merge");
    output_sha_ = str(d, "output_sha256");
    claim("output",
          "Merged and pseudonymised at " + time(e) + ": " + n(num(m, "returned")) +
              " rows returned, " + n(num(m, "output_rows")) +
              " rows in the output (no insz "
              "column; pseudonym mode " +
              str(d, "pseudonym_mode") + "), scan: " + str(d, "scan") + "; output SHA-256 " +
              output_sha_ + ", " + n(num(d, "output_bytes")) + " bytes.",
          {e});
  }

  void published() {
    const json* e = first({"run.published"});
    if (e == nullptr) return;
    const fs::path file = str(details(e), "published_output");
    const std::string now = sha_of(file);
    std::string text = "Published at " + time(e) + " as " + file.filename().string() + " (" +
                       str(details(e), "publish") + ")";
    if (now.empty()) {
      text += "; the file is no longer there.";
    } else if (now == output_sha_) {
      text += "; the published file has the merged output's SHA-256 now.";
    } else {
      text += "; the published file HAS CHANGED since (now " + now + ").";
    }
    claim("publication", text, {e}, now.empty() || now == output_sha_);
  }

  void deleted() {
    const auto removed = all({"remote.delete"});
    if (!removed.empty()) {
      std::string text = "Deleted from the partner's server:";
      for (const json* e : removed) {
        text += " " + str(details(e), "remote_file") + " at " + time(e) + ";";
      }
      text.back() = '.';
      claim("deletion", text, removed);
    }
    if (const json* e = first({"run.cleaned"})) {
      claim("deletion",
            "Clean-up finished at " + time(e) +
                ": the run's working plaintext (work/) wiped and the local copy of the output "
                "removed; the sealed files stay until the retention purge.",
            {e});
    }
  }

  void ended() {
    for (const json* e : all({"run.failed"})) {
      const json& d = details(e);
      const bool retryable = sub(d, "retryable").is_boolean() && sub(d, "retryable").get<bool>();
      claim("end",
            "Failed at " + time(e) + " in state " + str(d, "in_state") + " with " + str(d, "code") +
                (retryable ? " (retryable)." : " (not retried)."),
            {e});
    }
    if (const json* e = first({"run.cancel"})) {
      claim("end", "Cancelled at " + time(e) + " by " + str(sub(*e, "actor"), "name") + ".", {e});
    }
    if (const json* e = first({"run.done"})) claim("end", "Done at " + time(e) + ".", {e});
  }

  void purged() {
    for (const json* e : all({"retention.purge"})) {
      const json& d = details(e);
      claim("retention",
            "Purged at " + time(e) + " by the retention rule (" + n(num(d, "retention_years")) +
                " years; created before " + str(d, "cutoff") +
                "): " + n(num(d, "local_files_removed")) + " local files removed.",
            {e});
    }
  }

  void missing_steps() {
    if (first({"run.done"}) == nullptr) return;
    for (const char* event :
         {"run.extract_sealed", "run.outbound_sealed", "run.download", "run.return_verified",
          "report.quality", "run.merged", "run.published", "run.cleaned"}) {
      if (first({event}) == nullptr) {
        claim("missing", "The run is done but the log has no " + std::string(event) + " entry.", {},
              false);
      }
    }
  }

  void checkpoint() {
    if (entries_.empty()) return;
    const std::uint64_t last = seq(entries_.back());
    if (report_.last_checkpoint_seq >= last) {
      claim("audit",
            "All " + n(entries_.size()) + " entries of this run (up to seq " + n(last) +
                ") are covered by the signed checkpoint at seq " + n(report_.last_checkpoint_seq) +
                " (" + report_.last_checkpoint_time + ").",
            entries_, report_.chain.ok);
    } else {
      claim("audit",
            "Entries of this run after seq " + n(report_.last_checkpoint_seq) +
                " are hash-chained but not yet under a signed checkpoint.",
            entries_, report_.chain.ok);
    }
  }

  const std::vector<const json*>& entries_;
  const EvidenceSources& sources_;
  const EvidenceReport& report_;
  std::string run_id_;
  std::vector<EvidenceClaim> claims_;
  std::string extract_sha_;
  std::string output_sha_;
  std::string profile_;
  std::uint64_t outbound_bytes_ = 0;
};

std::vector<CertificateEvidence> certificates(const EvidenceSources& sources) {
  std::vector<CertificateEvidence> result;
  for (const auto& item : sources.certificates) {
    CertificateEvidence evidence;
    evidence.role = item.role;
    auto loaded = Certificate::load(item.file);
    if (!loaded) {
      evidence.problem = loaded.error().code;
      result.push_back(std::move(evidence));
      continue;
    }
    evidence.subject = loaded->subject();
    evidence.fingerprint_sha256 = loaded->fingerprint_sha256();
    const char* type = loaded->key_type() == KeyType::rsa  ? "RSA"
                       : loaded->key_type() == KeyType::ec ? "EC"
                                                           : "other";
    evidence.key = std::string(type) + " " + std::to_string(loaded->key_bits()) + " bits";
    evidence.valid_from = utc(loaded->not_before());
    evidence.valid_until = utc(loaded->not_after());
    result.push_back(std::move(evidence));
  }
  return result;
}

void read_last_checkpoint(const fs::path& file, EvidenceReport& report) {
  std::ifstream in(file, std::ios::binary);
  std::string line;
  while (std::getline(in, line)) {
    const json checkpoint = json::parse(line, nullptr, false);
    if (!checkpoint.is_object()) continue;
    const std::uint64_t seq = num(checkpoint, "seq");
    if (seq >= report.last_checkpoint_seq) {
      report.last_checkpoint_seq = seq;
      report.last_checkpoint_time = str(checkpoint, "time");
    }
  }
}

}  // namespace

Result<EvidenceReport> build_evidence(const EvidenceSources& sources, const EvidenceScope& scope,
                                      std::chrono::system_clock::time_point now) {
  EvidenceReport report;
  report.generated_at = utc(now);
  report.protocol_id = sources.protocol_id;
  AuditVerifyOptions verify;
  verify.directory = sources.audit_dir;
  verify.certificate = sources.checkpoint_certificate;
  report.chain = verify_audit(verify);
  read_last_checkpoint(sources.audit_dir / "checkpoints.jsonl", report);
  report.certificates = certificates(sources);

  const std::vector<json> entries = read_entries(sources.audit_dir);
  std::map<std::string, std::vector<const json*>> by_run;
  for (const auto& entry : entries) {
    const std::string run = str(entry, "run_id");
    if (!run.empty()) by_run[run].push_back(&entry);
  }
  std::set<std::string> selected;
  if (scope.run_id) {
    report.scope = "run " + *scope.run_id;
    const bool in_store = std::any_of(sources.runs.begin(), sources.runs.end(),
                                      [&](const RunRecord& r) { return r.id == *scope.run_id; });
    if (!in_store && !by_run.contains(*scope.run_id)) {
      return fail("evidence.unknown_run",
                  "no run " + *scope.run_id + " in the run store or the audit log");
    }
    selected.insert(*scope.run_id);
  } else {
    if (!scope.from || !scope.to || *scope.to < *scope.from) {
      return fail("evidence.bad_scope", "give a run id, or --from and --to with from <= to");
    }
    const std::string from = format_date(*scope.from);
    const std::string to = format_date(*scope.to);
    report.scope = from + " .. " + to;
    auto in_range = [&](const std::string& time) {
      const std::string day = time.substr(0, 10);
      return day >= from && day <= to;
    };
    for (const auto& [run, run_entries] : by_run) {
      if (std::any_of(run_entries.begin(), run_entries.end(),
                      [&](const json* e) { return in_range(str(*e, "time")); })) {
        selected.insert(run);
      }
    }
    for (const auto& run : sources.runs) {
      if (in_range(run.created_at_utc)) selected.insert(run.id);
    }
  }
  for (const auto& run_id : selected) {
    RunEvidence run;
    run.run_id = run_id;
    run.state = "purged (not in the run store)";
    for (const auto& record : sources.runs) {
      if (record.id == run_id) run.state = to_string(record.state);
    }
    static const std::vector<const json*> none;
    const auto found = by_run.find(run_id);
    RunClaims claims(found == by_run.end() ? none : found->second, sources, report, run_id);
    run.claims = claims.build();
    report.runs.push_back(std::move(run));
  }
  return report;
}

nlohmann::ordered_json evidence_json(const EvidenceReport& report) {
  nlohmann::ordered_json certificates = nlohmann::ordered_json::array();
  for (const auto& c : report.certificates) {
    certificates.push_back({{"role", c.role},
                            {"subject", c.subject},
                            {"fingerprint_sha256", c.fingerprint_sha256},
                            {"key", c.key},
                            {"valid_from", c.valid_from},
                            {"valid_until", c.valid_until},
                            {"problem", c.problem}});
  }
  nlohmann::ordered_json runs = nlohmann::ordered_json::array();
  for (const auto& run : report.runs) {
    nlohmann::ordered_json claims = nlohmann::ordered_json::array();
    for (const auto& c : run.claims) {
      claims.push_back({{"topic", c.topic},
                        {"statement", c.statement},
                        {"audit_seqs", c.seqs},
                        {"holds", c.holds && report.chain.ok}});
    }
    runs.push_back({{"run_id", run.run_id}, {"state", run.state}, {"claims", claims}});
  }
  return {{"report", "evidence"},
          {"version", 1},
          {"generated_at", report.generated_at},
          {"protocol_id", report.protocol_id},
          {"scope", report.scope},
          {"audit_chain",
           {{"intact", report.chain.ok},
            {"entries", report.chain.entries},
            {"checkpoints", report.chain.checkpoints},
            {"last_checkpoint_seq", report.last_checkpoint_seq},
            {"last_checkpoint_time", report.last_checkpoint_time},
            {"problem", report.chain.first_problem},
            {"code", report.chain.error_code},
            {"file", report.chain.bad_file},
            {"line", report.chain.bad_line}}},
          {"certificates", certificates},
          {"runs", runs}};
}

}  // namespace kbix
