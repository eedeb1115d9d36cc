// The evidence report as one self-contained HTML page for a person (no scripts, no external
// resources, prints on A4).
#include "internal/report_text.hpp"
#include "kbix/reports/evidence.hpp"

namespace kbix {

using detail::html_escape;

namespace {

constexpr const char* kStyle = R"(
body { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 14px; margin: 2em; color: #111; }
h1 { font-size: 22px; margin-bottom: 0.2em; } h2 { font-size: 18px; margin-top: 1.6em; }
.meta { color: #444; margin-bottom: 1em; }
.ok, .broken { padding: 0.8em 1em; border-radius: 4px; margin: 1em 0; font-weight: bold; }
.ok { background: #e6f4ea; border: 1px solid #2e7d32; }
.broken { background: #fdecea; border: 1px solid #c62828; color: #8e0000; }
table { border-collapse: collapse; width: 100%; margin: 0.5em 0 1em; }
th, td { border: 1px solid #bbb; padding: 0.35em 0.5em; vertical-align: top; text-align: left; }
th { background: #f0f0f0; } td.seq { font-family: monospace; white-space: nowrap; }
td.topic { white-space: nowrap; } td.no { color: #c62828; font-weight: bold; }
td.yes { color: #2e7d32; } code { font-size: 12px; word-break: break-all; }
.note { color: #444; font-size: 13px; }
)";

std::string seq_list(const std::vector<std::uint64_t>& seqs) {
  if (seqs.empty()) return "none";
  std::string text;
  for (std::size_t i = 0; i < seqs.size(); ++i) {
    if (i == 8 && seqs.size() > 10) {
      text += ", …, " + std::to_string(seqs.back());
      break;
    }
    text += (i == 0 ? "" : ", ") + std::to_string(seqs[i]);
  }
  return text;
}

}  // namespace

std::string evidence_html(const EvidenceReport& r) {
  std::string h = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">";
  h += "<title>kbix evidence: " + html_escape(r.scope) + "</title><style>" + kStyle +
       "</style></head><body>\n";
  h += "<h1>Evidence report: protocol " + html_escape(r.protocol_id) + "</h1>\n";
  h += "<div class=\"meta\">Scope: " + html_escape(r.scope) + " &middot; written " +
       html_escape(r.generated_at) +
       " by kbix from the audit log and the run record (protocol article 6).</div>\n";
  if (r.chain.ok) {
    h += "<div class=\"ok\">Audit chain intact: " + std::to_string(r.chain.entries) + " entries, " +
         std::to_string(r.chain.checkpoints) +
         " signed checkpoints verified; the last checkpoint covers seq " +
         std::to_string(r.last_checkpoint_seq) + " (" + html_escape(r.last_checkpoint_time) +
         ").</div>\n";
  } else {
    h += "<div class=\"broken\">AUDIT CHAIN BROKEN: " + html_escape(r.chain.first_problem) + " (" +
         html_escape(r.chain.error_code) + ", " + html_escape(r.chain.bad_file) + " line " +
         std::to_string(r.chain.bad_line) +
         "). The log has been altered or cut; no claim below can be relied on.</div>\n";
  }
  h += "<p class=\"note\">Each claim names the audit entries it rests on by sequence number "
       "(<code>seq</code>). Print them with <code>kbix audit show --run RUN</code> and verify the "
       "chain without kbix with <code>tests/audit_verifier/verify_audit.py</code> "
       "(docs/audit-log.md). The report holds counts, file names, SHA-256 digests, fingerprints "
       "and times only: no national register number and no personal value.</p>\n";

  h += "<h2>Certificates pinned now</h2>\n<table><tr><th>role</th><th>subject</th>"
       "<th>SHA-256 fingerprint</th><th>key</th><th>valid from</th><th>valid until</th></tr>\n";
  for (const auto& c : r.certificates) {
    if (!c.problem.empty()) {
      h += "<tr><td>" + html_escape(c.role) + "</td><td colspan=\"5\" class=\"no\">not readable (" +
           html_escape(c.problem) + ")</td></tr>\n";
      continue;
    }
    h += "<tr><td>" + html_escape(c.role) + "</td><td>" + html_escape(c.subject) +
         "</td><td><code>" + html_escape(c.fingerprint_sha256) + "</code></td><td>" +
         html_escape(c.key) + "</td><td>" + html_escape(c.valid_from) + "</td><td>" +
         html_escape(c.valid_until) + "</td></tr>\n";
  }
  h += "</table>\n";

  if (r.runs.empty()) h += "<p>No run in this scope.</p>\n";
  for (const auto& run : r.runs) {
    h += "<h2>Run " + html_escape(run.run_id) + " &mdash; " + html_escape(run.state) + "</h2>\n";
    h += "<table><tr><th>topic</th><th>claim</th><th>audit entries (seq)</th><th>holds</th></tr>\n";
    for (const auto& c : run.claims) {
      const bool holds = c.holds && r.chain.ok;
      h += "<tr><td class=\"topic\">" + html_escape(c.topic) + "</td><td>" +
           html_escape(c.statement) + "</td><td class=\"seq\">" + seq_list(c.seqs) + "</td>" +
           (holds ? "<td class=\"yes\">yes</td>" : "<td class=\"no\">NO</td>") + "</tr>\n";
    }
    h += "</table>\n";
  }
  h += "</body></html>\n";
  return h;
}

}  // namespace kbix
