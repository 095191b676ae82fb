// The few HTML pages of sign-in: a failed sign-in, the signed-out page, and
// the confirmation page of `by login` through the browser. Pure functions;
// every value is HTML-escaped.
#pragma once

#include <string>

namespace blockyard::api {

std::string render_message_page(const std::string& title, const std::string& message,
                                const std::string& link_text = "",
                                const std::string& link_href = "");

struct CliLoginForm {
  std::string user_name;
  std::string token_name;
  std::string port;
  std::string state;
  std::string code_challenge;
  std::string form_token;
};
std::string render_cli_login_page(const CliLoginForm& form);

}  // namespace blockyard::api
