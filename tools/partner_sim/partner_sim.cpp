#include "partner_sim/partner_sim.hpp"

#include <fstream>
#include <unordered_set>

#include "kbix/core/protocol.hpp"
#include "kbix/domain/csv.hpp"
#include "kbix/domain/insz.hpp"
#include "kbix/envelope/envelope.hpp"
#include "kbix/runs/run_id.hpp"
#include "synthetic.hpp"

namespace kbix::sim {

namespace fs = std::filesystem;

Result<CorruptMode> parse_corrupt_mode(const std::string& text) {
  if (text.empty() || text == "none") return CorruptMode::none;
  if (text == "extra-column") return CorruptMode::extra_column;
  if (text == "missing-column") return CorruptMode::missing_column;
  if (text == "unsent-insz") return CorruptMode::unsent_insz;
  if (text == "duplicate-insz") return CorruptMode::duplicate_insz;
  if (text == "flip-byte") return CorruptMode::flip_byte;
  if (text == "wrong-signer") return CorruptMode::wrong_signer;
  if (text == "other-profile") return CorruptMode::other_profile;
  if (text == "replay") return CorruptMode::replay;
  if (text == "oversized") return CorruptMode::oversized;
  return fail("sim.bad_corrupt_mode", "unknown --corrupt mode '" + text + "'");
}

namespace {

// "<protocol>_<run-id>.csv.p7m" -> run id
std::optional<std::string> outbound_run_id(const std::string& protocol_id,
                                           const std::string& name) {
  const std::string prefix = protocol_id + "_";
  const std::string suffix = ".csv.p7m";
  if (!name.starts_with(prefix) || !name.ends_with(suffix)) return std::nullopt;
  const std::string id = name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
  if (!is_valid_run_id(id)) return std::nullopt;
  return id;
}

// Reads the outbound CSV and writes the return CSV; returns (received, returned).
Result<std::pair<std::uint64_t, std::uint64_t>> enrich(const SimulatorOptions& options,
                                                       const Protocol& protocol,
                                                       const fs::path& in_file,
                                                       const fs::path& out_file) {
  std::ifstream in(in_file, std::ios::binary);
  std::ofstream out(out_file, std::ios::binary | std::ios::trunc);
  CsvReader reader(in, "outbound.csv");
  CsvWriter writer(out);
  std::vector<std::string> fields;
  auto header = reader.next(fields);
  if (!header) return fail(std::move(header).error());
  if (!*header || fields != std::vector<std::string>{protocol.key_column}) {
    return fail("sim.bad_outbound", "the outbound file's header is not exactly 'insz'");
  }
  std::vector<std::string> columns = protocol.return_columns;
  if (options.corrupt == CorruptMode::extra_column) columns.push_back("extra_kolom");
  if (options.corrupt == CorruptMode::missing_column) columns.pop_back();
  writer.write_row(columns);
  std::uint64_t received = 0, returned = 0;
  std::unordered_set<std::string> sent;
  std::vector<std::string> first_row;
  for (;;) {
    auto more = reader.next(fields);
    if (!more) return fail(std::move(more).error());
    if (!*more) break;
    ++received;
    if (fields.size() != 1 || !Insz::parse(fields[0])) {
      return fail("sim.bad_outbound", reader.where(1) + "not a valid INSZ");
    }
    sent.insert(fields[0]);
    auto values =
        synthetic::vdab_fields(options.seed, fields[0], options.unknown_rate, options.empty_rate);
    if (!values) continue;
    std::vector<std::string> row = {fields[0]};
    row.insert(row.end(), values->begin(), values->end());
    if (options.corrupt == CorruptMode::extra_column) row.push_back("x");
    if (options.corrupt == CorruptMode::missing_column) row.pop_back();
    writer.write_row(row);
    if (first_row.empty()) first_row = row;
    ++returned;
  }
  if (options.corrupt == CorruptMode::duplicate_insz && !first_row.empty()) {
    writer.write_row(first_row);
  }
  if (options.corrupt == CorruptMode::unsent_insz) {
    for (std::uint64_t i = 0;; ++i) {
      const std::string stranger = synthetic::make_insz(options.seed + 424242, i, 0.0);
      if (sent.contains(stranger)) continue;
      std::vector<std::string> row = {stranger};
      auto values = synthetic::vdab_fields(options.seed, stranger, 0.0, 0.0);
      row.insert(row.end(), values->begin(), values->end());
      writer.write_row(row);
      break;
    }
  }
  out.flush();
  if (!out) return fail("io.write", "cannot write " + out_file.string());
  return std::pair{received, returned};
}

Status append_padding(const fs::path& file, std::size_t bytes) {
  std::ofstream out(file, std::ios::binary | std::ios::app);
  const std::string padding(bytes, '\0');
  out.write(padding.data(), static_cast<std::streamsize>(padding.size()));
  if (!out) return fail("io.write", "cannot pad " + file.string());
  return ok();
}

Status flip_middle_byte(const fs::path& file) {
  std::fstream io(file, std::ios::binary | std::ios::in | std::ios::out);
  const auto size = fs::file_size(file);
  io.seekg(static_cast<std::streamoff>(size / 2));
  char byte = 0;
  io.read(&byte, 1);
  byte = static_cast<char>(byte ^ 0x01);
  io.seekp(static_cast<std::streamoff>(size / 2));
  io.write(&byte, 1);
  if (!io) return fail("io.write", "cannot corrupt " + file.string());
  return ok();
}

// Opens one outbound file as VDAB, enriches it and seals the return to `sealed_out`; plaintext
// only in options.work_dir, removed before returning. Returns (received, returned).
Result<std::pair<std::uint64_t, std::uint64_t>> answer_file(
    const SimulatorOptions& options, const Protocol& protocol, EnvelopeProfile profile,
    const std::string& run_id, const fs::path& sealed_in, const fs::path& sealed_out) {
  const fs::path plain_in = options.work_dir / (run_id + ".in.csv");
  const fs::path plain_out = options.work_dir / (run_id + ".out.csv");
  auto result = [&]() -> Result<std::pair<std::uint64_t, std::uint64_t>> {
    OpenerConfig opener_config;
    opener_config.our_certificate = options.vdab_decryption_certificate;
    opener_config.our_key = options.vdab_decryption_key;
    opener_config.pinned_signer_certificates = {options.agii_signing_certificate};
    auto opener = Opener::create(opener_config);
    if (!opener) return fail(std::move(opener).error());
    auto opened = opener->open(sealed_in, plain_in);
    if (!opened) return fail(std::move(opened).error());
    auto counts = enrich(options, protocol, plain_in, plain_out);
    if (!counts) return fail(std::move(counts).error());
    const bool wrong_signer = options.corrupt == CorruptMode::wrong_signer;
    auto sealer = Sealer::create(
        {wrong_signer ? options.vdab_decryption_certificate : options.vdab_signing_certificate,
         wrong_signer ? options.vdab_decryption_key : options.vdab_signing_key,
         std::nullopt,
         {options.agii_encryption_certificate},
         options.corrupt != CorruptMode::other_profile ? profile
         : profile == EnvelopeProfile::gcm             ? EnvelopeProfile::cbc
                                                       : EnvelopeProfile::gcm});
    if (!sealer) return fail(std::move(sealer).error());
    auto sealed = sealer->seal(plain_out, sealed_out);
    if (!sealed) return fail(std::move(sealed).error());
    if (options.corrupt == CorruptMode::flip_byte) KBIX_TRY(flip_middle_byte(sealed_out));
    if (options.corrupt == CorruptMode::oversized) KBIX_TRY(append_padding(sealed_out, 2 << 20));
    if (options.corrupt == CorruptMode::replay) {
      const fs::path replay_source = options.work_dir / "replay-source.p7m";
      std::error_code copy_error;
      if (fs::exists(replay_source)) {
        fs::copy_file(replay_source, sealed_out, fs::copy_options::overwrite_existing, copy_error);
      } else {
        fs::copy_file(sealed_out, replay_source, copy_error);
      }
      if (copy_error) return fail("io.write", "cannot keep or replay the first return");
    }
    return counts;
  }();
  std::error_code ignored;
  fs::remove(plain_in, ignored);
  fs::remove(plain_out, ignored);
  return result;
}

}  // namespace

Result<SimulatorReport> process_pending(const SimulatorOptions& options) {
  auto protocol = load_protocol(options.protocol_file);
  if (!protocol) return fail(std::move(protocol).error());
  auto profile = parse_envelope_profile(options.envelope_profile);
  if (!profile) return fail(std::move(profile).error());
  std::error_code error;
  fs::create_directories(options.work_dir, error);
  fs::permissions(options.work_dir, fs::perms::owner_all, error);

  auto client = SftpClient::connect(options.sftp);
  if (!client) return fail(std::move(client).error());
  auto listing = client->list(options.inbox_dir);
  if (!listing) return fail(std::move(listing).error());

  SimulatorReport report;
  const auto now = std::chrono::system_clock::now();
  for (const auto& entry : listing->entries) {
    const auto run_id = outbound_run_id(protocol->id, entry.name);
    if (!run_id || !entry.is_regular_file || now - entry.modified < options.min_file_age) continue;
    const std::string return_name = return_remote_name(protocol->id, *run_id);
    if (client->stat(options.outbox_dir, return_name)) {
      auto removed = client->remove(options.inbox_dir, entry.name);
      if (!removed && removed.error().code != "sftp.not_found") return fail(removed.error());
      continue;
    }
    const fs::path sealed_in = options.work_dir / (*run_id + ".in.p7m");
    const fs::path sealed_out = options.work_dir / (*run_id + ".out.p7m");
    auto clean = [&] {
      for (const auto& file : {sealed_in, sealed_out}) fs::remove(file, error);
    };
    clean();
    auto result = [&]() -> Status {
      auto got = client->download(options.inbox_dir, entry.name, sealed_in);
      if (!got) return fail(std::move(got).error());
      auto counts = answer_file(options, *protocol, *profile, *run_id, sealed_in, sealed_out);
      if (!counts) return fail(std::move(counts).error());
      auto sent = client->upload(sealed_out, options.outbox_dir, return_name);
      if (!sent) return fail(std::move(sent).error());
      report.people_received += counts->first;
      report.people_returned += counts->second;
      report.returns_uploaded.push_back(return_name);
      ++report.files;
      auto removed = client->remove(options.inbox_dir, entry.name);
      if (!removed && removed.error().code != "sftp.not_found") return removed;
      return ok();
    }();
    clean();
    if (!result) {
      Error named = std::move(result).error();
      named.message = entry.name + ": " + named.message;
      return fail(std::move(named));
    }
  }
  return report;
}

Result<AnsweredOutbound> answer_outbound(const SimulatorOptions& options,
                                         const fs::path& sealed_outbound,
                                         const fs::path& return_dir) {
  auto protocol = load_protocol(options.protocol_file);
  if (!protocol) return fail(std::move(protocol).error());
  auto profile = parse_envelope_profile(options.envelope_profile);
  if (!profile) return fail(std::move(profile).error());
  const auto run_id = outbound_run_id(protocol->id, sealed_outbound.filename().string());
  if (!run_id) return fail("sim.bad_outbound", "not an outbound file name of this protocol");
  std::error_code error;
  fs::create_directories(options.work_dir, error);
  fs::permissions(options.work_dir, fs::perms::owner_all, error);
  AnsweredOutbound answered;
  answered.return_name = return_remote_name(protocol->id, *run_id);
  auto counts = answer_file(options, *protocol, *profile, *run_id, sealed_outbound,
                            return_dir / answered.return_name);
  if (!counts) return fail(std::move(counts).error());
  answered.people_received = counts->first;
  answered.people_returned = counts->second;
  return answered;
}

}  // namespace kbix::sim
