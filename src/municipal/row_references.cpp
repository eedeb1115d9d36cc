#include "kbix/municipal/row_references.hpp"

#include <openssl/crypto.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <deque>
#include <span>
#include <unordered_map>
#include <utility>

#include "kbix/domain/insz.hpp"
#include "kbix/envelope/sealed_bytes.hpp"

namespace kbix::municipal {
namespace {

constexpr std::string_view kMagic = "kbix-row-references";
constexpr std::string_view kVersion = "1";
constexpr std::size_t kInszDigits = 11;
constexpr std::size_t kMaxExchangeBytes = 128;

bool valid_exchange(std::string_view exchange) {
  if (exchange.empty() || exchange.size() > kMaxExchangeBytes) return false;
  for (const char c : exchange) {
    if (c <= ' ' || c > '~' || c == ';') return false;
  }
  return true;
}

Unexpected<Error> corrupt(const std::string& where, std::uint64_t line, const char* what) {
  return fail("municipal.references_corrupt",
              where + ": line " + std::to_string(line) + ": " + what + "; the file is refused");
}

}  // namespace

// The entries live in a deque (stable addresses), the two indexes view into them.
struct RowReferences::State {
  struct Entry {
    std::string insz;
    std::string reference;
  };
  std::string exchange;
  std::deque<Entry> entries;
  std::unordered_map<std::string_view, const Entry*> by_insz;
  std::unordered_map<std::string_view, const Entry*> by_reference;

