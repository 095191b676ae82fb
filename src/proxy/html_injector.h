// Puts the resumable-WebSocket client script (resilient_client_js.cc) into
// the app's HTML pages on their way from the worker to the browser.
//
// The proxy asks the worker for page requests without Accept-Encoding, so
// pages arrive uncompressed; anything compressed, or not text/html, passes
// through untouched. Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace blockyard::proxy {

// Pages larger than this stream through unchanged (no injection).
inline constexpr std::size_t kMaxInjectedPageBytes = 8u << 20;

// True for a text/html body in identity encoding.
bool is_injectable_html(std::string_view content_type, std::string_view content_encoding);

// `html` with `snippet` inserted just before the first "</head>" (any case),
// else before the last "</body>"; unchanged when it has neither (a fragment,
// not a page).
std::string inject_before_head_end(std::string_view html, std::string_view snippet);

// The <script> element carrying the resumable-socket client.
const std::string& resilient_client_tag();

// The client script itself (JavaScript source).
std::string_view resilient_client_js();

}  // namespace blockyard::proxy
