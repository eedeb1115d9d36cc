#include "synthetic.hpp"

#include <array>
#include <cstdio>

namespace kbix::synthetic {

namespace {

// [0, 1) from a hash.
double unit(std::uint64_t hash) {
  return static_cast<double>(hash >> 11) * 0x1.0p-53;
}

template <std::size_t N>
std::string pick(std::uint64_t hash, const std::array<const char*, N>& choices) {
  return choices[hash % N];
}

std::string date(std::uint64_t hash, int first_year, int years) {
  char text[16];
  std::snprintf(text, sizeof text, "%04d-%02d-%02d",
                first_year + static_cast<int>(hash % static_cast<std::uint64_t>(years)),
                static_cast<int>(1 + (hash >> 8) % 12), static_cast<int>(1 + (hash >> 16) % 28));
  return text;
}

std::string with_check(int year, int month, int day, int serial) {
  char base[16];
  std::snprintf(base, sizeof base, "%02d%02d%02d%03d", year % 100, month, day, serial);
  std::uint64_t value = std::stoull(base);
  if (year >= 2000) value += 2'000'000'000ULL;
  char full[16];
  std::snprintf(full, sizeof full, "%s%02d", base, static_cast<int>(97 - value % 97));
  return full;
}

}  // namespace

std::uint64_t mix(std::uint64_t value) {
  value += 0x9E3779B97F4A7C15ULL;
  value = (value ^ (value >> 30)) * 0xBF58476D1CE4E5B9ULL;
  value = (value ^ (value >> 27)) * 0x94D049BB133111EBULL;
  return value ^ (value >> 31);
}

std::string make_insz(std::uint64_t seed, std::uint64_t index, double bis_rate) {
  // index picks a unique (birth date, serial) so numbers never collide within a file
  const std::uint64_t h = mix(seed ^ mix(index));
  const int year = 1950 + static_cast<int>(index % 59);          // 1950..2008
  const int day_of_year = static_cast<int>((index / 59) % 336);  // 12 x 28 days
  const int serial = 1 + static_cast<int>((index / (59 * 336)) % 997);
  int month = 1 + day_of_year / 28;
  const int day = 1 + day_of_year % 28;
  if (unit(h) < bis_rate) month += (h & 1) ? 20 : 40;
  return with_check(year, month, day, serial);
}

std::string make_invalid_insz(std::uint64_t seed, std::uint64_t index) {
  std::string valid = make_insz(seed, index, 0.0);
  // change the check digits to a value neither century accepts
  const int check = std::stoi(valid.substr(9, 2));
  for (int delta = 1; delta < 97; ++delta) {
    char digits[4];
    std::snprintf(digits, sizeof digits, "%02d", (check + delta) % 100);
    std::string candidate = valid.substr(0, 9) + digits;
    const std::uint64_t base = std::stoull(candidate.substr(0, 9));
    const auto wanted = static_cast<std::uint64_t>(std::stoi(digits));
    if (97 - base % 97 != wanted && 97 - (2'000'000'000ULL + base) % 97 != wanted) {
      return candidate;
    }
  }
  return valid.substr(0, 10) + "x";  // unreachable in practice
}

std::vector<std::string> kbi_profile(std::uint64_t seed, std::uint64_t index, double empty_rate) {
  static constexpr std::array kAge = {"18-24", "25-34", "35-44", "45-54", "55-64", "65+"};
  static constexpr std::array kSex = {"M", "V", "X"};
  static constexpr std::array kSchool = {"laag", "midden", "hoog", "onbekend"};
  static constexpr std::array kNationality = {"SYR", "AFG", "MAR", "UKR", "TUR",
                                              "ERI", "SOM", "IRQ", "PSE", "RUS"};
  static constexpr std::array kTarget = {"verplicht", "rechthebbend", "vrijwillig"};
  static constexpr std::array kRegion = {
      "Antwerpen",       "Gent",           "Brussel",        "Limburg",
      "Oost-Vlaanderen", "Vlaams-Brabant", "West-Vlaanderen"};
  static constexpr std::array kYesNo = {"ja", "nee"};
  static constexpr std::array kReason = {"werk", "opleiding", "gezondheid", "zorg"};
  static constexpr std::array kAbility = {"laag", "gemiddeld", "hoog"};
  static constexpr std::array kNt2 = {"A1", "A2", "B1", "B2"};
  static constexpr std::array kTrack = {"werk", "studie", "sociale participatie"};
  static constexpr std::array kDiploma = {"gelijkwaardig", "niveaugelijkwaardig", "geweigerd"};
  static constexpr std::array kResidence = {"erkend vluchteling", "subsidiair beschermd",
                                            "gezinshereniging", "EU-burger"};
  std::uint64_t h = mix(seed * 31 + index);
  auto next = [&] { return h = mix(h); };
  std::vector<std::string> values = {
      pick(next(), kAge),         pick(next(), kSex),     pick(next(), kSchool),
      pick(next(), kNationality), date(next(), 2019, 7),  pick(next(), kTarget),
      date(next(), 2019, 7),      date(next(), 2019, 7),  date(next(), 2019, 7),
      pick(next(), kRegion),      pick(next(), kYesNo),   pick(next(), kReason),
      pick(next(), kAbility),     pick(next(), kNt2),     pick(next(), kTrack),
      pick(next(), kYesNo),       pick(next(), kDiploma), pick(next(), kYesNo),
      pick(next(), kResidence)};
  for (auto& value : values) {
    if (unit(next()) < empty_rate) value.clear();
  }
  return values;
}

std::optional<std::vector<std::string>> vdab_fields(std::uint64_t seed, const std::string& insz,
                                                    double unknown_rate, double empty_rate) {
  static constexpr std::array kCategory = {"WZUA", "WZNA", "NWWZ", "WZOA"};
  static constexpr std::array kStatus = {"in begeleiding", "geen begeleiding", "afgesloten"};
  static constexpr std::array kActions = {"opleiding", "bemiddeling", "opleiding|bemiddeling",
                                          "oriëntering", "stage|opleiding"};
  static constexpr std::array kOutflow = {"ja", "nee", ""};
  std::uint64_t h = mix(seed ^ std::stoull(insz));
  auto next = [&] { return h = mix(h); };
  if (unit(next()) < unknown_rate) return std::nullopt;
  std::string first = date(next(), 2015, 8);
  std::string latest = date(next(), 2023, 4);
  if (latest < first) std::swap(first, latest);
  std::vector<std::string> values = {first,
                                     latest,
                                     pick(next(), kCategory),
                                     pick(next(), kStatus),
                                     pick(next(), kActions),
                                     pick(next(), kOutflow)};
  for (std::size_t i = 2; i < values.size(); ++i) {
    if (unit(next()) < empty_rate) values[i].clear();
  }
  return values;
}

}  // namespace kbix::synthetic
