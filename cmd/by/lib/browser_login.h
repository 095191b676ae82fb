// Pure pieces of `by login` through the browser (the server side is
// src/auth/cli_login.h): the PKCE pair and state, the URL to open, and
// reading the loopback redirect the browser makes back to `by`.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace blockyard::cli {

struct BrowserLoginRequest {
  std::string state;           // random, checked on the way back
  std::string code_verifier;   // stays in `by`
  std::string code_challenge;  // S256 of the verifier, sent to the server
};

// A fresh state and PKCE pair.
BrowserLoginRequest new_browser_login();

// <server>/login/cli?port=..&state=..&code_challenge=..&name=..
std::string browser_login_url(const std::string& server, int port,
                              const BrowserLoginRequest& request, const std::string& token_name);

// The query parameters of "GET /callback?..." from an HTTP request head;
// nullopt for any other request (favicon, a different path, garbage).
std::optional<std::map<std::string, std::string>> parse_callback_request(std::string_view head);

}  // namespace blockyard::cli