  ~State() {
    for (auto& entry : entries) OPENSSL_cleanse(entry.insz.data(), entry.insz.size());
  }
  // false when either side is already there.
  bool add(std::string insz, std::string reference) {
    if (by_insz.contains(insz) || by_reference.contains(reference)) return false;
    const Entry& entry = entries.emplace_back(Entry{std::move(insz), std::move(reference)});
    by_insz.emplace(entry.insz, &entry);
    by_reference.emplace(entry.reference, &entry);
    return true;
  }
};

RowReferences::RowReferences(std::unique_ptr<State> state) : state_(std::move(state)) {}
RowReferences::RowReferences(RowReferences&&) noexcept = default;
RowReferences& RowReferences::operator=(RowReferences&&) noexcept = default;
RowReferences::~RowReferences() = default;

Result<RowReferences> RowReferences::empty(std::string_view exchange) {
  if (!valid_exchange(exchange)) {
    return fail("municipal.bad_exchange",
                "an exchange name for row references has 1 to 128 printable characters, no ';'");
  }
  auto state = std::make_unique<State>();
  state->exchange = std::string(exchange);
  return RowReferences(std::move(state));
}

bool RowReferences::is_reference(std::string_view text) {
  return text.starts_with(kPrefix) &&
         office::has_grouped_shape(text.substr(kPrefix.size()), kShape);
}

Result<RowReferences> RowReferences::parse(std::string_view content, std::string_view exchange) {
  auto made = empty(exchange);
  if (!made) return made;
  State& state = *made->state_;
  const std::string where = "row references of exchange " + std::string(exchange);
  std::uint64_t line_number = 0;
  bool header_seen = false;
  while (!content.empty()) {
    const std::size_t end = content.find('\n');
    if (end == std::string_view::npos) return corrupt(where, line_number + 1, "unterminated line");
    const std::string_view line = content.substr(0, end);
    content.remove_prefix(end + 1);
    ++line_number;
    const std::size_t separator = line.find(';');
    if (!header_seen) {
      const std::string expected =
          std::string(kMagic) + ";" + std::string(kVersion) + ";" + std::string(exchange);
      if (!line.starts_with(std::string(kMagic) + ";")) {
        return corrupt(where, line_number, "not a row-reference file");
      }
      if (line != expected) {
        return fail("municipal.references_foreign",
                    where + ": the sealed file belongs to another exchange or version; refused");
      }
      header_seen = true;
      continue;
    }
    if (separator == std::string_view::npos) return corrupt(where, line_number, "no separator");
    const std::string_view reference = line.substr(0, separator);
    const std::string_view insz = line.substr(separator + 1);
    if (!is_reference(reference)) return corrupt(where, line_number, "not a row reference");
    if (insz.size() != kInszDigits || !is_valid_insz_digits(insz)) {
      return corrupt(where, line_number, "not a valid INSZ");
    }
    if (state.entries.size() >= kMaxEntries) {
      return corrupt(where, line_number, "more entries than the limit");
    }
    if (!state.add(std::string(insz), std::string(reference))) {
      return corrupt(where, line_number, "a person or a reference listed twice");
    }
  }
  if (!header_seen) return corrupt(where, 1, "empty file");
  return made;
}

Result<RowReferences> RowReferences::load(const Opener& opener, const std::filesystem::path& file,
                                          std::string_view exchange) {
  struct stat info {};
  if (::lstat(file.c_str(), &info) != 0 && errno == ENOENT) return empty(exchange);
  auto content = open_bytes(opener, file, kMaxSealedBytes);
  if (!content) return fail(std::move(content).error());
  auto parsed = parse(content->text(), exchange);
  if (!parsed) {
    Error error = std::move(parsed).error();
    error.message = file.filename().string() + ": " + error.message;
    return fail(std::move(error));
  }
  return parsed;
}

Status RowReferences::save(const Sealer& sealer, const std::filesystem::path& file) const {
  const std::string header =
      std::string(kMagic) + ";" + std::string(kVersion) + ";" + state_->exchange + "\n";
  std::size_t total = header.size();
  for (const auto& entry : state_->entries) total += entry.reference.size() + entry.insz.size() + 2;
  // Sized once, so no reallocation leaves an unwiped copy behind.
  SecretBytes content(total);
  auto out = content.writable();
  std::size_t at = 0;
  auto put = [&](std::string_view text) {
    for (const char c : text) out[at++] = static_cast<std::byte>(c);
  };
  put(header);
  for (const auto& entry : state_->entries) {
    put(entry.reference);
    put(";");
    put(entry.insz);
    put("\n");
  }
  auto sealed = seal_bytes(sealer, content.bytes(), "row references", file);
  if (!sealed) return fail(std::move(sealed).error());
  return ok();
}

Result<std::string> RowReferences::reference_for(std::string_view insz) {
  if (insz.size() != kInszDigits || !is_valid_insz_digits(insz)) {
    return fail("municipal.insz", "a row reference is made only for a valid INSZ (11 digits)");
  }
  if (auto found = state_->by_insz.find(insz); found != state_->by_insz.end()) {
    return found->second->reference;
  }
  if (state_->entries.size() >= kMaxEntries) {
    return fail("municipal.references_full", "the row-reference map of exchange " +
                                                 state_->exchange + " is full (" +
                                                 std::to_string(kMaxEntries) + " people)");
  }
  // A collision (about 2^-98 per pair) is drawn again rather than trusted to never happen.
  std::string reference(kLength, '\0');
  std::copy(kPrefix.begin(), kPrefix.end(), reference.begin());
  for (;;) {
    KBIX_TRY(office::fill_random_grouped(
        kShape, std::span(reference.data() + kPrefix.size(), kShape.length())));
    if (state_->add(std::string(insz), reference)) return reference;
  }
}

std::optional<std::string> RowReferences::reference_of(std::string_view insz) const {
  const auto found = state_->by_insz.find(insz);
  if (found == state_->by_insz.end()) return std::nullopt;
  return found->second->reference;
}

std::optional<std::string> RowReferences::insz_of(std::string_view reference) const {
  const auto found = state_->by_reference.find(reference);
  if (found == state_->by_reference.end()) return std::nullopt;
  return found->second->insz;
}

std::size_t RowReferences::size() const {
  return state_->entries.size();
}

const std::string& RowReferences::exchange() const {
  return state_->exchange;
}

}  // namespace kbix::municipal
