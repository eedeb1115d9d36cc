// A minimal command line around Sealer/Opener for the 500 MB benchmark (run-benchmark.sh), so
// that kbix is measured by the same /usr/bin/time -v as the openssl CLI.
//
//   envelope_cli seal KEY_DIR rsa|ec gcm|cbc INPUT OUTPUT   (AgII seals for VDAB)
//   envelope_cli open KEY_DIR rsa|ec INPUT OUTPUT           (VDAB opens, AgII pinned)
//   envelope_cli open-memory KEY_DIR rsa|ec INPUT           (the same into anonymous memory,
//                                                            read back once as the merge does)
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "kbix/envelope/envelope.hpp"
#include "kbix/envelope/sealed_bytes.hpp"

namespace {

int usage() {
  std::fprintf(stderr,
               "usage: envelope_cli seal KEY_DIR rsa|ec gcm|cbc INPUT OUTPUT\n"
               "       envelope_cli open KEY_DIR rsa|ec INPUT OUTPUT\n"
               "       envelope_cli open-memory KEY_DIR rsa|ec INPUT\n");
  return 2;
}

int report_error(const kbix::Error& error) {
  std::fprintf(stderr, "envelope_cli: %s\n", error.describe().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage();
  const std::string command = argv[1];
  if (command == "seal" && argc == 7) {
    const std::string keys = argv[2];
    const std::string type = argv[3];
    auto profile = kbix::parse_envelope_profile(argv[4]);
    if (!profile) return report_error(profile.error());
    kbix::SealerConfig config;
    config.signing_certificate = keys + "/agii-sign-" + type + ".crt";
    config.signing_key = keys + "/agii-sign-" + type + ".key";
    config.recipient_certificates = {keys + "/vdab-enc-" + type + ".crt",
                                     keys + "/agii-enc-" + type + ".crt"};
    config.profile = *profile;
    auto sealer = kbix::Sealer::create(config);
    if (!sealer) return report_error(sealer.error());
    auto report = sealer->seal(argv[5], argv[6]);
    if (!report) return report_error(report.error());
    return 0;
  }
  if ((command == "open" && argc == 6) || (command == "open-memory" && argc == 5)) {
    const std::string keys = argv[2];
    const std::string type = argv[3];
    kbix::OpenerConfig config;
    config.our_certificate = keys + "/vdab-enc-" + type + ".crt";
    config.our_key = keys + "/vdab-enc-" + type + ".key";
    config.pinned_signer_certificates = {keys + "/agii-sign-" + type + ".crt"};
    auto opener = kbix::Opener::create(config);
    if (!opener) return report_error(opener.error());
    if (command == "open") {
      auto report = opener->open(argv[4], argv[5]);
      if (!report) return report_error(report.error());
      return 0;
    }
    auto opened = kbix::open_into_memory(*opener, argv[4]);
    if (!opened) return report_error(opened.error());
    std::vector<char> piece(1 << 20);
    std::uint64_t read_back = 0;
    for (ssize_t got = 0; (got = ::pread(opened->fd(), piece.data(), piece.size(),
                                         static_cast<off_t>(read_back))) > 0;) {
      read_back += static_cast<std::uint64_t>(got);
    }
    return read_back == opened->size() ? 0 : 1;
  }
  return usage();
}
