// The keys of an exchange: the sealers and openers of a run from its configuration, and `kbix keys
// check` (what is configured, whether it loads, and what a rollover overlap covers).
#include "kbix/exchange/exchange_keys.hpp"

#include <map>
#include <set>
#include <sstream>

#include "kbix/core/utc_time.hpp"
#include "kbix/envelope/keys.hpp"

namespace kbix {
namespace {

using Clock = std::chrono::system_clock;
// A configured certificate list; a Config built in code may set only the single field.
std::vector<std::filesystem::path> listed_or_single(const std::vector<std::filesystem::path>& list,
                                                    const std::filesystem::path& single) {
  if (!list.empty() || single.empty()) return list;
  return {single};
}

enum class Validity { unreadable, not_yet_valid, expired, expiring, good };

struct Examined {
  std::optional<Certificate> certificate;
  Validity validity = Validity::unreadable;
  std::string text;         // fingerprint, subject, expiry (or the load error)
  std::string key_problem;  // the private key does not load or match
};

Examined examine(const KeyCheckItem& item,
                 const std::optional<std::filesystem::path>& passphrase_file, int warning_days,
                 Clock::time_point now) {
  Examined result;
  auto certificate = Certificate::load(item.certificate);
  if (!certificate) {
    result.text = certificate.error().describe();
    return result;
  }
  const auto left = certificate->not_after() - now;
  const long days_left =
      static_cast<long>(std::chrono::floor<std::chrono::hours>(left).count() / 24);
  std::ostringstream text;
  text << "sha256:" << certificate->fingerprint_sha256() << " subject \"" << certificate->subject()
       << "\" expires " << utc_timestamp(certificate->not_after()) << " (" << days_left
       << " days left)";
  result.text = text.str();
  if (certificate->not_before() > now) {
    result.validity = Validity::not_yet_valid;
  } else if (left <= Clock::duration::zero()) {
    result.validity = Validity::expired;
  } else if (days_left < warning_days) {
    result.validity = Validity::expiring;
  } else {
    result.validity = Validity::good;
  }
  if (item.private_key) {
    auto key = PrivateKey::load(*item.private_key, passphrase_file);
    if (!key) {
      result.key_problem = key.error().describe();
    } else if (!key->matches(*certificate)) {
      result.key_problem =
          item.private_key->string() + ": private key does not match the certificate";
    }
  }
  result.certificate = std::move(*certificate);
  return result;
}

std::string problem_of(Validity validity, int warning_days) {
  switch (validity) {
    case Validity::not_yet_valid:
      return "not yet valid";
    case Validity::expired:
      return "EXPIRED";
    case Validity::expiring:
      return "expires within the warning period of " + std::to_string(warning_days) + " days";
    case Validity::unreadable:
    case Validity::good:
      break;
  }
  return "";
}

bool valid_now(const Examined& examined) {
  return examined.validity == Validity::good || examined.validity == Validity::expiring;
}

// "partner X signing certificate" with N entries: "... #1", "... #2"; one entry: unchanged.
std::vector<KeyCheckItem> numbered(const std::string& label, const std::string& suffix,
                                   const std::vector<std::filesystem::path>& files,
                                   const std::string& list, bool selects_newest) {
  std::vector<KeyCheckItem> items;
  for (std::size_t i = 0; i < files.size(); ++i) {
    const std::string number = files.size() > 1 ? " #" + std::to_string(i + 1) : "";
    items.push_back({label + number + suffix, files[i], std::nullopt, list, selects_newest, false});
  }
  return items;
}

}  // namespace

Result<SealerConfig> outbound_sealer_config(const Config& config,
                                            std::chrono::system_clock::time_point now) {
  auto profile = parse_envelope_profile(config.partner.envelope_profile);
  if (!profile) return fail(std::move(profile).error());
  auto partner = newest_valid_certificate(listed_or_single(config.partner.encryption_certificates,
                                                           config.partner.encryption_certificate),
                                          now);
  if (!partner) return fail(std::move(partner).error());
  SealerConfig sealer = snapshot_sealer_config(config);
  sealer.recipient_certificates = {*partner, config.keys.decryption_certificate};
  sealer.profile = *profile;
  return sealer;
}

SealerConfig snapshot_sealer_config(const Config& config) {
  SealerConfig sealer;
  sealer.signing_certificate = config.keys.signing_certificate;
  sealer.signing_key = config.keys.signing_key;
  sealer.key_passphrase_file = config.keys.key_passphrase_file;
  sealer.recipient_certificates = {config.keys.decryption_certificate};
  sealer.profile = EnvelopeProfile::gcm;
  return sealer;
}

OpenerConfig return_opener_config(const Config& config) {
  OpenerConfig opener = own_file_opener_config(config);
  opener.pinned_signer_certificates =
      listed_or_single(config.partner.signing_certificates, config.partner.signing_certificate);
  opener.signer_valid_at_signing_time = false;  // a partner's certificate must be valid now
  // The loader admits only "gcm" and "cbc"; anything else would fall to the stricter gcm.
  auto profile = parse_envelope_profile(config.partner.envelope_profile);
  opener.required_profile = profile ? *profile : EnvelopeProfile::gcm;
  return opener;
}

OpenerConfig own_file_opener_config(const Config& config) {
  OpenerConfig opener;
  opener.our_certificate = config.keys.decryption_certificate;
  opener.our_key = config.keys.decryption_key;
  opener.key_passphrase_file = config.keys.key_passphrase_file;
  for (const auto& pair : config.keys.previous_decryption_keys) {
    opener.previous_keys.push_back({pair.certificate, pair.key});
  }
  opener.pinned_signer_certificates = {config.keys.signing_certificate};
  opener.pinned_signer_certificates.insert(opener.pinned_signer_certificates.end(),
                                           config.keys.previous_signing_certificates.begin(),
                                           config.keys.previous_signing_certificates.end());
  // Snapshots are kept for the retention period, longer than a certificate lives.
  opener.signer_valid_at_signing_time = true;
  return opener;
}

bool KeyCheckReport::ok() const {
  for (const auto& line : lines) {
    if (!line.ok) return false;
  }
  return true;
}

std::string KeyCheckReport::to_text() const {
  std::string text;
  for (const auto& line : lines) {
    text += (!line.ok       ? "FAIL "
             : line.warning ? "WARN "
                            : "OK   ") +
            line.label + ": " + line.text + "\n";
  }
  return text;
}

std::vector<KeyCheckItem> key_check_items(const Config& config) {
  const auto& keys = config.keys;
  std::vector<KeyCheckItem> items = {
      {"our signing certificate", keys.signing_certificate, keys.signing_key, "", false, false},
      {"our decryption certificate", keys.decryption_certificate, keys.decryption_key, "", false,
       false}};
  for (auto& item : numbered("our previous signing certificate", "",
                             keys.previous_signing_certificates, "", false)) {
    item.previous = true;
    items.push_back(std::move(item));
  }
  for (std::size_t i = 0; i < keys.previous_decryption_keys.size(); ++i) {
    const auto& pair = keys.previous_decryption_keys[i];
    items.push_back({"our previous decryption certificate #" + std::to_string(i + 1),
                     pair.certificate, pair.key, "", false, true});
  }
  const std::string partner = "partner " + config.partner.name;
  for (auto& item : numbered(partner + " encryption certificate", "",
                             listed_or_single(config.partner.encryption_certificates,
                                              config.partner.encryption_certificate),
                             "partner encryption", true)) {
    items.push_back(std::move(item));
  }
  for (auto& item : numbered(partner + " signing certificate", " (pinned)",
                             listed_or_single(config.partner.signing_certificates,
                                              config.partner.signing_certificate),
                             "partner signing", false)) {
    items.push_back(std::move(item));
  }
  return items;
}

KeyCheckReport check_keys(const std::vector<KeyCheckItem>& items,
                          const std::optional<std::filesystem::path>& passphrase_file,
                          int warning_days, Clock::time_point now) {
  std::vector<Examined> examined;
  std::map<std::string, std::vector<std::size_t>> lists;
  for (std::size_t i = 0; i < items.size(); ++i) {
    examined.push_back(examine(items[i], passphrase_file, warning_days, now));
    if (!items[i].list.empty()) lists[items[i].list].push_back(i);
  }
  // Per list: whether one entry is valid beyond the warning period (covers the others), and the
  // entry used now when the list is used through newest_valid_certificate.
  std::set<std::string> covered;
  std::set<std::size_t> used_now;
  for (const auto& [list, members] : lists) {
    std::vector<std::filesystem::path> files;
    for (auto i : members) {
      files.push_back(items[i].certificate);
      if (examined[i].validity == Validity::good && examined[i].key_problem.empty()) {
        covered.insert(list);
      }
    }
    if (!items[members.front()].selects_newest) continue;
    auto chosen = newest_valid_certificate(files, now);
    for (auto i : members) {
      if (chosen && items[i].certificate == *chosen && valid_now(examined[i])) used_now.insert(i);
    }
  }

  KeyCheckReport report;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const auto& item = items[i];
    const auto& seen = examined[i];
    KeyCheckLine line{item.label, false, false, seen.text};
    const bool in_overlap = !item.list.empty() && lists[item.list].size() > 1;
    std::string problem = seen.key_problem;
    if (seen.certificate && problem.empty()) {
      const std::string validity = problem_of(seen.validity, warning_days);
      if (item.previous) {
        // An earlier key opens older files only; that it has expired is expected.
        line.text += validity.empty() ? ": previous, opens older files"
                                      : ": previous, opens older files (" + validity + ")";
      } else if (!validity.empty() && in_overlap && covered.contains(item.list)) {
        line.warning = true;
        line.text += ": " + validity + "; another listed certificate covers the overlap" +
                     (used_now.contains(i) ? " (used now)" : "");
      } else {
        problem = validity;
      }
    }
    if (in_overlap && problem.empty() && !line.warning && valid_now(seen)) {
      line.text += item.selects_newest
                       ? (used_now.contains(i) ? ": used now" : ": listed, not used")
                       : ": accepted";
    }
    if (!seen.certificate) problem = "cannot be loaded";
    if (seen.certificate && !problem.empty()) line.text += ": " + problem;
    line.ok = problem.empty();
    report.lines.push_back(std::move(line));
  }
  // A list of several that holds only expired or soon-expiring certificates.
  for (const auto& [list, members] : lists) {
    if (members.size() < 2 || covered.contains(list)) continue;
    report.lines.push_back(
        {items[members.front()].label.substr(0, items[members.front()].label.find(" #")) + "s",
         false, false,
         "the list holds only expired, soon-expiring or unusable certificates: add the "
         "renewed certificate"});
  }
  return report;
}

}  // namespace kbix
