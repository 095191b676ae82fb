// ApiClient: the `by` CLI's HTTP client for the blockyard REST API (libcurl).
//
// Every request carries `Authorization: Bearer <token>`. Normal calls time out
// after 30 s; uploads after an hour; streams never. The first response that
// carries X-Blockyard-Version is compared with the CLI's version and a major
// mismatch is reported once on stderr. Transport failures throw
// CliError("cannot reach server <url>: <curl error>"); HTTP error statuses are
// returned, not thrown, so callers choose the message. Not thread-safe: one
// client per command invocation. Requires CurlGlobal to be alive.
#pragma once

#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "lib/config_file.h"

namespace blockyard::cli {

// Owns curl_global_init/cleanup for the process; create one in main().
class CurlGlobal {
 public:
  CurlGlobal();
  ~CurlGlobal();
  CurlGlobal(const CurlGlobal&) = delete;
  CurlGlobal& operator=(const CurlGlobal&) = delete;
};

struct HttpResponse {
  long status = 0;
  std::string body;  // for streams: only the body of a non-2xx response

  bool ok() const { return status >= 200 && status < 300; }
};

// Receives each chunk of a streamed 2xx response body as it arrives.
using ChunkSink = std::function<void(std::string_view chunk)>;

class ApiClient {
 public:
  explicit ApiClient(Credentials creds);

  const std::string& server() const { return creds_.server; }

  // `path` starts with "/api/v1/..." and is already escaped.
  HttpResponse get(const std::string& path);
  HttpResponse send(const std::string& method, const std::string& path,
                    const std::optional<nlohmann::json>& body = std::nullopt);
  HttpResponse upload_file(const std::string& path, const std::filesystem::path& file,
                           const std::string& content_type);
  HttpResponse stream(const std::string& path, const ChunkSink& sink);

 private:
  struct Request;
  HttpResponse perform(const Request& request);
  void check_version(const std::string& server_version);

  Credentials creds_;
  bool version_checked_ = false;
};

// The response parsed as JSON when its status is 2xx; otherwise throws
// CliError with the server's message (prefixed by `context` + ": " if given).
nlohmann::json expect_json(const HttpResponse& response, const std::string& context = "");

// Throws CliError like expect_json when the status is not 2xx.
void expect_success(const HttpResponse& response, const std::string& context = "");

}  // namespace blockyard::cli
