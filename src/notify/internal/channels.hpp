// The two channels (internal to the notify module).
#pragma once

#include <chrono>
#include <memory>

#include "kbix/config/ops_config.hpp"
#include "kbix/notify/notifier.hpp"

namespace kbix::detail {

Result<std::unique_ptr<NotifyChannel>> make_email_channel(const EmailChannelConfig& config,
                                                          std::chrono::seconds timeout);
std::unique_ptr<NotifyChannel> make_webhook_channel(const WebhookChannelConfig& config,
                                                    std::chrono::seconds timeout);

}  // namespace kbix::detail
