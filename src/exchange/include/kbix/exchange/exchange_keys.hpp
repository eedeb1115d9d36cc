// The keys of one exchange, from its configuration ([keys] and [partner]): the sealers and
// openers of a run, and what `kbix keys check` (and the certificate notices and metrics) look at.
//
// The envelope module seals and opens with what it is given and knows no configuration; which
// certificate serves which file of a run is the exchange's knowledge, written here once.
//
// Does NOT guarantee: that a configured file exists or loads (Sealer::create, Opener::create and
// check_keys say so, each with the file named).
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "kbix/config/config.hpp"
#include "kbix/core/result.hpp"
#include "kbix/envelope/envelope.hpp"
#include "kbix/envelope/keys.hpp"

namespace kbix {

// The four uses in a run, built from the configuration (keys and partner sections):
// outbound files: to the partner's newest valid encryption certificate (newest_valid_certificate)
// AND to our own decryption certificate, the partner's profile;
Result<SealerConfig> outbound_sealer_config(
    const Config& config,
    std::chrono::system_clock::time_point now = std::chrono::system_clock::now());
// KBI snapshots: to our own decryption certificate only, gcm;
SealerConfig snapshot_sealer_config(const Config& config);
// returns: opened with our decryption key (then the previous ones), every listed partner signing
// certificate pinned, the partner's profile required (the caller adds the run's signing window);
OpenerConfig return_opener_config(const Config& config);
// snapshots and our own outbound files: opened with our decryption key (then the previous ones),
// our signing certificate and the previous ones pinned, each valid when it signed.
OpenerConfig own_file_opener_config(const Config& config);

// What `kbix keys check` looks at: a labelled certificate, optionally with its private key.
struct KeyCheckItem {
  KeyCheckItem() = default;
  KeyCheckItem(std::string label_, std::filesystem::path certificate_,
               std::optional<std::filesystem::path> private_key_ = std::nullopt,
               std::string list_ = {}, bool selects_newest_ = false, bool previous_ = false)
      : label(std::move(label_)),
        certificate(std::move(certificate_)),
        private_key(std::move(private_key_)),
        list(std::move(list_)),
        selects_newest(selects_newest_),
        previous(previous_) {}

  std::string label;  // "signing", "partner encryption", ...
  std::filesystem::path certificate;
  std::optional<std::filesystem::path> private_key;
  // Rollover: items of one list share `list` (empty: a certificate on its own). An expired or
  // soon-expiring entry is only a warning while another entry of its list is valid beyond the
  // warning period; a list holding only such entries fails. `selects_newest`: the list is used
  // through newest_valid_certificate (the chosen entry is marked "used now"), otherwise every
  // valid entry is accepted. `previous`: an earlier key kept to open older files; its expiry is
  // no problem (its key must still load and match).
  std::string list;
  bool selects_newest = false;
  bool previous = false;
};

struct KeyCheckLine {
  std::string label;
  bool ok = false;
  bool warning = false;  // ok, but shown as "WARN" (an expired entry covered by its list)
  std::string text;  // one line for the operator: fingerprint, subject, expiry, days left or error
};

struct KeyCheckReport {
  std::vector<KeyCheckLine> lines;
  bool ok() const;
  std::string to_text() const;  // one line per item, "OK"/"WARN"/"FAIL" first
};

// What `kbix keys check` checks for a configuration: our signing and decryption certificates with
// their keys, our previous keys and certificates, and every listed partner encryption and signing
// certificate (labels numbered "#N" when a list holds several, so each label is unique).
std::vector<KeyCheckItem> key_check_items(const Config& config);

// Loads every item; an item fails when it cannot be loaded, its key does not match its
// certificate, it is not yet valid, or it expires within `warning_days` of `now`.
KeyCheckReport check_keys(
    const std::vector<KeyCheckItem>& items,
    const std::optional<std::filesystem::path>& passphrase_file, int warning_days,
    std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

}  // namespace kbix
