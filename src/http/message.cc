#include "http/message.h"

#include <algorithm>
#include <cctype>

#include <nlohmann/json.hpp>

namespace blockyard::http {

namespace {

// ASCII only, like header names (std::tolower is a call per byte).
constexpr char ascii_lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return ascii_lower(x) == ascii_lower(y);
         });
}

void Headers::add(std::string name, std::string value) {
  items_.emplace_back(std::move(name), std::move(value));
}

void Headers::set(std::string name, std::string value) {
  remove(name);
  add(std::move(name), std::move(value));
}

std::optional<std::string> Headers::get(std::string_view name) const {
  for (const auto& [k, v] : items_) {
    if (iequals(k, name)) return v;
  }
  return std::nullopt;
}

void Headers::remove(std::string_view name) {
  std::erase_if(items_, [&](const auto& kv) { return iequals(kv.first, name); });
}

static int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string url_decode(std::string_view text, bool form) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%' && i + 2 < text.size()) {
      int hi = hex_value(text[i + 1]);
      int lo = hex_value(text[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(form && c == '+' ? ' ' : c);
  }
  return out;
}

std::optional<std::string> Request::query_param(std::string_view name) const {
  std::string_view q = query;
  while (!q.empty()) {
    auto amp = q.find('&');
    std::string_view pair = q.substr(0, amp);
    auto eq = pair.find('=');
    std::string key = url_decode(pair.substr(0, eq), true);
    if (key == name) {
      return eq == std::string_view::npos ? std::string() : url_decode(pair.substr(eq + 1), true);
    }
    if (amp == std::string_view::npos) break;
    q.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

std::optional<std::string> Request::bearer_token() const {
  auto auth = headers.get("Authorization");
  if (!auth || auth->size() < 7 || !iequals(auth->substr(0, 7), "Bearer ")) return std::nullopt;
  std::string token = auth->substr(7);
  auto first = token.find_first_not_of(' ');
  if (first == std::string::npos) return std::nullopt;
  return token.substr(first);
}

Response Response::json(int status, const std::string& json_text) {
  Response r;
  r.status = status;
  r.headers.set("Content-Type", "application/json");
  r.body = json_text;
  return r;
}

Response Response::text(int status, std::string text) {
  Response r;
  r.status = status;
  r.headers.set("Content-Type", "text/plain; charset=utf-8");
  r.body = std::move(text);
  return r;
}

Response Response::error(int status, const std::string& code, const std::string& message) {
  return json(status, nlohmann::json{{"error", code}, {"message", message}}.dump());
}

Response Response::no_content() {
  Response r;
  r.status = 204;
  return r;
}

}  // namespace blockyard::http
