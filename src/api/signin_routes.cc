// The browser sign-in endpoints (auth/sign_in.h) and the confirmation step
// of `by login` through the browser (auth/cli_login.h). Without [oidc],
// /login, /callback and /login/cli answer 404; /logout still clears the
// cookie.
#include <charconv>
#include <map>

#include <spdlog/spdlog.h>

#include "api/caller.h"
#include "api/routes.h"
#include "api/signin_pages.h"
#include "auth/cookies.h"
#include "auth/csrf.h"
#include "auth/oidc_client.h"
#include "auth/return_url.h"
#include "core/error.h"
#include "core/url.h"

namespace blockyard::api {

namespace {

constexpr std::size_t kMaxStateLength = 128;
constexpr std::size_t kMaxTokenNameLength = 100;

http::Response html(int status, std::string body) {
  http::Response r;
  r.status = status;
  r.headers.set("Content-Type", "text/html; charset=utf-8");
  r.headers.set("Cache-Control", "no-store");
  r.headers.set("Content-Security-Policy",
                "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' "
                "http://127.0.0.1:*; frame-ancestors 'none'");
  r.body = std::move(body);
  return r;
}

http::Response not_found() {
  return http::Response::text(404, "not found\n");
}

http::Response redirect(int status, const std::string& location,
                        const std::vector<std::string>& cookies = {}) {
  http::Response r;
  r.status = status;
  r.headers.set("Location", location);
  r.headers.set("Cache-Control", "no-store");
  for (const auto& c : cookies) r.headers.add("Set-Cookie", c);
  return r;
}

std::optional<std::string> cookie(const http::Request& req, std::string_view name) {
  auto header = req.headers.get("Cookie");
  if (!header) return std::nullopt;
  return auth::find_cookie(*header, name);
}

std::map<std::string, std::string> parse_form(const std::string& body) {
  std::map<std::string, std::string> fields;
  std::size_t start = 0;
  while (start <= body.size()) {
    auto amp = body.find('&', start);
    if (amp == std::string::npos) amp = body.size();
    std::string pair = body.substr(start, amp - start);
    auto eq = pair.find('=');
    if (!pair.empty()) {
      fields[http::url_decode(pair.substr(0, eq), true)] =
          eq == std::string::npos ? "" : http::url_decode(pair.substr(eq + 1), true);
    }
    start = amp + 1;
  }
  return fields;
}

// A path or URL as one query value ("/" kept for readability).
std::string query_escape(const std::string& value) {
  return percent_encode(value, "/");
}

http::Response with_cookies(http::Response r, const std::vector<std::string>& cookies) {
  for (const auto& c : cookies) r.headers.add("Set-Cookie", c);
  return r;
}

http::Response answer(const auth::SignInAnswer& a) {
  if (a.message.empty()) return redirect(a.status, a.location, a.set_cookies);
  return with_cookies(
      html(a.status, render_message_page("Sign-in failed", a.message, "Sign in again", "/login")),
      a.set_cookies);
}

// The parameters `by login` put in the /login/cli URL (or the form).
struct CliParams {
  std::string port;
  std::string state;
  std::string code_challenge;
  std::string token_name;
};

bool is_token_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

std::optional<std::string> cli_params_error(const CliParams& p) {
  int port = 0;
  auto [end, ec] = std::from_chars(p.port.data(), p.port.data() + p.port.size(), port);
  if (ec != std::errc() || end != p.port.data() + p.port.size() || port < 1024 || port > 65535) {
    return "port must be a number from 1024 to 65535";
  }
  if (p.state.empty() || p.state.size() > kMaxStateLength ||
      !std::all_of(p.state.begin(), p.state.end(), is_token_char)) {
    return "state is missing or malformed";
  }
  if (!auth::is_code_challenge(p.code_challenge)) return "code_challenge is missing or malformed";
  if (p.token_name.size() > kMaxTokenNameLength) return "name is too long";
  return std::nullopt;
}

std::string loopback(const CliParams& p, const std::string& query) {
  return "http://127.0.0.1:" + p.port + "/callback?" + query + "&state=" + query_escape(p.state);
}

std::optional<auth::Caller> signed_in(ApiContext& ctx, const http::Request& req) {
  auto value = cookie(req, auth::kSessionCookie);
  if (!value || ctx.sessions == nullptr) return std::nullopt;
  return ctx.sessions->check(*value).caller;
}

http::Response cli_login_page(ApiContext& ctx, http::Request& req) {
  if (ctx.sign_in == nullptr || ctx.cli_login == nullptr) return not_found();
  CliParams p{req.query_param("port").value_or(""), req.query_param("state").value_or(""),
              req.query_param("code_challenge").value_or(""), req.query_param("name").value_or("")};
  if (p.token_name.empty()) p.token_name = "by CLI";
  if (auto error = cli_params_error(p)) {
    return html(400, render_message_page("Cannot sign in by", *error));
  }
  auto caller = signed_in(ctx, req);
  if (!caller) return redirect(302, "/login?return_url=" + query_escape(req.target));
  return html(200,
              render_cli_login_page({caller->name, p.token_name, p.port, p.state, p.code_challenge,
                                     ctx.cli_login->form_token(caller->session_id)}));
}

http::Response cli_login_confirm(ApiContext& ctx, http::Request& req) {
  if (ctx.sign_in == nullptr || ctx.cli_login == nullptr) return not_found();
  auto form = parse_form(req.body);
  CliParams p{form["port"], form["state"], form["code_challenge"], form["name"]};
  if (p.token_name.empty()) p.token_name = "by CLI";
  if (auto error = cli_params_error(p)) {
    return html(400, render_message_page("Cannot sign in by", *error));
  }
  auto caller = signed_in(ctx, req);
  if (!caller) {
    return html(401, render_message_page("Not signed in",
                                         "Your sign-in has ended. Run by login "
                                         "again."));
  }
  if (!auth::is_same_origin_request(req.method, req.headers.get("Sec-Fetch-Site"),
                                    req.headers.get("Origin"),
                                    auth::url_origin(ctx.config.server.external_url)) ||
      !ctx.cli_login->form_token_valid(caller->session_id, form["form_token"])) {
    return html(403, render_message_page("Request refused",
                                         "This confirmation did not come from blockyard's own "
                                         "page. Run by login again."));
  }
  if (form["action"] != "approve") return redirect(303, loopback(p, "error=access_denied"));
  std::string code = ctx.cli_login->issue(caller->sub, p.code_challenge, p.token_name);
  return redirect(303, loopback(p, "code=" + query_escape(code)));
}

}  // namespace

void register_signin_routes(http::Router& router, ApiContext& ctx) {
  router.add("GET", "/login", [&ctx](http::Request& req) {
    if (ctx.sign_in == nullptr) return not_found();
    return answer(ctx.sign_in->begin(req.query_param("return_url").value_or("/")));
  });
  router.add("GET", "/callback", [&ctx](http::Request& req) {
    if (ctx.sign_in == nullptr) return not_found();
    auth::CallbackParams params{
        req.query_param("state").value_or(""), req.query_param("code").value_or(""),
        req.query_param("error").value_or(""), req.query_param("error_description").value_or("")};
    return answer(ctx.sign_in->finish(params, cookie(req, auth::kStateCookie), source_ip(req)));
  });
  auto logout = [&ctx](http::Request& req) {
    if (ctx.sign_in == nullptr) {
      bool secure = ctx.config.server.external_url.starts_with("https://");
      return redirect(302, "/signed-out",
                      {auth::clear_cookie_header(auth::kSessionCookie, secure)});
    }
    return answer(ctx.sign_in->sign_out(cookie(req, auth::kSessionCookie), source_ip(req)));
  };
  router.add("GET", "/logout", logout);
  router.add("POST", "/logout", logout);
  router.add("GET", "/signed-out", [&ctx](http::Request&) {
    if (ctx.sign_in == nullptr) {
      return html(200, render_message_page("Signed out", "You are signed out of blockyard."));
    }
    return html(200, render_message_page("Signed out", "You are signed out of blockyard.",
                                         "Sign in again", "/login"));
  });
  router.add("GET", "/login/cli", [&ctx](http::Request& req) { return cli_login_page(ctx, req); });
  router.add("POST", "/login/cli",
             [&ctx](http::Request& req) { return cli_login_confirm(ctx, req); });
}

}  // namespace blockyard::api
