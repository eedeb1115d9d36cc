#include "gemeenten.hpp"

#include <algorithm>
#include <cstdio>

#include "kbix/core/protocol.hpp"
#include "synthetic.hpp"

namespace kbix::synthetic {

const std::array<Municipality, 5> kMunicipalities = {{
    {"71016", "3600", "Genk"},
    {"42025", "9230", "Wetteren"},
    {"23077", "1600", "Sint-Pieters-Leeuw"},
    {"44021", "9000", "Gent"},
    {"24062", "3000", "Leuven"},
}};

namespace {

constexpr std::array kSurnames = {"Peeters",  "Janssens",  "Maes",   "Öztürk",  "Haddad",
                                  "Nguyen",   "Kovalenko", "Ahmadi", "Diallo",  "Yilmaz",
                                  "Mensah",   "Popescu",   "Rahimi", "Hussein", "Novak",
                                  "Da Silva", "El Amrani", "Tesfaye"};
constexpr std::array kFirstNames = {"Amina", "Yusuf", "Olena", "Samir", "Fatima", "Ahmad",
                                    "Maria", "Ivan",  "Leila", "Omar",  "Sara",   "Dawit",
                                    "Nadia", "Ali",   "Elif",  "Jonas", "Zahra",  "Mehmet"};
constexpr std::array kStreets = {"Stationsstraat", "Kerkstraat",  "Molenstraat", "Nieuwstraat",
                                 "Schoolstraat",   "Dorpsstraat", "Kapelstraat", "Beekstraat",
                                 "Lindenlaan",     "Kastanjelaan"};
// Cells a spreadsheet would run as formulas; one has ';' and '"' so that it must be quoted.
constexpr std::array kFormulaLike = {"=1+1", "=SUM(A1:A9)", "@SUM(1+1)", "-2+3",
                                     "=HYPERLINK(\"http://example.invalid\";\"klik\")"};
constexpr std::array kLanguages = {"Arabisch",  "Dari",     "Pasjtoe", "Tigrinya",
                                   "Oekraïens", "Russisch", "Turks",   "Somalisch",
                                   "Engels",    "Frans",    "Spaans"};
constexpr std::array kDutch = {"A1", "A2", "B1", "B2", "C1"};
constexpr std::array kCivicCourse = {"niet gestart", "ingeschreven", "lopend",
                                     "behaald",      "vrijgesteld",  "gestopt"};
constexpr std::array kInterests = {"buddy",
                                   "Nederlands oefenen",
                                   "iets leren/cursus",
                                   "informeel participeren",
                                   "cultuur/kunst/creativiteit",
                                   "sport en beweging",
                                   "stage/voorbereiden op werk",
                                   "vrijwilligerswerk"};
constexpr std::array kNeeds = {"nood aan kinderopvang", "nood aan gezinsactiviteit",
                               "nood aan gratis activiteit"};

const std::vector<std::string> kColumns = {"insz",
                                           "naam",
                                           "voornaam",
                                           "straat",
                                           "huisnummer",
                                           "postcode",
                                           "gemeente",
                                           "telefoon",
                                           "email",
                                           "woonplaats_nis",
                                           "contacttaal",
                                           "niveau_nederlands",
                                           "status_mo",
                                           "inburgeringscontract_getekend",
                                           "attest_behaald",
                                           "datum_attest",
                                           "deelname_traject",
                                           "toestemming",
                                           "interesses",
                                           "noden"};

double unit(std::uint64_t hash) {
  return static_cast<double>(hash >> 11) * 0x1.0p-53;
}

template <std::size_t N>
const char* pick(std::uint64_t hash, const std::array<const char*, N>& choices) {
  return choices[hash % N];
}

std::string digits(std::uint64_t hash, int count) {
  std::string text;
  for (int i = 0; i < count; ++i) {
    text += static_cast<char>('0' + hash % 10);
    hash /= 10;
  }
  return text;
}

// 0..`most` distinct codes of `codes`, joined by '|'; "geen" or empty sometimes.
template <std::size_t N>
std::string some_codes(std::uint64_t hash, const std::array<const char*, N>& codes,
                       std::size_t most, double empty_share, double none_share) {
  const double roll = unit(hash);
  if (roll < empty_share) return "";
  if (roll < empty_share + none_share) return "geen";
  std::uint64_t h = mix(hash);
  const std::size_t count = 1 + h % most;
  std::string text;
  std::vector<std::size_t> taken;
  for (std::size_t i = 0; i < count; ++i) {
    h = mix(h);
    const std::size_t code = h % N;
    if (std::find(taken.begin(), taken.end(), code) != taken.end()) continue;
    taken.push_back(code);
    if (!text.empty()) text += '|';
    text += codes[code];
  }
  return text;
}

std::string phone(std::uint64_t h) {
  const double roll = unit(h);
  const std::string d = digits(mix(h), 8);
  if (roll < 0.70) {  // mobile, leading zero
    return "04" + d.substr(0, 2) + " " + d.substr(2, 2) + " " + d.substr(4, 2) + " " +
           d.substr(6, 2);
  }
  if (roll < 0.80) return "09 " + d.substr(0, 3) + " " + d.substr(3, 2) + " " + d.substr(5, 2);
  if (roll < 0.90) {  // international form: starts with '+'
    return "+32 4" + d.substr(0, 2) + " " + d.substr(2, 2) + " " + d.substr(4, 2) + " " +
           d.substr(6, 2);
  }
  return "";
}

// One person's values, in kColumns order (the INSZ is filled in by the caller).
std::vector<std::string> person(const GemeentenOptions& options, std::uint64_t index) {
  std::uint64_t h = mix(options.seed * 104729 + index);
  auto next = [&] { return h = mix(h); };
  const Municipality& home = kMunicipalities[next() % kMunicipalities.size()];
  std::string naam = pick(next(), kSurnames);
  if (unit(next()) < 0.01) naam = pick(next(), kFormulaLike);
  std::string huisnummer = std::to_string(1 + next() % 250);
  if (unit(next()) < 0.10) huisnummer += " bus " + std::to_string(1 + next() % 12);
  const bool contract = unit(next()) < 0.85;
  const bool certificate = contract && unit(next()) < 0.50;
  std::string attest_date;
  if (certificate && unit(next()) < 0.95) {
    attest_date = format_date(options.as_of - std::chrono::days{next() % 913});
  }
  const double participation = unit(next());
  const double consent = unit(next());
  std::vector<std::string> values = {
      "",
      naam,
      pick(next(), kFirstNames),
      pick(next(), kStreets),
      huisnummer,
      home.postcode,
      home.name,
      phone(next()),
      unit(next()) < 0.85 ? "persoon" + std::to_string(index) + "@example.org" : "",
      unit(next()) < 0.01 ? "" : home.nis,
      pick(next(), kLanguages),
      unit(next()) < 0.10 ? "" : pick(next(), kDutch),
      pick(next(), kCivicCourse),
      contract ? "ja" : "nee",
      certificate ? "ja" : "nee",
      attest_date,
      participation < 0.55 ? "ja" : (participation < 0.95 ? "nee" : ""),
      consent < 0.45 ? "ja" : (consent < 0.90 ? "nee" : ""),
      some_codes(next(), kInterests, 3, 0.10, 0.10),
      some_codes(next(), kNeeds, 2, 0.30, 0.30)};
  if (unit(next()) < options.bad_value_rate) {
    if (next() % 2 == 0) {
      values[18] = "koken";  // not in the closed list of interests
    } else if (!values[15].empty()) {
      values[15] = "31/02/2024";  // not a date
    }
  }
  return values;
}

// RFC 4180 with ';': quoted only when needed, written as is (no formula neutralisation).
void write_field(std::string& row, const std::string& value) {
  if (value.find_first_of(";\"\r\n") == std::string::npos) {
    row += value;
    return;
  }
  row += '"';
  for (const char c : value) {
    if (c == '"') row += '"';
    row += c;
  }
  row += '"';
}

void write_row(std::ostream& out, const std::vector<std::string>& values,
               const std::vector<std::size_t>& order) {
  std::string row;
  for (std::size_t i = 0; i < order.size(); ++i) {
    if (i > 0) row += ';';
    write_field(row, values[order[i]]);
  }
  row += '\n';
  out.write(row.data(), static_cast<std::streamsize>(row.size()));
}

}  // namespace

const std::vector<std::string>& gemeenten_columns() {
  return kColumns;
}

Result<GemeentenCounts> write_gemeenten_extract(std::ostream& out,
                                                const std::vector<std::string>& columns,
                                                const GemeentenOptions& options) {
  std::vector<std::size_t> order;
  for (const auto& column : columns) {
    const auto found = std::find(kColumns.begin(), kColumns.end(), column);
    if (found == kColumns.end()) {
      return fail("gen.unknown_column", "kbix-gen has no synthetic values for column '" + column +
                                            "' of a kbi-gemeenten extract");
    }
    order.push_back(static_cast<std::size_t>(found - kColumns.begin()));
  }
  write_row(out, columns, [&] {
    std::vector<std::size_t> identity(columns.size());
    for (std::size_t i = 0; i < identity.size(); ++i) identity[i] = i;
    return identity;
  }());
  GemeentenCounts counts;
  std::vector<std::string> previous;  // INSZ already written, for duplicates
  for (std::uint64_t i = 0; i < options.people; ++i) {
    const std::uint64_t h = mix(options.seed * 7919 + i);
    auto values = person(options, i);
    const double roll = unit(h);
    if (roll < options.invalid_rate) {
      values[0] = make_invalid_insz(options.seed, i);
      ++counts.invalid;
    } else if (roll < options.invalid_rate + options.duplicate_rate && !previous.empty()) {
      values[0] = previous[mix(h) % previous.size()];
      ++counts.duplicates;
    } else {
      values[0] = make_insz(options.seed, i, 0.03);
      if (previous.size() < 100000) previous.push_back(values[0]);
    }
    write_row(out, values, order);
    ++counts.rows;
  }
  return counts;
}

}  // namespace kbix::synthetic
