// kbix-partner-sim: plays VDAB over real SFTP, for the demo and the end-to-end tests.
//
// One pass (process_pending): list the inbox, and for each ready outbound file of a protocol
// (final name, old enough): download it, open it as VDAB (our decryption key, AgII's signing
// certificate pinned), enrich every INSZ with deterministic synthetic VDAB values (people unknown
// to VDAB are left out), seal the return to AgII (signed by VDAB), upload it under the return
// name (temporary name + rename) and remove the outbound file, as a partner that picked it up.
// A pass that finds the return already there only removes the outbound file (idempotent).
// Plaintext exists only in work_dir while a file is processed. Test aid: `corrupt` makes a
// deliberately bad return (see CorruptMode). Never logs INSZ or values.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "kbix/core/result.hpp"
#include "kbix/sftp/sftp.hpp"

namespace kbix::sim {

enum class CorruptMode {
  none,
  extra_column,
  unsent_insz,
  duplicate_insz,
  flip_byte,
  missing_column,
  wrong_signer  // signed with VDAB's encryption key: a VDAB certificate AgII has not pinned
};

Result<CorruptMode> parse_corrupt_mode(const std::string& text);

struct SimulatorOptions {
  SftpSettings sftp;
  std::string inbox_dir = "naar-vdab";
  std::string outbox_dir = "van-vdab";
  std::filesystem::path vdab_decryption_certificate, vdab_decryption_key;
  std::filesystem::path vdab_signing_certificate, vdab_signing_key;
  std::filesystem::path agii_signing_certificate;
  std::filesystem::path agii_encryption_certificate;
  std::string envelope_profile = "gcm";
  std::filesystem::path protocol_file;
  std::filesystem::path work_dir;
  std::uint64_t seed = 11;
  double unknown_rate = 0.05;
  double empty_rate = 0.10;
  std::chrono::milliseconds min_file_age{0};
  CorruptMode corrupt = CorruptMode::none;
};

struct SimulatorReport {
  std::uint64_t files = 0;
  std::uint64_t people_received = 0;
  std::uint64_t people_returned = 0;
  std::vector<std::string> returns_uploaded;
};

Result<SimulatorReport> process_pending(const SimulatorOptions& options);

struct AnsweredOutbound {
  std::string return_name;
  std::uint64_t people_received = 0;
  std::uint64_t people_returned = 0;
};
// The same answer for one outbound file already on the local disk (no SFTP): the sealed return
// is written to `return_dir` under the protocol's return name. For tests of the engine against
// an in-memory remote store.
Result<AnsweredOutbound> answer_outbound(const SimulatorOptions& options,
                                         const std::filesystem::path& sealed_outbound,
                                         const std::filesystem::path& return_dir);

}  // namespace kbix::sim
