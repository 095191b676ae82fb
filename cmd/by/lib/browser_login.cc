#include "lib/browser_login.h"

#include "core/base64.h"
#include "core/crypto.h"
#include "lib/text.h"

namespace blockyard::cli {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string query_decode(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out += ' ';
    } else if (text[i] == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 &&
               hex_value(text[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

}  // namespace

BrowserLoginRequest new_browser_login() {
  BrowserLoginRequest r;
  r.state = base64url_encode(random_bytes(16));
  r.code_verifier = base64url_encode(random_bytes(32));
  r.code_challenge = base64url_encode(sha256(r.code_verifier));
  return r;
}

std::string browser_login_url(const std::string& server, int port,
                              const BrowserLoginRequest& request, const std::string& token_name) {
  return server + "/login/cli?port=" + std::to_string(port) +
         "&state=" + url_escape(request.state) +
         "&code_challenge=" + url_escape(request.code_challenge) +
         "&name=" + url_escape(token_name);
}

std::optional<std::map<std::string, std::string>> parse_callback_request(std::string_view head) {
  auto line_end = head.find("\r\n");
  std::string_view line = head.substr(0, line_end);
  constexpr std::string_view kPrefix = "GET /callback?";
  if (!line.starts_with(kPrefix)) return std::nullopt;
  auto space = line.find(' ', kPrefix.size());
  if (space == std::string_view::npos) return std::nullopt;
  std::string_view query = line.substr(kPrefix.size(), space - kPrefix.size());
  std::map<std::string, std::string> params;
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    auto eq = pair.find('=');
    if (eq != std::string_view::npos) {
      params[query_decode(pair.substr(0, eq))] = query_decode(pair.substr(eq + 1));
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return params;
}

}  // namespace blockyard::cli
