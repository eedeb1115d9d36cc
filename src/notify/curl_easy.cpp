#include "internal/curl_easy.hpp"

#include <mutex>

namespace kbix::detail {

Result<CurlHandle> make_curl(const std::string& url, const char* protocols,
                             std::chrono::seconds timeout) {
  static std::once_flag initialised;
  std::call_once(initialised, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  CurlHandle handle(curl_easy_init());
  if (!handle) return fail("notify.setup", "libcurl could not make a handle");
  CURL* curl = handle.get();
  const long seconds = static_cast<long>(timeout.count());
  bool set = curl_easy_setopt(curl, CURLOPT_URL, url.c_str()) == CURLE_OK &&
             curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, protocols) == CURLE_OK &&
             curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
             curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK &&
             curl_easy_setopt(curl, CURLOPT_PROXY, "") == CURLE_OK &&
             curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L) == CURLE_OK &&
             curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L) == CURLE_OK &&
             curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, seconds) == CURLE_OK &&
             curl_easy_setopt(curl, CURLOPT_TIMEOUT, seconds) == CURLE_OK;
  if (!set) return fail("notify.setup", "libcurl refused an option for this channel");
  return handle;
}

Unexpected<Error> curl_failure(CURLcode code, const std::string& channel) {
  return fail("notify.send", channel + ": " + curl_easy_strerror(code) + " (libcurl code " +
                                 std::to_string(static_cast<int>(code)) + ")");
}

}  // namespace kbix::detail
