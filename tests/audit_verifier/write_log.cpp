// Writes an audit log with kbix's own code for the independent verifier (verify_audit.py):
// 300 entries with non-ASCII text, nested details, nulls and rotation.
#include <iostream>

#include "kbix/audit/audit.hpp"

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: write_log DIR SIGNING_KEY SIGNING_CERT\n";
    return 2;
  }
  kbix::AuditSettings options;
  options.checkpoint_journal = false;  // a test's checkpoints stay out of the system journal
  options.directory = argv[1];
  options.signing_key = argv[2];
  options.signing_certificate = argv[3];
  options.rotate_bytes = 16384;
  options.checkpoint_every = 50;
  auto log = kbix::AuditLog::open(options);
  if (!log) {
    std::cerr << log.error().describe() << "\n";
    return 1;
  }
  for (int i = 0; i < 300; ++i) {
    kbix::AuditEvent event{i % 3 ? "20261122T135500Z-3f9a" : "",
                           i % 2 ? kbix::AuditActor{"alice", 1000} : kbix::scheduler_actor(),
                           "test.event",
                           {{"index", i},
                            {"text", "ëé 漢字 \"quoted\" \\ tab\t"},
                            {"nested", {{"z", 1}, {"a", {true, false, nullptr}}}}}};
    if (!log->append(event)) return 1;
  }
  return log->close() ? 0 : 1;
}
