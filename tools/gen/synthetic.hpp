// Synthetic people for tests, the demo and benchmarks: never real data.
//
// Everything is a pure function of a seed, so the generator (kbix-gen) and the partner simulator
// agree on what VDAB "knows" about a person without sharing state. INSZ numbers are made to pass
// the checksum (both centuries, optionally BIS); values are plausible codes, not statistics.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace kbix::synthetic {

// splitmix64: a fast, well-mixed 64-bit hash used as the only source of randomness.
std::uint64_t mix(std::uint64_t value);

// A valid INSZ (11 digits) for person number `index`; bis_rate of them BIS numbers.
std::string make_insz(std::uint64_t seed, std::uint64_t index, double bis_rate);
// The same with wrong check digits (never valid).
std::string make_invalid_insz(std::uint64_t seed, std::uint64_t index);

// The 19 KBI profile values (protocol extract columns after insz), some empty at empty_rate.
std::vector<std::string> kbi_profile(std::uint64_t seed, std::uint64_t index, double empty_rate);

// VDAB's 6 enriched values for a person (return columns after insz), or nullopt when VDAB does
// not know the person (at unknown_rate). Depends only on (seed, the INSZ's digits).
std::optional<std::vector<std::string>> vdab_fields(std::uint64_t seed, const std::string& insz,
                                                    double unknown_rate, double empty_rate);

}  // namespace kbix::synthetic
