#include "api/signin_pages.h"

#include "core/html.h"

namespace blockyard::api {
namespace {

constexpr const char* kStyle =
    "body{font-family:system-ui,sans-serif;background:#f6f7f9;color:#222;margin:0}"
    ".box{max-width:32rem;margin:12vh auto;background:#fff;border-radius:8px;padding:2rem;"
    "box-shadow:0 1px 4px rgba(0,0,0,.12)}h1{font-size:1.3rem;margin-top:0}"
    "button{font-size:1rem;padding:.5rem 1.2rem;margin-right:.6rem;border-radius:4px;"
    "border:1px solid #888;background:#fff;cursor:pointer}"
    "button.primary{background:#1f6feb;color:#fff;border-color:#1f6feb}code{background:#eee;"
    "padding:0 .2rem}";

std::string page(const std::string& title, const std::string& body_html) {
  return "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
         "<meta name=\"viewport\" content=\"width=device-width\"><title>" +
         html_escape(title) + " \u2014 blockyard</title><style>" + kStyle +
         "</style></head><body><div class=\"box\">" + body_html + "</div></body></html>\n";
}

std::string hidden(const char* name, const std::string& value) {
  return std::string("<input type=\"hidden\" name=\"") + name + "\" value=\"" + html_escape(value) +
         "\">";
}

}  // namespace

std::string render_message_page(const std::string& title, const std::string& message,
                                const std::string& link_text, const std::string& link_href) {
  std::string body = "<h1>" + html_escape(title) + "</h1><p>" + html_escape(message) + "</p>";
  if (!link_text.empty()) {
    body += "<p><a href=\"" + html_escape(link_href) + "\">" + html_escape(link_text) + "</a></p>";
  }
  return page(title, body);
}

std::string render_cli_login_page(const CliLoginForm& form) {
  std::string body =
      "<h1>Sign in the by command-line tool?</h1>"
      "<p>You are signed in as <strong>" +
      html_escape(form.user_name) +
      "</strong>. Approving creates a personal access token named <code>" +
      html_escape(form.token_name) +
      "</code> and hands it to the <code>by</code> command waiting on this computer. "
      "Approve only if you just ran <code>by login</code>.</p>"
      "<form method=\"post\" action=\"/login/cli\">" +
      hidden("port", form.port) + hidden("state", form.state) +
      hidden("code_challenge", form.code_challenge) + hidden("name", form.token_name) +
      hidden("form_token", form.form_token) +
      "<button class=\"primary\" type=\"submit\" name=\"action\" value=\"approve\">Approve"
      "</button><button type=\"submit\" name=\"action\" value=\"deny\">Cancel</button></form>";
  return page("Sign in by", body);
}

}  // namespace blockyard::api
