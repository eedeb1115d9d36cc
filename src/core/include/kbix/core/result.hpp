// Result<T>: the value of an operation that can fail in an expected way.
//
// Expected failures (bad input, a refused connection, a tampered file) are values, not exceptions.
// An Error carries a stable machine-readable `code` ("csv.unterminated_quote") that tests and
// the hostile-input corpus match on, and a `message` for a person. The code is one of the
// registry (kbix/core/error_codes.hpp): an Error is built from an ErrorCode, so a misspelt code
// does not compile; the registry also says whether a retry can help (Error::retry()). Messages name
// files, lines and columns but NEVER hold personal data (no INSZ, no field values): see DESIGN.md
// invariant 5.
//
// Written by hand because std::expected is C++23 and the project targets C++20 with Debian 12's
// GCC 12; this is the small subset the project needs.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

#include "kbix/core/error_codes.hpp"

namespace kbix {

struct Error {
  std::string code;     // stable, dotted: "<module>.<kind>", registered in kErrorCodes
  std::string message;  // for a person; no personal data

  Error() = default;
  Error(ErrorCode error_code, std::string text)
      : code(error_code.text()), message(std::move(text)) {}
  // An error whose code arrived as text (the daemon's answer on the control socket), looked up
  // in the registry at run time. The text is kept as it came; an unregistered code (another
  // kbix version) says so in the message and never retries.
  static Error from_text(std::string code, std::string message) {
    Error error;
    if (!ErrorCode::from_text(code)) message += " (an error code this kbix does not know)";
    error.code = std::move(code);
    error.message = std::move(message);
    return error;
  }

  // What a retry can do about this error (the registry's row for its code).
  [[nodiscard]] Retry retry() const { return retry_of(code); }

  // "message [code]": what the CLI prints.
  [[nodiscard]] std::string describe() const { return message + " [" + code + "]"; }
  friend bool operator==(const Error&, const Error&) = default;
};

template <class E>
struct Unexpected {
  E error;
};

// fail("csv.bare_quote", "kbi.csv:12:3: quote inside an unquoted field")
inline Unexpected<Error> fail(ErrorCode code, std::string message) {
  return {Error{code, std::move(message)}};
}
inline Unexpected<Error> fail(Error error) {
  return {std::move(error)};
}

template <class T, class E = Error>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit
  Result(Unexpected<E> failure)                                          // NOLINT: implicit
      : state_(std::in_place_index<1>, std::move(failure.error)) {}

  [[nodiscard]] bool has_value() const noexcept { return state_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  T& value() & {
    assert(has_value());
    return std::get<0>(state_);
  }
  const T& value() const& {
    assert(has_value());
    return std::get<0>(state_);
  }
  T&& value() && {
    assert(has_value());
    return std::get<0>(std::move(state_));
  }
  const E& error() const& {
    assert(!has_value());
    return std::get<1>(state_);
  }
  E&& error() && {
    assert(!has_value());
    return std::get<1>(std::move(state_));
  }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, E> state_;
};

template <class E>
class [[nodiscard]] Result<void, E> {
 public:
  Result() = default;
  Result(Unexpected<E> failure) : error_(std::move(failure.error)), failed_(true) {}  // NOLINT

  [[nodiscard]] bool has_value() const noexcept { return !failed_; }
  explicit operator bool() const noexcept { return !failed_; }
  const E& error() const& {
    assert(failed_);
    return error_;
  }
  E&& error() && {
    assert(failed_);
    return std::move(error_);
  }

 private:
  E error_{};
  bool failed_ = false;
};

using Status = Result<void>;
inline Status ok() {
  return {};
}

}  // namespace kbix

// Propagates a failure: KBIX_TRY(step()) returns the error from the enclosing function.
#define KBIX_TRY(expr)                                          \
  do {                                                          \
    if (auto kbix_try_result_ = (expr); !kbix_try_result_)      \
      return ::kbix::fail(std::move(kbix_try_result_).error()); \
  } while (false)

// Assigns or propagates: KBIX_ASSIGN_OR_RETURN(auto text, read_file(path)) declares `text` as the
// value of the Result, or returns its error from the enclosing function. `expr` is evaluated
// once; the declaration may be `auto`, `auto&&` or a type, or an existing variable to assign.
#define KBIX_ASSIGN_OR_RETURN(declaration, expr) \
  KBIX_ASSIGN_OR_RETURN_IMPL_(KBIX_CONCAT_(kbix_assign_result_, __LINE__), declaration, expr)
#define KBIX_CONCAT_INNER_(a, b) a##b
#define KBIX_CONCAT_(a, b) KBIX_CONCAT_INNER_(a, b)
#define KBIX_ASSIGN_OR_RETURN_IMPL_(result, declaration, expr) \
  auto result = (expr);                                        \
  if (!result) return ::kbix::fail(std::move(result).error()); \
  declaration = std::move(result).value()
