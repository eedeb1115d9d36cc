// The one registry of kbix error codes, and ErrorCode: a code the compiler has checked.
//
// Every code kbix produces is one row of kErrorCodes: the code ("<prefix>.<kind>", grouped by
// prefix), what it means for a retry, and one line for operators (docs/errors.md is checked
// against this table by tests/unit/core/error_codes_test.cpp).
//
// ErrorCode has a consteval constructor from a string literal: `fail("run.busy", ...)` compiles
// only when "run.busy" is a row below; a misspelt literal stops the build with "unregistered
// error code". Codes that arrive as text at run time (the control socket's JSON) go through
// find_error_code(), which returns nothing for an unknown text.
//
// Does NOT check: comparisons of Error::code (a std::string) with a literal; the registry test
// greps src/ and tests/ for those.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string_view>

namespace kbix {

// What a retry can do about a failure.
enum class Retry {
  never,  // permanent: the input, the configuration, a key or the partner must change first
  call,   // transient transport failure: the same call may succeed again at once (with_retry)
  step,   // passing local condition (a full disk): the run step may be retried later
};

struct ErrorCodeInfo {
  std::string_view code;
  Retry retry;
  std::string_view meaning;  // one line for operators: what happened and what to do
};

inline constexpr ErrorCodeInfo kErrorCodes[] = {
    // audit: the tamper-evident audit log and its signed checkpoints (verifier findings too)
    {"audit.bad_checkpoint_signature", Retry::never,
     "a checkpoint signature does not verify: the log or its checkpoints were altered; "
     "investigate"},
    {"audit.checkpoint_chain", Retry::never,
     "a checkpoint does not chain to the one before it: checkpoints were removed or replaced"},
    {"audit.checkpoint_mismatch", Retry::never,
     "an entry differs from what its signed checkpoint covers: the log was altered after signing"},
    {"audit.checkpoints_missing", Retry::never,
     "the log has no signed checkpoint covering it: restore checkpoints.jsonl from a copy"},
    {"audit.checkpoints_truncated", Retry::never,
     "the checkpoint file ends in a torn line: restore it from a copy"},
    {"audit.closed", Retry::never, "the audit log was already closed (a bug: report it)"},
    {"audit.encoding", Retry::never, "an audit entry would hold invalid UTF-8 and was refused"},
    {"audit.float", Retry::never,
     "an audit detail is a float (not canonical JSON) and was refused"},
    {"audit.hash_mismatch", Retry::never,
     "an entry's hash does not match its content: the log was altered; investigate"},
    {"audit.io", Retry::never,
     "the audit log cannot be read or written: check the disk and the state directory's rights"},
    {"audit.key_mismatch", Retry::never,
     "the audit signing key does not belong to the configured certificate: fix keys.audit_*"},
    {"audit.malformed", Retry::never, "an audit line is not a valid entry: the log was altered"},
    {"audit.no_copy", Retry::never, "a checkpoint copy holds no checkpoint of this audit log"},
    {"audit.no_log", Retry::never, "no audit log was found where one was expected"},
    {"audit.not_canonical", Retry::never,
     "an audit line is not in canonical JSON: it was rewritten"},
    {"audit.personal_value", Retry::never,
     "an audit detail looked like an INSZ and was refused (privacy guard); report it"},
    {"audit.prev_mismatch", Retry::never,
     "an entry does not chain to the one before it: entries were removed or reordered"},
    {"audit.sequence_gap", Retry::never, "entry numbers skip: entries were removed from the log"},
    {"audit.sign", Retry::never, "a checkpoint cannot be signed with the audit signing key"},
    {"audit.torn_tail", Retry::never,
     "the last line of the log is torn (a crash while writing); kbix cuts it off on start"},
    {"audit.truncated", Retry::never,
     "a checkpoint covers more entries than the log holds: the log was truncated"},
    {"audit.unavailable", Retry::never,
     "an action was refused because its audit entry cannot be written: fix the audit log first"},

    // config: the configuration and protocol files (core)
    {"config.duplicate_exchange", Retry::never,
     "two exchange files use the same exchange name (case-insensitive): rename one"},
    {"config.exceeds_legal_cap", Retry::never,
     "an export protocol lists a field beyond the legal article it cites: the file is refused"},
    {"config.exchange_required", Retry::never,
     "several exchanges are configured: name one with --exchange"},
    {"config.exchanges_dir", Retry::never,
     "the exchanges directory (daemon.exchanges_dir) cannot be read: check path and rights"},
    {"config.missing_file", Retry::never, "a configuration or protocol file cannot be opened"},
    {"config.missing_key", Retry::never, "a required configuration key is missing: add it"},
    {"config.mixed_forms", Retry::never,
     "kbix.toml holds an exchange itself and exchanges_dir holds exchange files: use one form"},
    {"config.no_exchange", Retry::never,
     "no exchange is configured (exchanges_dir holds no *.toml): add an exchange file"},
    {"config.overlapping_exchange", Retry::never,
     "two exchanges read the same source or the same remote return directory: separate them"},
    {"config.path_escape", Retry::never,
     "a configured path leaves the directory it must stay in: fix the path"},
    {"config.range", Retry::never, "a configuration value is out of its allowed range"},
    {"config.reload", Retry::never,
     "a setting that cannot change while kbix runs was changed: restart the daemon instead"},
    {"config.socket", Retry::never,
     "the control socket from systemd cannot be used: check kbix.socket"},
    {"config.syntax", Retry::never, "a configuration file is not valid TOML (file:line:column)"},
    {"config.type", Retry::never, "a configuration value has the wrong type (file:line)"},
    {"config.unknown_column", Retry::never,
     "a protocol names a column its extract does not have: fix the protocol file"},
    {"config.unknown_exchange", Retry::never,
     "no exchange of that name is configured or running: check the name (kbix status)"},
    {"config.unknown_key", Retry::never,
     "a configuration key is not known (a typo?): fix or remove"},
    {"config.unsupported_kind", Retry::never,
     "the protocol's kind is not supported by this version of kbix (only \"roundtrip\")"},
    {"config.value", Retry::never, "a configuration value is not allowed: the message names it"},

    // control: the daemon's control socket and the CLI talking to it (daemon, app)
    {"control.bad_answer", Retry::never, "the daemon's answer is not valid: versions differ?"},
    {"control.bad_request", Retry::never, "a control request is not valid (a CLI/daemon mismatch)"},
    {"control.busy", Retry::never, "too many control connections are open: try again shortly"},
    {"control.forbidden", Retry::never,
     "the caller may not use the control socket: join control_group or use sudo"},
    {"control.in_use", Retry::never, "another kbix daemon already listens on the control socket"},
    {"control.listen", Retry::never, "the control socket cannot be created or used"},
    {"control.no_group", Retry::never, "control_group names a group that does not exist"},
    {"control.refused", Retry::never, "the daemon refused the request without a reason"},
    {"control.timeout", Retry::never, "the daemon did not answer in time: check it is healthy"},
    {"control.unreachable", Retry::never,
     "the daemon is not running or its socket is not reachable: start kbix.service"},

    // csv: reading CSV files (domain)
    {"csv.bare_cr", Retry::never, "a carriage return outside quotes: the file is not RFC 4180"},
    {"csv.bare_quote", Retry::never, "a quote inside an unquoted field (file:line:column)"},
    {"csv.field_too_long", Retry::never, "a field is longer than the limit (file:line:column)"},
    {"csv.invalid_utf8", Retry::never, "the file is not UTF-8 (file:line:column)"},
    {"csv.nul_byte", Retry::never, "the file holds a NUL byte: it is not a text file"},
    {"csv.read", Retry::never, "the file cannot be read (or reading stopped after an error)"},
    {"csv.record_too_long", Retry::never, "a record is longer than the limit (file:line)"},
    {"csv.text_after_quote", Retry::never, "text after a closing quote (file:line:column)"},
    {"csv.too_many_columns", Retry::never, "a record has more columns than the limit"},
    {"csv.too_many_records", Retry::never, "the file has more records than the limit"},
    {"csv.unterminated_quote", Retry::never, "a quoted field is never closed (file:line)"},

    // daemon: the daemon process
    {"daemon.internal_error", Retry::never,
     "a request failed inside the daemon (logged); the daemon goes on: report it"},

    // disclosure: the disclosure-risk check on the output (reports)
    {"disclosure.blocked", Retry::never,
     "the output has classes below k and the protocol says block: nothing was published"},
    {"disclosure.missing_column", Retry::never,
     "the output lacks a column the disclosure check needs (or is empty)"},
    {"disclosure.no_quasi_identifiers", Retry::never,
     "the protocol names no quasi-identifiers for the disclosure check: fix the protocol"},
    {"disclosure.output_changed", Retry::never,
     "the output changed between counting its classes and rewriting it: report it"},

    // envelope: CMS sign+encrypt, decrypt+verify, certificates (envelope)
    {"envelope.bad_profile", Retry::never, "unknown envelope profile: use gcm or cbc"},
    {"envelope.bad_signature", Retry::never,
     "the partner's signature does not verify: the file was altered; file quarantined"},
    {"envelope.decrypt_failed", Retry::never, "the file cannot be decrypted (OpenSSL's reason)"},
    {"envelope.future_signature", Retry::never,
     "the file is signed later than now: check both clocks"},
    {"envelope.integrity", Retry::never,
     "decryption failed its integrity check (tampered, or a wrong key)"},
    {"envelope.key_mismatch", Retry::never, "our private key does not match our certificate"},
    {"envelope.malformed", Retry::never, "the file is not a valid CMS structure"},
    {"envelope.no_pinned_signer", Retry::never, "no partner signer certificate is configured"},
    {"envelope.no_recipients", Retry::never, "no recipient certificate is configured"},
    {"envelope.no_signing_time", Retry::never,
     "the signature has no signingTime, so it cannot be bound to this run: ask the partner"},
    {"envelope.not_cms", Retry::never, "the file is not a CMS file (empty, or another format)"},
    {"envelope.not_encrypted", Retry::never, "a CMS file, but not an encrypted one"},
    {"envelope.not_for_us", Retry::never, "the file is not encrypted to our certificate"},
    {"envelope.not_signed", Retry::never, "the decrypted content is not signed data"},
    {"envelope.profile_mismatch", Retry::never,
     "the envelope uses another profile than the one agreed with the partner"},
    {"envelope.recipient_expired", Retry::never, "the recipient certificate has expired: renew it"},
    {"envelope.recipient_key_type", Retry::never, "the recipient key type is not allowed"},
    {"envelope.recipient_key_usage", Retry::never,
     "the recipient certificate does not allow key encipherment"},
    {"envelope.recipient_not_yet_valid", Retry::never,
     "the recipient certificate is not valid yet: check the clock or the certificate"},
    {"envelope.recipient_weak_key", Retry::never, "the recipient RSA key is too short"},
    {"envelope.replayed", Retry::never,
     "this exact file was already accepted by an earlier run: a replay; file quarantined"},
    {"envelope.seal_failed", Retry::never, "signing or encrypting failed (OpenSSL's reason)"},
    {"envelope.short_tag", Retry::never, "the GCM tag is shorter than 16 bytes: refused"},
    {"envelope.signer_expired", Retry::never,
     "the partner's signing certificate has expired: ask for a new one and pin it"},
    {"envelope.signer_not_yet_valid", Retry::never,
     "the partner's signing certificate is not valid yet: check the clock"},
    {"envelope.stale_signature", Retry::never,
     "the file was signed before this run started: an old file; file quarantined"},
    {"envelope.too_large", Retry::never, "the file is larger than the configured limit"},
    {"envelope.truncated", Retry::never, "the CMS file ends before its structure is complete"},
    {"envelope.unknown_signer", Retry::never,
     "signed by a certificate that is not pinned for this partner; file quarantined"},

    // evidence: the evidence report for auditors (reports)
    {"evidence.bad_scope", Retry::never, "give a run id, or --from and --to with from <= to"},
    {"evidence.unknown_run", Retry::never, "no such run in the audit log"},

    // export: the one-way export of an extract (domain)
    {"export.bad_channel", Retry::never,
     "the channel is not one kbix knows (password: sms, phone, letter, in-person; delivery: "
     "sharepoint, email, sftp)"},
    {"export.bad_text", Retry::never,
     "operator text (a reason, a reference) must be one line of plain text, at most 200 "
     "characters"},
    {"export.delivered_by_kbix", Retry::never,
     "this exchange delivers its lists to the municipality's SFTP server itself: kbix records "
     "the delivery; nothing to record by hand"},
    {"export.delivery_failed", Retry::step,
     "the list could not be placed on the municipality's SFTP server: kbix tries again on a "
     "later tick; see the sftp error in the log"},
    {"export.no_password", Retry::never,
     "this export run has no sealed password (a cms list, not made yet, or removed at the "
     "protocol's end)"},
    {"export.not_an_export", Retry::never,
     "the command is for export runs, and this run's exchange is a round trip"},
    {"export.outbox_conflict", Retry::never,
     "the outbox holds another file under the list's name: move it away, then retry the run"},
    {"export.password_released", Retry::never,
     "the password was released before: a second release needs --again --reason TEXT"},
    {"export.personal_data", Retry::never,
     "operator text looks like it holds a national register number: leave personal data out"},
    {"export.read", Retry::never,
     "the extract could not be read in pieces (it changed while read?): check the extract"},

    // instance: one kbix instance per state directory (exchange)
    {"gen.unknown_column", Retry::never,
     "kbix-gen was asked for a column it cannot make (a bug in the protocol or the generator)"},
    {"instance.locked", Retry::never,
     "another kbix process (the daemon or `kbix run once`) holds the state directory"},

    // insz: national register numbers (domain)
    {"insz.checksum", Retry::never, "an INSZ's check digits do not match (the line is named)"},
    {"insz.format", Retry::never, "an INSZ is not 11 digits (the line is named)"},
    {"insz.month", Retry::never, "an INSZ's month is out of range (the line is named)"},

    // io: local files (core)
    {"io.commit", Retry::step, "a file could not be committed (disk full?): retried later"},
    {"io.create", Retry::step, "a file could not be created (disk full, rights?): retried later"},
    {"io.exists", Retry::never, "a file kbix would create already exists; it is left untouched"},
    {"io.memory", Retry::step,
     "memory for a secret could not be allocated or locked: retried later"},
    {"io.open", Retry::never, "a file cannot be opened for reading"},
    {"io.permissions", Retry::never,
     "a directory's group or mode cannot be set: check control_group and the rights"},
    {"io.read", Retry::never, "a file cannot be read, or is larger than its limit"},
    {"io.remove", Retry::never, "a file cannot be removed: check the rights"},
    {"io.rename", Retry::step, "a file could not be renamed into place: retried later"},
    {"io.sync", Retry::step, "a file could not be synced to disk: retried later"},
    {"io.write", Retry::step, "a file could not be written (disk full?): retried later"},

    // keys: certificates and private keys (envelope)
    {"keys.bad_certificate", Retry::never, "a file is not a PEM or DER X.509 certificate"},
    {"keys.bad_key", Retry::never, "a private key is damaged, or its passphrase is wrong"},
    {"keys.passphrase_needed", Retry::never,
     "the key is encrypted and no passphrase file is configured"},
    {"keys.unreadable", Retry::never, "a key, certificate or passphrase file cannot be read"},

    // merge: merging the partner's return with the sealed extract (domain)
    {"merge.duplicate_in_return", Retry::never, "an INSZ appears twice in the partner's return"},
    {"merge.insz_not_sent", Retry::never,
     "the return holds INSZ that were never sent to the partner: refused"},
    {"merge.invalid_insz", Retry::never, "the return holds an invalid INSZ (the line is named)"},
    {"merge.read", Retry::never,
     "the return could not be read in pieces (it changed while read?): check the return file"},

    // metrics: the Prometheus textfile metrics (metrics)
    {"metrics.no_exchange", Retry::never, "the metrics writer was started without an exchange"},

    // notify: e-mail and webhook notices (notify)
    {"municipal.bad_exchange", Retry::never,
     "a row-reference map was asked for an exchange name that is not valid (a bug)"},
    {"municipal.insz", Retry::never,
     "a row reference was asked for a value that is not a valid INSZ (a bug)"},
    {"municipal.not_export", Retry::never,
     "a municipal list was asked of a protocol that is not an export (a bug)"},
    {"municipal.protocol", Retry::never,
     "a protocol built by hand names a column its extract lacks (a bug: files are checked when "
     "loaded)"},
    {"municipal.read", Retry::never, "the kbi-gemeenten extract cannot be read"},
    {"municipal.references_corrupt", Retry::never,
     "the sealed row-reference map is damaged: restore it from backup"},
    {"municipal.references_foreign", Retry::never,
     "the sealed row-reference map belongs to another exchange: restore the right one"},
    {"municipal.references_full", Retry::never, "the row-reference map reached its size limit"},
    {"municipal.residence", Retry::never,
     "a list limited to residents was asked without the municipality's NIS code: set [export] "
     "residence_nis"},
    {"municipal.too_many_rows", Retry::never,
     "the list would hold more rows than a spreadsheet sheet can"},
    {"notify.send", Retry::never,
     "a notice could not be delivered (after its own retries): check the mail/webhook target"},
    {"notify.setup", Retry::never, "a notification channel cannot be set up: check its settings"},

    // office: protected Excel/ZIP files for municipalities (office)
    {"office.alphabet", Retry::never, "a password alphabet needs 2 to 256 characters (a bug)"},
    {"office.cell_control_character", Retry::never, "a cell holds a control character"},
    {"office.cell_not_utf8", Retry::never, "a cell is not valid UTF-8"},
    {"office.cell_too_long", Retry::never, "a cell is longer than Excel's 32767 characters"},
    {"office.cfb_write", Retry::never, "writing the encrypted Office container failed"},
    {"office.crypto", Retry::never, "OpenSSL failed during Office encryption"},
    {"office.package_empty", Retry::never, "there is nothing to encrypt (a bug)"},
    {"office.password_shape", Retry::never,
     "a file password does not have the agreed shape (3 groups of 7 characters)"},
    {"office.profile_elsewhere", Retry::never, "the cms profile is made by the envelope module"},
    {"office.random", Retry::never, "the random generator failed: the host is unhealthy"},
    {"office.sheet_name", Retry::never, "the sheet name is not allowed by Excel"},
    {"office.table_no_columns", Retry::never, "the list to write has no columns"},
    {"office.table_ragged", Retry::never, "a row of the list has the wrong number of cells"},
    {"office.table_too_long", Retry::never, "the list has more rows than Excel allows"},
    {"office.table_too_wide", Retry::never, "the list has more columns than Excel allows"},
    {"office.unknown_profile", Retry::never,
     "unknown file profile (known: xlsx-agile, zip-aes256, cms)"},
    {"office.xlsx_write", Retry::never, "writing the workbook failed"},
    {"office.zip_aes_unsupported", Retry::never, "this libzip cannot write AES-256 entries"},
    {"office.zip_entry_name", Retry::never, "the ZIP entry needs a plain file name"},
    {"office.zip_write", Retry::never, "writing the ZIP archive failed"},

    // pseudonym: the keyed pseudonym (domain, exchange)
    {"pseudonym.key_missing", Retry::never,
     "the protocol asks for keyed pseudonyms but keys.pseudonym_key is not set"},
    {"pseudonym.key_too_short", Retry::never, "the pseudonym key has fewer than 32 bytes"},
    {"pseudonym.key_unreadable", Retry::never, "the pseudonym key file cannot be read"},

    // run: the runs of an exchange and their store (exchange, runs)
    {"run.already_finished", Retry::never, "the run is already done or cancelled"},
    {"run.ambiguous_extract", Retry::never,
     "more than one KBI extract in the inbox: leave exactly one"},
    {"run.bad_extract_name", Retry::never, "the inbox file name is not allowed: rename it"},
    {"run.bad_request_reference", Retry::never,
     "--request-ref must be one line of plain text (at most 100 characters) without personal data"},
    {"run.busy", Retry::never, "another run is still active: wait for it or cancel it"},
    {"run.db_error", Retry::never, "the run database refused a change (logged): report it"},
    {"run.db_locked", Retry::never, "the run database is locked by another process"},
    {"run.empty_extract", Retry::never, "the KBI extract holds no valid INSZ to send"},
    {"run.exists", Retry::never, "a run with this id exists already"},
    {"run.extract_already_sealed", Retry::never,
     "the extract in a shared inbox was already sealed by an earlier run: put in a new extract"},
    {"run.extract_missing", Retry::never, "the KBI extract left the inbox before it was sealed"},
    {"run.extract_not_regular", Retry::never, "the inbox entry is not a regular file"},
    {"run.internal_error", Retry::never,
     "a run step failed inside kbix (an exception, or a step that disagrees with the run table): "
     "report it"},
    {"run.no_extract", Retry::never, "no KBI extract (*.csv) in the inbox: put one there"},
    {"run.not_retryable", Retry::never, "the run did not fail in a retryable way: start a new run"},
    {"run.not_steppable", Retry::never, "the run is in a state that has no next step"},
    {"run.publish_conflict", Retry::never,
     "the output file exists with other content: it is left untouched; move it away"},
    {"run.reason_personal_data", Retry::never,
     "the reason looks like it holds an INSZ: describe it without personal data"},
    {"run.reason_required", Retry::never, "a forced run needs --reason TEXT (it is audited)"},
    {"run.remote_conflict", Retry::never,
     "a remote file with the run's name exists with other content: check the partner's server"},
    {"run.request_reference_required", Retry::never,
     "this export gives a list only on request: give the municipality's reference with "
     "--request-ref"},
    {"run.state_changed", Retry::never,
     "the run changed state meanwhile (another process acted on it): look again"},
    {"run.unknown", Retry::never, "no such run id"},

    // scan: the final scan of the output for surviving INSZ (domain)
    {"scan.insz_found", Retry::never,
     "an INSZ-like number is in the output: nothing was published; check the protocol"},
    {"scan.key_column", Retry::never, "the output still has the key column: nothing was published"},

    // schedule: when a run may start (runs)
    {"schedule.outside_window", Retry::never,
     "the protocol does not allow a run on this date: wait, or force with a reason"},
    {"schedule.protocol_ended", Retry::never,
     "the protocol's validity has ended (valid_until): it never runs again; retire the exchange"},
    {"schedule.too_soon", Retry::never,
     "the last run is too recent for the protocol: wait, or force with a reason"},

    // schema: the columns of a CSV file against the protocol (domain)
    {"schema.column_order", Retry::never, "a column is not where the protocol expects it"},
    {"schema.duplicate_column", Retry::never, "a column appears twice in the header"},
    {"schema.empty_file", Retry::never, "the file is empty: no header"},
    {"schema.extra_column", Retry::never, "a column is not in the protocol"},
    {"schema.field_count", Retry::never, "a record has another number of fields than the header"},
    {"schema.missing_column", Retry::never, "a column of the protocol is missing"},
    {"schema.no_header", Retry::never, "line 1 is data, not a header"},

    // security: rights of key and trust files (core)
    {"security.key_file_missing", Retry::never, "a key file cannot be read"},
    {"security.key_file_mode", Retry::never,
     "a private key is readable by group or others: chmod 600 it"},
    {"security.key_file_type", Retry::never, "a key path is not a regular file"},
    {"security.known_hosts_mode", Retry::never,
     "known_hosts is writable by group or others: chmod 644 or stricter"},

    // sftp: the SFTP transport (sftp)
    {"sftp.auth_failed", Retry::never,
     "the server refused our key: check the user and that the partner installed our public key"},
    {"sftp.bad_pattern", Retry::never, "an invalid file-name pattern is configured"},
    {"sftp.connect_failed", Retry::call,
     "cannot reach the server (DNS, refused, network): retried with backoff"},
    {"sftp.connection_lost", Retry::call, "the connection dropped mid-transfer: retried"},
    {"sftp.exists", Retry::never, "the remote file exists already: it is never overwritten"},
    {"sftp.host_key_error", Retry::never, "the server's host key cannot be read or checked"},
    {"sftp.host_key_mismatch", Retry::never,
     "the server's host key differs from the pinned one: possible attack; do not just re-pin"},
    {"sftp.host_key_unknown", Retry::never,
     "no host key is pinned for this server: pin the fingerprint checked with the partner"},
    {"sftp.identity", Retry::never, "our SSH private key cannot be read"},
    {"sftp.name_bad_char", Retry::never, "a remote name has a character outside [A-Za-z0-9._-]"},
    {"sftp.name_dots", Retry::never, "a remote name is only dots"},
    {"sftp.name_empty", Retry::never, "a remote name is empty"},
    {"sftp.name_leading_dash", Retry::never, "a remote name starts with '-'"},
    {"sftp.name_too_long", Retry::never, "a remote name is too long"},
    {"sftp.not_connected", Retry::never, "the SFTP session is closed (a bug: report it)"},
    {"sftp.not_found", Retry::never, "the remote file or directory does not exist"},
    {"sftp.not_regular_file", Retry::never, "the remote entry is not a regular file"},
    {"sftp.permission_denied", Retry::never,
     "the server refused the operation: check the account's rights on the partner's side"},
    {"sftp.protocol", Retry::never, "the server answered outside the SFTP protocol"},
    {"sftp.remote_failure", Retry::never, "the server reported a failure (its text is logged)"},
    {"sftp.settings", Retry::never, "an SSH option was refused by libssh: check the sftp settings"},
    {"sftp.short_read", Retry::never, "a remote file changed or shrank while it was read"},
    {"sftp.size_mismatch", Retry::never, "the uploaded size differs from what was sent"},
    {"sftp.timeout", Retry::call, "the server did not answer in time: retried with backoff"},
    {"sftp.too_large", Retry::never, "a remote file is larger than the limit: quarantined"},

    // sim: the partner simulator used by tests and demos (tools/partner_sim), never the daemon
    {"sim.bad_corrupt_mode", Retry::never, "the simulator's --corrupt mode is not known"},
    {"sim.bad_outbound", Retry::never,
     "the simulator was given a file that is not a valid outbound file of the protocol"},
    {"status.bad_date", Retry::never,
     "the date given for a status publication is not YYYY-MM-DD (a bug)"},
    {"status.column_count", Retry::never,
     "a status return row has another number of fields than its header: the whole file is refused"},
    {"status.control_character", Retry::never,
     "a status return holds a control character: the whole file is refused"},
    {"status.duplicate_column", Retry::never,
     "a status return names the reference or status column twice: refused"},
    {"status.duplicate_reference", Retry::never,
     "a status return lists a reference twice: the whole file is refused"},
    {"status.empty", Retry::never, "a status return is empty: refused"},
    {"status.encrypted_workbook", Retry::never,
     "the status return is a password-protected workbook: ask the municipality to save it "
     "without a password (the list's password protects only the list going out)"},
    {"status.invalid_utf8", Retry::never,
     "a status return is not valid UTF-8: the whole file is refused"},
    {"status.malformed", Retry::never,
     "a status return is not valid CSV: the whole file is refused"},
    {"status.missing_column", Retry::never,
     "a status return lacks the reference or status column: refused"},
    {"status.missing_reference", Retry::never,
     "a status return row has a status without a reference: the whole file is refused"},
    {"status.not_regular", Retry::never,
     "a status return is not a regular file (a link, a directory): refused"},
    {"status.not_workbook", Retry::never,
     "the status return is not an Excel workbook (.xlsx) kbix can read: ask the municipality "
     "to save it as an Excel workbook or as CSV UTF-8"},
    {"status.too_deep", Retry::never,
     "the status return workbook nests its XML or its cells beyond kbix's limits: refused"},
    {"status.too_large", Retry::never,
     "a status return is larger than its limit (16 MiB, 1,048,576 rows): refused"},
    {"status.truncated", Retry::never, "a status return ends inside a quoted field: refused"},
    {"status.unknown_reference", Retry::never,
     "a status return holds a reference kbix did not issue in this exchange: the whole file is "
     "refused"},
    {"status.unknown_status", Retry::never,
     "a status return holds a value outside the protocol's closed list: the whole file is refused"},
    {"status.workbook_damaged", Retry::never,
     "the status return workbook's ZIP container or XML is damaged, or uses something kbix "
     "refuses (a DTD, an entity, a sheet outside xl/, a cell twice): ask for a new file"},
};

// The prefixes, the module that produces each, and what the group is about (docs/errors.md).
struct ErrorPrefixInfo {
  std::string_view prefix;
  std::string_view modules;
  std::string_view about;
};

inline constexpr ErrorPrefixInfo kErrorPrefixes[] = {
    {"audit", "audit", "the tamper-evident audit log, its signed checkpoints and the verifier"},
    {"config", "core", "the configuration and protocol files"},
    {"control", "daemon, app", "the daemon's control socket and the command line talking to it"},
    {"csv", "domain", "reading CSV files (RFC 4180, UTF-8)"},
    {"daemon", "daemon", "the daemon process"},
    {"disclosure", "reports", "the disclosure-risk check on the output"},
    {"envelope", "envelope", "CMS sign+encrypt and decrypt+verify, partner certificates"},
    {"evidence", "reports", "the evidence report for auditors"},
    {"export", "domain, exchange", "the one-way export of an extract and the municipal lists"},
    {"gen", "tools", "the synthetic data generator kbix-gen"},
    {"instance", "exchange", "one kbix process per state directory"},
    {"insz", "domain", "national register numbers"},
    {"io", "core", "local files"},
    {"keys", "envelope", "certificates, private keys and passphrases"},
    {"merge", "domain", "merging the partner's return with the sealed extract"},
    {"metrics", "metrics", "the Prometheus textfile metrics"},
    {"municipal", "municipal", "municipal lists and their row references"},
    {"notify", "notify", "e-mail and webhook notices"},
    {"office", "office", "protected Excel and ZIP files for municipalities"},
    {"pseudonym", "domain, exchange", "the keyed pseudonym"},
    {"run", "exchange, runs", "the runs of an exchange, their steps and their store"},
    {"scan", "domain", "the final scan of the output for surviving INSZ"},
    {"schedule", "runs", "when a run may start"},
    {"schema", "domain", "the columns of a CSV file against the protocol"},
    {"security", "core", "rights of key and trust files"},
    {"sftp", "sftp", "the SFTP transport"},
    {"sim", "tools", "the partner simulator used by tests and demos"},
    {"status", "municipal", "the status a municipality sends back (template protocol)"},
};

// The index of `code` in the registry, or std::size(kErrorCodes) when it is not registered.
constexpr std::size_t error_code_index(std::string_view code) {
  std::size_t index = 0;
  while (index < std::size(kErrorCodes) && kErrorCodes[index].code != code) ++index;
  return index;
}

// The registry row of `code`, or nothing when the text is not a registered code.
constexpr const ErrorCodeInfo* find_error_code(std::string_view code) {
  const std::size_t index = error_code_index(code);
  return index < std::size(kErrorCodes) ? &kErrorCodes[index] : nullptr;
}

// An error code checked against the registry: at compile time from a literal, at run time
// through ErrorCode::from_text.
class ErrorCode {
 public:
  // Fails to compile ("unregistered error code") for a literal that is not in kErrorCodes.
  template <std::size_t N>
  // The check compares an index, not a pointer: GCC's -fsanitize=undefined makes a comparison of
  // a pointer into the table with nullptr no longer a constant expression.
  consteval ErrorCode(const char (&literal)[N])  // NOLINT: implicit on purpose
      : info_(checked(error_code_index(std::string_view(literal, N - 1)))) {}
  // For codes that arrive as text: nothing when the text is not registered.
  static std::optional<ErrorCode> from_text(std::string_view code) {
    const ErrorCodeInfo* info = find_error_code(code);
    if (info == nullptr) return std::nullopt;
    return ErrorCode(info);
  }

  [[nodiscard]] constexpr std::string_view text() const { return info_->code; }
  [[nodiscard]] constexpr Retry retry() const { return info_->retry; }
  [[nodiscard]] constexpr std::string_view meaning() const { return info_->meaning; }
  friend constexpr bool operator==(ErrorCode a, ErrorCode b) { return a.info_ == b.info_; }

 private:
  constexpr explicit ErrorCode(const ErrorCodeInfo* info) : info_(info) {}
  static consteval const ErrorCodeInfo* checked(std::size_t index) {
    if (index >= std::size(kErrorCodes)) {
      throw "unregistered error code: add it to kErrorCodes in error_codes.hpp";
    }
    return &kErrorCodes[index];
  }
  const ErrorCodeInfo* info_;
};

// The retry meaning of a code given as text (an unknown text never retries).
constexpr Retry retry_of(std::string_view code) {
  const ErrorCodeInfo* info = find_error_code(code);
  return info == nullptr ? Retry::never : info->retry;
}

std::string_view to_string(Retry retry);

}  // namespace kbix
