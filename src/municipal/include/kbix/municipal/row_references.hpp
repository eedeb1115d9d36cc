// RowReferences: the random reference that each row of a template list carries, so that the
// municipality can send a status back per row without kbix ever taking an INSZ back from it.
//
// A reference is stable per person and per exchange (one exchange = one municipality's signed
// instance of the template): the same person gets the same reference in every list sent to that
// municipality, so a status returned for an older list still resolves. It is NOT shared between
// exchanges on purpose: a person who moves to another municipality gets a new reference there,
// so two municipalities comparing their lists cannot link the person through the reference.
//
// Shape: "R-" and four groups of five characters joined by '-' ("R-K7WXA-2MBCD-…-…"), 25
// characters, from office::FilePassword::kAlphabet (30 characters without look-alikes, upper
// case only), so an employee can type it without doubt. 20 × log2(30) = 98.1 bits drawn from
// RAND_bytes by rejection sampling (office::uniform_indices): never derived from the INSZ (a
// hash of an INSZ without a key is reversible by trying all 10^11 numbers). Not a secret: it
// is printed in the list; what must stay inside kbix is its link to the INSZ.
//
// The map INSZ <-> reference lives only in a sealed file (kbix/envelope/sealed_bytes.hpp:
// signed by us, encrypted to our own certificate, replaced atomically); it is never written
// as plaintext. Sealed content, one line each, LF ends:
//   kbix-row-references;1;<exchange>
//   <reference>;<insz>
// load() refuses a file that does not open with our key and a pinned signer of ours, a file of
// another exchange, and any line out of shape, an invalid INSZ, or a duplicate on either side.
//
// Error codes: municipal.references_corrupt, municipal.references_foreign (another exchange),
// municipal.references_full (kMaxEntries), municipal.insz (reference_for got an invalid INSZ),
// municipal.bad_exchange; office.random; envelope.* and io.* from the sealed file. Messages never
// hold an INSZ or a reference.
// Not thread-safe: one exchange's run holds its map. Where the sealed file lives is the
// caller's (one per exchange, in its private state directory).
// Does NOT guarantee: that the INSZ strings held in memory are locked (they are wiped when the
// object is destroyed).
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "kbix/core/result.hpp"
#include "kbix/envelope/envelope.hpp"
#include "kbix/office/password.hpp"

namespace kbix::municipal {

// The list's column that carries the row reference (the export writes it, the status reader
// looks for it).
inline constexpr std::string_view kReferenceColumn = "referentie";

class RowReferences {
 public:
  static constexpr std::string_view kPrefix = "R-";
  // After the prefix: 4 groups of 5 from the password alphabet, 20 × log2(30) = 98.1 bits.
  static constexpr office::GroupedText kShape{office::FilePassword::kAlphabet, 4, 5};
  static constexpr std::size_t kLength = kPrefix.size() + kShape.length();  // 25
  static constexpr double kEntropyBits = 98.0;
  // One municipality's list never comes near this (Excel's sheet holds 1,048,576 rows).
  static constexpr std::size_t kMaxEntries = 2'000'000;
  // The sealed content at kMaxEntries lines ("R-…;…\n" = 37 bytes) plus the header line.
  static constexpr std::size_t kMaxSealedBytes = kMaxEntries * 40 + 4096;

  // An empty map for `exchange` (1..128 bytes of printable ASCII without ';').
  static Result<RowReferences> empty(std::string_view exchange);
  // The map sealed in `file`; an absent file is an empty map.
  static Result<RowReferences> load(const Opener& opener, const std::filesystem::path& file,
                                    std::string_view exchange);
  // The sealed content as above (load() uses it; exposed for the fuzz target and tests).
  static Result<RowReferences> parse(std::string_view content, std::string_view exchange);

  RowReferences(RowReferences&&) noexcept;
  RowReferences& operator=(RowReferences&&) noexcept;
  RowReferences(const RowReferences&) = delete;
  RowReferences& operator=(const RowReferences&) = delete;
  ~RowReferences();

  // Seals the map into `file` (replaced atomically, mode 0600). Pass a Sealer whose only
  // recipient is our own certificate (snapshot_sealer_config).
  Status save(const Sealer& sealer, const std::filesystem::path& file) const;

  // The person's reference in this exchange; a new random one the first time (remember to
  // save()). `insz` must be 11 digits that pass the INSZ checks.
  Result<std::string> reference_for(std::string_view insz);
  // Look-ups that never create.
  std::optional<std::string> reference_of(std::string_view insz) const;
  std::optional<std::string> insz_of(std::string_view reference) const;
  std::size_t size() const;
  const std::string& exchange() const;

  // True when `text` has the reference shape above (exactly; no trimming, upper case).
  static bool is_reference(std::string_view text);

 private:
  struct State;
  explicit RowReferences(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace kbix::municipal
