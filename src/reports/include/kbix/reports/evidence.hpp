// Evidence: the report for the DPO that proves, from the audit log and the run record, what
// happened in one run or in a period (protocol article 6: each party must be able to prove, on
// simple request, that the measures were taken).
//
// Every claim names the audit entries it rests on (sequence numbers), so an auditor can check it
// with the independent verifier (tests/audit_verifier/verify_audit.py); claims compare what the
// log says with what is on disk now (SHA-256 of the report files and the published output, the
// pinned certificates and known_hosts file) and say when they differ. The chain and its signed
// checkpoints are verified at the moment of writing: a broken chain is said at the top, with the
// file and line of the first problem, and every claim is then marked as resting on a broken log.
// The report holds counts, file names, SHA-256 digests, fingerprints and times: no INSZ and no
// personal value (the audit log holds none, and only named fields of it are shown).
// Does NOT guarantee: anything the log does not record (what the partner did on its own side), nor
// the truth of a log rewritten by someone holding the signing key (see audit_verify.hpp).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "kbix/audit/audit_verify.hpp"
#include "kbix/core/result.hpp"
#include "kbix/runs/run_store.hpp"

namespace kbix {

struct EvidenceCertificate {
  std::string role;  // "partner encryption", ...
  std::filesystem::path file;
};

struct EvidenceSources {
  std::filesystem::path audit_dir;                              // <state_dir>/audit
  std::optional<std::filesystem::path> checkpoint_certificate;  // pinned checkpoint signer
  std::filesystem::path runs_dir;                               // <state_dir>/runs
  std::filesystem::path output_dir;                             // published outputs
  std::filesystem::path known_hosts_file;                       // the SFTP pin
  std::vector<EvidenceCertificate> certificates;
  std::string protocol_id;
  std::string envelope_profile;  // "gcm" or "cbc"
  std::vector<RunRecord> runs;   // from the run store (newest first)
};

struct EvidenceScope {
  std::optional<std::string> run_id;          // one run
  std::optional<std::chrono::sys_days> from;  // or every run with an entry in [from, to]
  std::optional<std::chrono::sys_days> to;    // inclusive
};

struct EvidenceClaim {
  std::string topic;      // "sent", "envelope", "sftp", "return", "quality", ...
  std::string statement;  // one sentence for a person
  std::vector<std::uint64_t> seqs;
  bool holds = true;  // false when the log and the disk disagree, or a step is missing
};

struct RunEvidence {
  std::string run_id;
  std::string state;  // from the run store, "purged" when it is no longer there
  std::vector<EvidenceClaim> claims;
};

struct CertificateEvidence {
  std::string role;
  std::string subject;
  std::string fingerprint_sha256;
  std::string key;  // "RSA 3072 bits"
  std::string valid_from;
  std::string valid_until;
  std::string problem;  // "" when loaded
};

struct EvidenceReport {
  std::string generated_at;  // UTC
  std::string protocol_id;
  std::string scope;  // "run X" or "2026-01-01 .. 2026-12-31"
  AuditVerifyReport chain;
  std::uint64_t last_checkpoint_seq = 0;
  std::string last_checkpoint_time;
  std::vector<CertificateEvidence> certificates;
  std::vector<RunEvidence> runs;
};

// Errors: evidence.unknown_run (no run and no audit entry with that id), evidence.bad_scope.
Result<EvidenceReport> build_evidence(
    const EvidenceSources& sources, const EvidenceScope& scope,
    std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

std::string evidence_html(const EvidenceReport& report);
nlohmann::ordered_json evidence_json(const EvidenceReport& report);

}  // namespace kbix
