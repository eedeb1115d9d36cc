// value_slot: where a 64-bit INSZ value starts its probe in an open-addressing table of `mask` + 1
// slots (a power of two), for the tables of the export's duplicate check (U64Set, FirstSeenTable).
// The low digits of an INSZ are its check digits, so the value is mixed before masking.
// Does NOT guarantee anything against chosen inputs: the values come from AgII's own extract.
#pragma once

#include <cstddef>
#include <cstdint>

namespace kbix {

inline std::size_t value_slot(std::uint64_t value, std::size_t mask) {
  value ^= value >> 33;
  value *= 0xff51afd7ed558ccdULL;
  value ^= value >> 33;
  return static_cast<std::size_t>(value) & mask;
}

}  // namespace kbix
