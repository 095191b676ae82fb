#include "http/user_pages.h"

#include <nlohmann/json.hpp>

#include "core/html.h"

namespace blockyard::http {

namespace {

constexpr const char* kStyle =
    "body{font-family:system-ui,sans-serif;display:flex;align-items:center;"
    "justify-content:center;min-height:100vh;margin:0;background:#f6f7f9;color:#1f2933}"
    ".box{text-align:center;max-width:36rem;padding:2rem;line-height:1.5}"
    ".spinner{width:40px;height:40px;margin:0 auto 1.5rem;border:4px solid #d5dae1;"
    "border-top-color:#3b6ea8;border-radius:50%;animation:spin 0.9s linear infinite}"
    "@keyframes spin{to{transform:rotate(360deg)}}"
    ".error{color:#b42318}code{background:#e8ebef;padding:0 .25rem;border-radius:3px}"
    "pre{text-align:left;background:#fff;border:1px solid #d5dae1;padding:.75rem;"
    "overflow:auto;max-height:40vh;font-size:.85rem}";

}  // namespace

bool prefers_html(std::string_view accept) {
  return accept.find("text/html") != std::string_view::npos;
}

std::string render_page(const std::string& title, const std::string& body_html) {
  return "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
         "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>" +
         html_escape(title) + "</title><style>" + kStyle + "</style></head><body>" +
         "<main class=\"box\">" + body_html + "</main></body></html>\n";
}

std::string render_message_page(const std::string& title, const std::string& message) {
  return render_page(title, "<h1>" + html_escape(title) + "</h1><p>" + html_escape(message) +
                                "</p>");
}

std::string render_landing_page() {
  return render_page(
      "blockyard",
      "<h1>blockyard</h1>"
      "<p>This server runs Shiny apps. Each app lives at its own address, "
      "<code>/app/&lt;name&gt;/</code>: use the link you were given.</p>"
      "<p>Publishing an app? Deploy it with the <code>by</code> command-line tool.</p>");
}

Response error_response(bool html, const UserError& error) {
  Response response;
  response.status = error.status;
  if (html) {
    response.headers.set("Content-Type", "text/html; charset=utf-8");
    response.body = render_message_page(error.title, error.text);
  } else {
    response.headers.set("Content-Type", "application/json");
    response.body =
        nlohmann::json{{"error", error.code}, {"message", error.api_message}}.dump();
  }
  response.headers.set("Cache-Control", "no-store");
  return response;
}

}  // namespace blockyard::http
