// The server's pages for people rather than programs: error pages worded
// for app users and the landing page at "/". A browser navigating asks for
// text/html and gets a page; API clients and scripts get the JSON error
// {"error": code, "message": message} they can parse. Pure functions; every
// value is HTML-escaped.
#pragma once

#include <string>
#include <string_view>

#include "http/message.h"

namespace blockyard::http {

// True when an Accept header asks for HTML (a browser loading a page).
bool prefers_html(std::string_view accept);

// A complete page in the server's look: `title` (escaped) in <title>, and
// `body_html` (trusted markup) in a centred box.
std::string render_page(const std::string& title, const std::string& body_html);

// A page with a heading and one paragraph.
std::string render_message_page(const std::string& title, const std::string& message);

// What "/" shows until the server has a web UI.
std::string render_landing_page();

// What to tell a person, beside the API's terse code and message.
struct UserError {
  int status;
  std::string code;         // "not_found", "service_unavailable", ...
  std::string api_message;  // the JSON message: "app not found"
  std::string title;        // page heading: "App not found"
  std::string text;         // one or two sentences for an app user
};

// The page (prefers_html) or the JSON error, with Cache-Control: no-store.
Response error_response(bool html, const UserError& error);

}  // namespace blockyard::http
