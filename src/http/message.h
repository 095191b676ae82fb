// Beast-free request/response types used by API handlers. The HTTP server
// (http/server.h) converts between these and Boost.Beast messages, so handler
// code never includes Beast.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace blockyard::http {

// Ordered header list with case-insensitive lookup.
class Headers {
 public:
  void add(std::string name, std::string value);
  void set(std::string name, std::string value);  // replaces every earlier value
  std::optional<std::string> get(std::string_view name) const;
  bool has(std::string_view name) const { return get(name).has_value(); }
  void remove(std::string_view name);
  const std::vector<std::pair<std::string, std::string>>& all() const { return items_; }

 private:
  std::vector<std::pair<std::string, std::string>> items_;
};

bool iequals(std::string_view a, std::string_view b);

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string target;  // raw request-target: path plus "?query"
  std::string path;    // decoded path without the query
  std::string query;   // raw query string without '?'
  Headers headers;
  std::string body;                 // in-memory body (API requests, capped at 1 MiB)
  std::filesystem::path body_file;  // set instead of `body` for spooled uploads
  std::string peer_ip;              // client address as seen by the listener
  std::string client_ip;  // the client behind trusted proxies (http/client_ip.h); "" = peer_ip
  std::map<std::string, std::string> params;  // path parameters filled by the router

  // Decoded value of query parameter `name`, if present.
  std::optional<std::string> query_param(std::string_view name) const;
  // The bearer token from Authorization, if any.
  std::optional<std::string> bearer_token() const;
};

// Pulls the next piece of a streamed (chunked) body. Return a non-empty chunk
// to send it; return an empty chunk with done=false to be polled again
// shortly; return done=true to finish (a final chunk may accompany it).
struct Chunk {
  std::string data;
  bool done = false;
};
using ChunkSource = std::function<Chunk()>;

struct Response {
  int status = 200;
  Headers headers;
  std::string body;
  ChunkSource stream;  // when set, `body` is ignored and the body is chunked

  static Response json(int status, const std::string& json_text);
  static Response text(int status, std::string text);
  // {"error": code, "message": message}
  static Response error(int status, const std::string& code, const std::string& message);
  static Response no_content();
};

using Handler = std::function<Response(Request&)>;

// Percent-decoding of a URL component ('+' stays '+' unless form=true).
std::string url_decode(std::string_view text, bool form = false);

}  // namespace blockyard::http
