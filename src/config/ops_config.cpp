#include <optional>
#include <string_view>

#include "internal/ops_config_reader.hpp"

namespace kbix::detail {
namespace {

bool has_scheme(std::string_view url, std::initializer_list<std::string_view> schemes) {
  for (const auto scheme : schemes) {
    if (url.starts_with(scheme) && url.size() > scheme.size()) return true;
  }
  return false;
}

// One address, no display name, no characters that could start another header line.
bool is_mail_address(std::string_view text) {
  const auto at = text.find('@');
  if (at == 0 || at == std::string_view::npos || at + 1 >= text.size() || text.size() > 254) {
    return false;
  }
  for (const char c : text) {
    if (c <= ' ' || c == '<' || c == '>' || c == ',' || c == ';' || c == '"' || c == 0x7f) {
      return false;
    }
  }
  return true;
}

void read_email(TableReader& table, const std::filesystem::path& dir, EmailChannelConfig& out) {
  out.url = table.text("url", true).value_or("");
  out.from = table.text("from", true).value_or("");
  out.to = table.text_list("to", true).value_or(std::vector<std::string>{});
  out.require_starttls = table.boolean("starttls", false).value_or(false);
  out.username = table.text("username", false).value_or("");
  out.password_file = table.path("password_file", false, dir);
  out.ca_file = table.path("ca_file", false, dir);
  if (!out.url.empty() && !has_scheme(out.url, {"smtp://", "smtps://"})) {
    table.reject("url", "must start with smtp:// or smtps://");
  }
  if (!out.from.empty() && !is_mail_address(out.from)) {
    table.reject("from", "is not a single e-mail address");
  }
  if (out.to.empty()) table.reject("to", "needs at least one address");
  for (const auto& address : out.to) {
    if (!is_mail_address(address)) {
      table.reject("to", "holds an entry that is not a single e-mail address");
      break;
    }
  }
  if (out.password_file && out.username.empty()) {
    table.reject("password_file", "needs a username");
  }
}

template <class Read>
Status optional_section(TableReader& parent, const std::filesystem::path& file,
                        std::string_view name, const std::string& where, Read&& read) {
  const toml::table* table = parent.table(name, false);
  if (table == nullptr) return ok();
  TableReader reader(*table, file, where);
  read(reader);
  return reader.finish();
}

}  // namespace

Status read_operations_sections(TableReader& root, const std::filesystem::path& file,
                                const std::filesystem::path& dir, NotifyConfig& notify,
                                MetricsConfig& metrics) {
  std::optional<Error> sub_error;
  KBIX_TRY(optional_section(root, file, "notify", "[notify]", [&](TableReader& t) {
    notify.repeat_interval = std::chrono::seconds(
        t.integer("repeat_interval_seconds", false, 1, 366LL * 86400).value_or(24 * 3600));
    notify.attempts = static_cast<int>(t.integer("attempts", false, 1, 10).value_or(3));
    notify.retry_delay =
        std::chrono::seconds(t.integer("retry_delay_seconds", false, 0, 3600).value_or(10));
    notify.timeout = std::chrono::seconds(t.integer("timeout_seconds", false, 1, 600).value_or(20));
    notify.run_finished = t.boolean("run_finished", false).value_or(false);
    // The sub-tables are read (and checked) inside [notify], so [notify] knows their names.
    auto email = optional_section(t, file, "email", "[notify.email]", [&](TableReader& e) {
      notify.email.emplace();
      read_email(e, dir, *notify.email);
    });
    if (!email) sub_error = std::move(email).error();
    auto webhook = optional_section(t, file, "webhook", "[notify.webhook]", [&](TableReader& w) {
      notify.webhook.emplace();
      notify.webhook->url = w.text("url", true).value_or("");
      if (!notify.webhook->url.empty() &&
          !has_scheme(notify.webhook->url, {"https://", "http://"})) {
        w.reject("url", "must start with https:// (or http:// for a receiver on this machine)");
      }
    });
    if (!webhook && !sub_error) sub_error = std::move(webhook).error();
  }));
  if (sub_error) return fail(std::move(*sub_error));
  return optional_section(root, file, "metrics", "[metrics]", [&](TableReader& t) {
    metrics.textfile_dir = t.path("textfile_dir", true, dir);
  });
}

}  // namespace kbix::detail
