// Sealer and opener set-ups shared by the envelope tests (AgII seals for VDAB and vice versa).
#pragma once

#include <string>

#include "kbix/envelope/envelope.hpp"
#include "unit/envelope/envelope_test_support.hpp"

namespace kbix::test {

// `type` is "rsa" or "ec": which example key set to use.
inline SealerConfig sealer_config(const std::string& from, const std::string& to,
                                  const std::string& type, EnvelopeProfile profile) {
  SealerConfig config;
  config.signing_certificate = key_file(from + "-sign-" + type + ".crt");
  config.signing_key = key_file(from + "-sign-" + type + ".key");
  config.recipient_certificates = {key_file(to + "-enc-" + type + ".crt")};
  config.profile = profile;
  return config;
}

inline OpenerConfig opener_config(const std::string& self, const std::string& signer,
                                  const std::string& type) {
  OpenerConfig config;
  config.our_certificate = key_file(self + "-enc-" + type + ".crt");
  config.our_key = key_file(self + "-enc-" + type + ".key");
  config.pinned_signer_certificates = {key_file(signer + "-sign-" + type + ".crt")};
  return config;
}

inline Sealer make_sealer(const SealerConfig& config) {
  auto sealer = Sealer::create(config);
  if (!sealer) throw std::runtime_error(sealer.error().describe());
  return std::move(*sealer);
}

inline Opener make_opener(const OpenerConfig& config) {
  auto opener = Opener::create(config);
  if (!opener) throw std::runtime_error(opener.error().describe());
  return std::move(*opener);
}

}  // namespace kbix::test
