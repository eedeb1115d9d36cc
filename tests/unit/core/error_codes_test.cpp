// The error-code registry: its shape, docs/errors.md against it, and every code literal that the
// compiler cannot check (comparisons, verifier findings, socket refusals) registered.
//
// To rewrite the generated part of docs/errors.md after changing the registry:
//   KBIX_UPDATE_ERRORS_DOC=1 build/tests/unit/core/kbix_core_test --gtest_filter='ErrorCodes.Doc*'
#include "kbix/core/error_codes.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "kbix/core/exit_code.hpp"
#include "kbix/core/result.hpp"

namespace fs = std::filesystem;
using kbix::ErrorCode;
using kbix::Retry;

namespace {

constexpr std::string_view kMarker =
    "<!-- generated from kErrorCodes (src/core/include/kbix/core/error_codes.hpp); do not edit "
    "below -->";

std::string prefix_of(std::string_view code) {
  return std::string(code.substr(0, code.find('.')));
}

const kbix::ErrorPrefixInfo* prefix_info(std::string_view prefix) {
  for (const auto& info : kbix::kErrorPrefixes) {
    if (info.prefix == prefix) return &info;
  }
  return nullptr;
}

// The generated part of docs/errors.md: one table per prefix.
std::string render_tables() {
  std::ostringstream out;
  std::string group;
  for (const auto& info : kbix::kErrorCodes) {
    const std::string prefix = prefix_of(info.code);
    if (prefix != group) {
      group = prefix;
      const auto* about = prefix_info(prefix);
      out << "\n## " << prefix << "\n\n"
          << (about != nullptr ? about->about : "")
          << " (module: " << (about != nullptr ? about->modules : "") << ")\n\n"
          << "| code | retry | meaning and what to do |\n|---|---|---|\n";
    }
    out << "| `" << info.code << "` | " << kbix::to_string(info.retry) << " | " << info.meaning
        << " |\n";
  }
  return out.str();
}

std::string read_text(const fs::path& file) {
  std::ifstream in(file);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Registered codes that a source or test file mentions in a place the compiler does not check.
std::set<std::string> unchecked_code_literals(const fs::path& root) {
  // `x.code == "a.b"`, `EXPECT_EQ(x.code, "a.b")`, `refused("a.b"`, `Problem{"a.b"`,
  // `failed({"a.b"`, `refusal({"a.b"`. Error::from_text may take an unregistered text on
  // purpose (another kbix's code), so it is not scanned.
  static const std::regex kPatterns[] = {
      std::regex(R"re(\.code\s*[!=]=\s*"([a-z_]+\.[a-z0-9_]+)")re"),
      std::regex(R"re((?:EXPECT|ASSERT)_(?:EQ|NE)\([^;]*\.code\b[^;]*"([a-z_]+\.[a-z0-9_]+)")re"),
      std::regex(R"re((?:refused\(|Problem\{|failed\(\{|refusal\(\{)"([a-z_]+\.[a-z0-9_]+)")re"),
      std::regex(R"re(\{(?:false|true), "(schedule\.[a-z0-9_]+)")re"),
  };
  std::set<std::string> found;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    const auto ext = entry.path().extension();
    if (ext != ".cpp" && ext != ".hpp") continue;
    if (entry.path().filename() == "error_codes_test.cpp") continue;  // its own misspellings
    const std::string text = read_text(entry.path());
    for (const auto& pattern : kPatterns) {
      for (std::sregex_iterator it(text.begin(), text.end(), pattern), end; it != end; ++it) {
        found.insert(entry.path().filename().string() + ": " + (*it)[1].str());
      }
    }
  }
  return found;
}

}  // namespace

TEST(ErrorCodes, EveryRowIsWellFormed) {
  for (const auto& info : kbix::kErrorCodes) {
    EXPECT_TRUE(std::regex_match(std::string(info.code), std::regex("[a-z]+\\.[a-z0-9_]+")))
        << info.code;
    EXPECT_NE(prefix_info(prefix_of(info.code)), nullptr) << info.code << ": prefix not listed";
    EXPECT_FALSE(info.meaning.empty()) << info.code;
    EXPECT_EQ(info.meaning.find('|'), std::string_view::npos) << info.code << ": breaks the table";
  }
}

