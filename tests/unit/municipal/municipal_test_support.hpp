// Helpers of the municipal tests: synthetic INSZ, our own sealer/opener, files.
#pragma once

#include <string>

#include "kbix/envelope/envelope.hpp"
#include "unit/envelope/envelope_fixture.hpp"

namespace kbix::test {

// A synthetic INSZ that passes the checksum (born 1 Jan 1990, serial `serial`, 1..997).
inline std::string synthetic_insz(int serial) {
  std::string nine = std::to_string(900101000 + serial);
  const long long check = 97 - std::stoll(nine) % 97;
  return nine + (check < 10 ? "0" : "") + std::to_string(check);
}

// Our own state: signed by AgII, encrypted to AgII only (snapshot_sealer_config's shape).
inline Sealer own_sealer() {
  return make_sealer(sealer_config("agii", "agii", "rsa", EnvelopeProfile::gcm));
}
inline Opener own_opener() {
  return make_opener(opener_config("agii", "agii", "rsa"));
}

}  // namespace kbix::test
