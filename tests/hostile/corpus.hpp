// The hostile-input corpus (tests/data/hostile/manifest.json), shared by the table-driven unit
// test (hostile_test.cpp) and the end-to-end replay of every return case (tests/e2e).
//
// A case: {"id", "kind", "input", "expect", optional "why", optional "output"}. `expect` is an
// error code or "ok" with counts ("ok:a=1,b=2"). `output` (optional in the format, required of
// an accepted extract or return case by the tests) names a file in tests/data/hostile/expected/
// holding the exact expected output, itself a template like `input`.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "kbix/core/protocol.hpp"

namespace kbix::test {

struct HostileCase {
  std::string id, kind, input, expect;
  std::optional<std::string> output;  // file name in tests/data/hostile/expected/
  std::optional<std::string> shown;   // untrusted_text: the sanitised form
  std::optional<std::string> test;    // e2e: the end-to-end test that gives this input
};

inline void PrintTo(const HostileCase& c, std::ostream* out) {
  *out << c.id;
}

struct ExpectedOutcome {
  bool accepted = false;
  std::string code;                             // when refused
  std::map<std::string, std::uint64_t> counts;  // when accepted
};

const Protocol& shipped_protocol();
std::vector<HostileCase> load_hostile_corpus();
// Every case of one kind (for INSTANTIATE_TEST_SUITE_P).
std::vector<HostileCase> hostile_cases_of_kind(const std::string& kind);
// Every case a unit test can run (all but kind "e2e", which only a whole exchange can give).
std::vector<HostileCase> hostile_unit_cases();
// A readable gtest name: the id with every character that is not a letter or digit as '_'.
std::string hostile_test_name(const HostileCase& c);
ExpectedOutcome parse_expect(const std::string& expect);
// Expands the manifest's template placeholders and \xNN escapes.
std::string expand_template(const std::string& input);
// The expected output of an accepted case, expanded; nullopt when the case names none.
std::optional<std::string> expected_output(const HostileCase& c);
// The KBI extract every return case is merged against: valid:0..9 with their profiles.
std::string return_case_snapshot();

}  // namespace kbix::test
