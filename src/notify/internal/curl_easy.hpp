// A libcurl easy handle with the settings both channels share (internal to the notify module).
#pragma once

#include <curl/curl.h>

#include <chrono>
#include <memory>
#include <string>

#include "kbix/core/result.hpp"

namespace kbix::detail {

struct CurlDeleter {
  void operator()(CURL* handle) const noexcept { curl_easy_cleanup(handle); }
};
using CurlHandle = std::unique_ptr<CURL, CurlDeleter>;

struct CurlListDeleter {
  void operator()(curl_slist* list) const noexcept { curl_slist_free_all(list); }
};
using CurlList = std::unique_ptr<curl_slist, CurlListDeleter>;

// A handle limited to `protocols` ("smtp,smtps"), no signals, no redirects, no proxy from the
// environment, TLS peers verified, the whole transfer bounded by `timeout`.
Result<CurlHandle> make_curl(const std::string& url, const char* protocols,
                             std::chrono::seconds timeout);

// libcurl's own text for a code (static, holds nothing from the peer), as a notify.send error.
Unexpected<Error> curl_failure(CURLcode code, const std::string& channel);

}  // namespace kbix::detail