TEST(ErrorCodes, CompileTimeAndRunTimeLookupAgree) {
  constexpr ErrorCode busy = "run.busy";
  EXPECT_EQ(busy.text(), "run.busy");
  EXPECT_EQ(busy.retry(), Retry::never);
  ASSERT_TRUE(ErrorCode::from_text("sftp.timeout"));
  EXPECT_EQ(ErrorCode::from_text("sftp.timeout")->retry(), Retry::call);
  EXPECT_EQ(*ErrorCode::from_text("io.write"), ErrorCode("io.write"));
  EXPECT_FALSE(ErrorCode::from_text("run.bussy"));
  EXPECT_FALSE(ErrorCode::from_text(""));
}

TEST(ErrorCodes, TheErrorCarriesItsRetryMeaning) {
  EXPECT_EQ(kbix::Error("sftp.connection_lost", "x").retry(), Retry::call);
  EXPECT_EQ(kbix::Error("io.sync", "x").retry(), Retry::step);
  EXPECT_EQ(kbix::Error("envelope.bad_signature", "x").retry(), Retry::never);
  // A code from another kbix (the control socket): kept, never retried, said so.
  const auto foreign = kbix::Error::from_text("run.from_the_future", "refused");
  EXPECT_EQ(foreign.code, "run.from_the_future");
  EXPECT_EQ(foreign.retry(), Retry::never);
  EXPECT_NE(foreign.message.find("does not know"), std::string::npos);
  EXPECT_EQ(kbix::Error::from_text("run.busy", "busy").message, "busy");
}

TEST(ErrorCodes, OneRuleForTheExitCode) {
  EXPECT_EQ(kbix::exit_code_for(kbix::Error("config.value", "x")), kbix::kExitConfig);
  EXPECT_EQ(kbix::exit_code_for(kbix::Error("security.key_file_mode", "x")), kbix::kExitConfig);
  EXPECT_EQ(kbix::exit_code_for(kbix::Error("keys.unreadable", "x")), kbix::kExitConfig);
  EXPECT_EQ(kbix::exit_code_for(kbix::Error("run.busy", "x")), kbix::kExitFailure);
  EXPECT_EQ(kbix::exit_code_for(kbix::Error("sftp.timeout", "x")), kbix::kExitFailure);
}

TEST(ErrorCodes, AssignOrReturnPropagates) {
  const auto half = [](int n) -> kbix::Result<int> {
    if (n % 2 != 0) return kbix::fail("config.value", "odd");
    return n / 2;
  };
  const auto quarter = [&](int n) -> kbix::Result<int> {
    KBIX_ASSIGN_OR_RETURN(const int h, half(n));
    KBIX_ASSIGN_OR_RETURN(auto q, half(h));
    return q;
  };
  EXPECT_EQ(*quarter(8), 2);
  ASSERT_FALSE(quarter(6));
  EXPECT_EQ(quarter(6).error().code, "config.value");
  EXPECT_EQ(quarter(6).error().message, "odd");
}

TEST(ErrorCodes, DocMatchesTheRegistry) {
  const fs::path doc = fs::path(KBIX_SOURCE_DIR) / "docs" / "errors.md";
  std::string text = read_text(doc);
  const auto at = text.find(kMarker);
  ASSERT_NE(at, std::string::npos) << doc << " lacks the marker line";
  const std::string generated = render_tables();
  if (std::getenv("KBIX_UPDATE_ERRORS_DOC") != nullptr) {
    text = text.substr(0, at + kMarker.size()) + "\n" + generated;
    std::ofstream(doc) << text;
  }
  EXPECT_EQ(text.substr(at + kMarker.size() + 1), generated)
      << "docs/errors.md differs from kErrorCodes; regenerate it (see the top of this test)";
}

TEST(ErrorCodes, EveryCodeTheCompilerCannotCheckIsRegistered) {
  std::set<std::string> unregistered;
  std::size_t seen = 0;
  for (const char* folder : {"src", "tests"}) {
    for (const auto& use : unchecked_code_literals(fs::path(KBIX_SOURCE_DIR) / folder)) {
      ++seen;
      const std::string code = use.substr(use.find(": ") + 2);
      if (!ErrorCode::from_text(code)) unregistered.insert(use);
    }
  }
  EXPECT_GT(seen, 100U) << "the scan found almost nothing: its patterns are broken";
  EXPECT_TRUE(unregistered.empty()) << [&] {
    std::string list;
    for (const auto& use : unregistered) list += "\n  " + use;
    return "unregistered codes:" + list;
  }();
}
