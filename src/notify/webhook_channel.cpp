// A webhook: one HTTP(S) POST of a small JSON document. `text` is what Slack and Teams incoming
// webhooks show; the `kbix` object is for receivers that route on the event.
#include <nlohmann/json.hpp>

#include "internal/channels.hpp"
#include "internal/curl_easy.hpp"

namespace kbix::detail {
namespace {

std::size_t discard_body(char*, std::size_t size, std::size_t count, void*) {
  return size * count;  // the receiver's answer is not ours to log
}

class WebhookChannel final : public NotifyChannel {
 public:
  WebhookChannel(WebhookChannelConfig config, std::chrono::seconds timeout)
      : config_(std::move(config)), timeout_(timeout) {}

  std::string name() const override { return "webhook"; }

  Status send(const Notice& notice) override {
    KBIX_ASSIGN_OR_RETURN(auto handle, make_curl(config_.url, "http,https", timeout_));
    CURL* curl = handle.get();
    const std::string document =
        nlohmann::json{{"text", notice.subject + "\n\n" + notice.body},
                       {"kbix", {{"event", notice.event}, {"run_id", notice.run_id}}}}
            .dump();
    CurlList headers(curl_slist_append(nullptr, "Content-Type: application/json"));
    const bool set = curl_easy_setopt(curl, CURLOPT_POST, 1L) == CURLE_OK &&
                     curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers.get()) == CURLE_OK &&
                     curl_easy_setopt(curl, CURLOPT_POSTFIELDS, document.c_str()) == CURLE_OK &&
                     curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                                      static_cast<curl_off_t>(document.size())) == CURLE_OK &&
                     curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &discard_body) == CURLE_OK;
    if (!set) return fail("notify.setup", "webhook: libcurl refused an option");
    if (const CURLcode code = curl_easy_perform(curl); code != CURLE_OK) {
      return curl_failure(code, name());
    }
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    if (status < 200 || status > 299) {
      return fail("notify.send", "webhook: the receiver answered HTTP " + std::to_string(status));
    }
    return ok();
  }

 private:
  WebhookChannelConfig config_;
  std::chrono::seconds timeout_;
};

}  // namespace

std::unique_ptr<NotifyChannel> make_webhook_channel(const WebhookChannelConfig& config,
                                                    std::chrono::seconds timeout) {
  return std::make_unique<WebhookChannel>(config, timeout);
}

}  // namespace kbix::detail
