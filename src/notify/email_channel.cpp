// E-mail through an SMTP relay with libcurl: STARTTLS when the relay offers it (required when
// configured, and whenever a user name is: a password never crosses the wire in clear),
// authentication when a user name is configured.
#include <ctime>
#include <string_view>

#include "internal/channels.hpp"
#include "internal/curl_easy.hpp"
#include "kbix/core/file_safety.hpp"
#include "kbix/core/utc_time.hpp"

namespace kbix::detail {
namespace {

std::string rfc5322_date(std::chrono::system_clock::time_point when) {
  return utc_formatted(when, UtcShape::rfc5322);
}

// Lines end in CRLF on the wire.
std::string crlf(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 16);
  for (const char c : text) {
    if (c == '\r') continue;
    if (c == '\n') out += '\r';
    out += c;
  }
  return out;
}

struct Upload {
  std::string_view data;
  static std::size_t read(char* buffer, std::size_t size, std::size_t count, void* self) {
    auto& upload = *static_cast<Upload*>(self);
    const std::size_t n = std::min(size * count, upload.data.size());
    std::copy_n(upload.data.data(), n, buffer);
    upload.data.remove_prefix(n);
    return n;
  }
};

class EmailChannel final : public NotifyChannel {
 public:
  EmailChannel(EmailChannelConfig config, std::string password, std::chrono::seconds timeout)
      : config_(std::move(config)), password_(std::move(password)), timeout_(timeout) {}
  ~EmailChannel() override { std::fill(password_.begin(), password_.end(), '\0'); }

  std::string name() const override { return "email"; }

  Status send(const Notice& notice) override {
    KBIX_ASSIGN_OR_RETURN(auto handle, make_curl(config_.url, "smtp,smtps", timeout_));
    CURL* curl = handle.get();
    std::string to_header;
    CurlList recipients;
    for (const auto& address : config_.to) {
      recipients.reset(curl_slist_append(recipients.release(), ("<" + address + ">").c_str()));
      to_header += (to_header.empty() ? "" : ", ") + address;
    }
    const std::string message =
        crlf("Date: " + rfc5322_date(std::chrono::system_clock::now()) + "\nFrom: " + config_.from +
             "\nTo: " + to_header + "\nSubject: " + notice.subject +
             "\nMIME-Version: 1.0\nContent-Type: text/plain; "
             "charset=utf-8\nContent-Transfer-Encoding: 8bit\n"
             "Auto-Submitted: auto-generated\n\n" +
             notice.body + "\n");
    Upload upload{message};
    const std::string from = "<" + config_.from + ">";
    bool set = curl_easy_setopt(curl, CURLOPT_MAIL_FROM, from.c_str()) == CURLE_OK &&
               curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, recipients.get()) == CURLE_OK &&
               curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L) == CURLE_OK &&
               curl_easy_setopt(curl, CURLOPT_READFUNCTION, &Upload::read) == CURLE_OK &&
               curl_easy_setopt(curl, CURLOPT_READDATA, &upload) == CURLE_OK &&
               curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE,
                                static_cast<curl_off_t>(message.size())) == CURLE_OK &&
               curl_easy_setopt(curl, CURLOPT_USE_SSL,
                                config_.require_starttls || !config_.username.empty()
                                    ? CURLUSESSL_ALL
                                    : CURLUSESSL_TRY) == CURLE_OK;
    if (config_.ca_file) {
      set = set && curl_easy_setopt(curl, CURLOPT_CAINFO, config_.ca_file->c_str()) == CURLE_OK;
    }
    if (!config_.username.empty()) {
      set = set && curl_easy_setopt(curl, CURLOPT_USERNAME, config_.username.c_str()) == CURLE_OK &&
            curl_easy_setopt(curl, CURLOPT_PASSWORD, password_.c_str()) == CURLE_OK;
    }
    if (!set) return fail("notify.setup", "email: libcurl refused an option");
    if (const CURLcode code = curl_easy_perform(curl); code != CURLE_OK) {
      return curl_failure(code, name());
    }
    return ok();
  }

 private:
  EmailChannelConfig config_;
  std::string password_;
  std::chrono::seconds timeout_;
};

}  // namespace

Result<std::unique_ptr<NotifyChannel>> make_email_channel(const EmailChannelConfig& config,
                                                          std::chrono::seconds timeout) {
  std::string password;
  if (config.password_file) {
    KBIX_TRY(check_private_file(*config.password_file));
    KBIX_ASSIGN_OR_RETURN(auto secret,
                          read_small_file(*config.password_file, 4096, "notify.setup"));
    password = std::move(secret);
    if (const auto end = password.find_first_of("\r\n"); end != std::string::npos) {
      std::fill(password.begin() + static_cast<std::ptrdiff_t>(end), password.end(), '\0');
      password.resize(end);
    }
  }
  return std::unique_ptr<NotifyChannel>(new EmailChannel(config, std::move(password), timeout));
}

}  // namespace kbix::detail
