// The page a browser gets while its session's worker starts: it polls
// <app>/__blockyard/ready and reloads into the app once the worker answers.
// When the worker fails, the page says so in its heading and shows the
// ready endpoint's "message" (for everyone) and, when present, its "reason"
// and "log" (only the app's publishers get those).
#pragma once

#include <string>

#include "core/html.h"

namespace blockyard::proxy {

// `display_name` is the app title or name; `app_path` is "/app/<segment>/".
// `timeout_ms` is how long the page waits before giving up.
std::string render_loading_page(const std::string& display_name, const std::string& app_path,
                                long long timeout_ms);

using blockyard::html_escape;

}  // namespace blockyard::proxy
