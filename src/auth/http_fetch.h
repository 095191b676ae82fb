// HttpFetcher: the server's outgoing HTTP(S) requests to the identity
// provider (discovery, JWKS, token, userinfo). CurlFetcher is the real one
// (libcurl: TLS with the system CAs, HTTP(S)_PROXY honoured); unit tests
// pass a scripted fetcher.
//
// Thread safety: fetch() may be called from several threads at once.
// Failure: fetch() throws HttpFetchError when no HTTP answer arrives
// (unreachable, TLS failure, timeout, body over the size cap); any HTTP
// status is an answer, not an error.
#pragma once

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace blockyard::auth {

class HttpFetchError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct HttpCall {
  std::string method = "GET";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

struct HttpReply {
  long status = 0;
  std::string body;
};

class HttpFetcher {
 public:
  virtual ~HttpFetcher() = default;
  virtual HttpReply fetch(const HttpCall& call) = 0;
};

// Answers larger than 1 MiB are refused; redirects are not followed.
std::shared_ptr<HttpFetcher> make_curl_fetcher(std::chrono::milliseconds timeout);

// application/x-www-form-urlencoded encoding of one value.
std::string form_encode(const std::string& value);

}  // namespace blockyard::auth
