#include "hostile/corpus.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "synthetic.hpp"

namespace kbix::test {

namespace {

const std::string kCorpusDir = KBIX_SOURCE_DIR "/tests/data/hostile";

std::string joined(const std::vector<std::string>& fields) {
  std::string text;
  for (const auto& field : fields) text += (text.empty() ? "" : ";") + field;
  return text;
}

std::string valid(std::uint64_t n) {
  return synthetic::make_insz(5, n, 0.0);
}

}  // namespace

const Protocol& shipped_protocol() {
  static const Protocol loaded =
      *load_protocol(KBIX_SOURCE_DIR "/config/protocols/vdab-derde-pijler-2023.toml");
  return loaded;
}

std::vector<HostileCase> load_hostile_corpus() {
  std::ifstream in(kCorpusDir + "/manifest.json");
  const auto manifest = nlohmann::json::parse(in);
  std::vector<HostileCase> cases;
  for (const auto& c : manifest.at("cases")) {
    HostileCase parsed{c.at("id"),   c.at("kind"), c.at("input"), c.at("expect"),
                       std::nullopt, std::nullopt, std::nullopt};
    if (c.contains("output")) parsed.output = c["output"].get<std::string>();
    if (c.contains("shown")) parsed.shown = c["shown"].get<std::string>();
    if (c.contains("test")) parsed.test = c["test"].get<std::string>();
    cases.push_back(std::move(parsed));
  }
  return cases;
}

std::vector<HostileCase> hostile_unit_cases() {
  std::vector<HostileCase> selected;
  for (auto& c : load_hostile_corpus()) {
    if (c.kind != "e2e") selected.push_back(std::move(c));
  }
  return selected;
}

std::vector<HostileCase> hostile_cases_of_kind(const std::string& kind) {
  std::vector<HostileCase> selected;
  for (auto& c : load_hostile_corpus()) {
    if (c.kind == kind) selected.push_back(std::move(c));
  }
  return selected;
}

std::string hostile_test_name(const HostileCase& c) {
  std::string name = c.id;
  for (char& ch : name) {
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  }
  return name;
}

ExpectedOutcome parse_expect(const std::string& expect) {
  ExpectedOutcome outcome;
  if (expect != "ok" && expect.rfind("ok:", 0) != 0) {
    outcome.code = expect;
    return outcome;
  }
  outcome.accepted = true;
  if (expect.size() <= 3) return outcome;
  std::stringstream list(expect.substr(3));
  for (std::string item; std::getline(list, item, ',');) {
    const auto eq = item.find('=');
    outcome.counts[item.substr(0, eq)] = std::stoull(item.substr(eq + 1));
  }
  return outcome;
}

std::string expand_template(const std::string& input) {
  std::string out;
  for (std::size_t i = 0; i < input.size();) {
    if (input.compare(i, 2, "\\x") == 0 && i + 3 < input.size()) {
      out += static_cast<char>(std::stoi(input.substr(i + 2, 2), nullptr, 16));
      i += 4;
      continue;
    }
    if (input[i] != '{') {
      out += input[i++];
      continue;
    }
    const std::size_t end = input.find('}', i);
    const std::string token = input.substr(i + 1, end - i - 1);
    i = end + 1;
    const auto colon = token.find(':');
    const std::string name = token.substr(0, colon);
    const std::string arg = colon == std::string::npos ? "" : token.substr(colon + 1);
    if (name == "extract_header")
      out += joined(shipped_protocol().extract_columns);
    else if (name == "return_header")
      out += joined(shipped_protocol().return_columns);
    else if (name == "valid")
      out += valid(std::stoull(arg));
    else if (name == "dotted") {
      const std::string d = valid(std::stoull(arg));
      out += d.substr(0, 2) + "." + d.substr(2, 2) + "." + d.substr(4, 2) + "-" + d.substr(6, 3) +
             "." + d.substr(9, 2);
    } else if (name == "profile")
      out += joined(synthetic::kbi_profile(5, std::stoull(arg), 0.0));
    else if (name == "vdab")
      out += joined(*synthetic::vdab_fields(1, valid(std::stoull(arg)), 0, 0));
    else if (name == "big")
      out += std::string(std::stoull(arg), 'x');
    else if (name == "many") {
      const auto second = arg.find(':');
      for (std::uint64_t k = 0; k < std::stoull(arg.substr(0, second)); ++k) {
        out += arg.substr(second + 1);
      }
    } else {
      ADD_FAILURE() << "unknown placeholder " << token;
    }
  }
  return out;
}

std::optional<std::string> expected_output(const HostileCase& c) {
  if (!c.output) return std::nullopt;
  std::ifstream in(kCorpusDir + "/expected/" + *c.output, std::ios::binary);
  if (!in) {
    ADD_FAILURE() << c.id << ": no file expected/" << *c.output;
    return std::nullopt;
  }
  std::stringstream text;
  text << in.rdbuf();
  return expand_template(text.str());
}

std::string return_case_snapshot() {
  std::string snapshot = joined(shipped_protocol().extract_columns) + "\n";
  for (std::uint64_t n = 0; n < 10; ++n) {
    snapshot += valid(n) + ";" + joined(synthetic::kbi_profile(5, n, 0.0)) + "\n";
  }
  return snapshot;
}

}  // namespace kbix::test
