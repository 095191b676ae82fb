#include "api_client.h"

#include <curl/curl.h>

#include <cstdio>
#include <memory>

#include "lib/cli_error.h"
#include "lib/output.h"
#include "lib/text.h"

namespace blockyard::cli {
namespace {

constexpr long kNormalTimeoutSeconds = 30;
constexpr long kUploadTimeoutSeconds = 3600;
constexpr long kConnectTimeoutSeconds = 30;

struct EasyDeleter {
  void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
};
struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
struct FileCloser {
  void operator()(std::FILE* file) const { std::fclose(file); }
};
using EasyHandle = std::unique_ptr<CURL, EasyDeleter>;
using HeaderList = std::unique_ptr<curl_slist, SlistDeleter>;
using FileHandle = std::unique_ptr<std::FILE, FileCloser>;

void append_header(HeaderList& list, const std::string& header) {
  curl_slist* grown = curl_slist_append(list.get(), header.c_str());
  if (grown == nullptr) throw CliError("out of memory building request headers");
  list.release();
  list.reset(grown);
}

// State the libcurl callbacks fill in while a transfer runs.
struct Transfer {
  CURL* handle = nullptr;
  const ChunkSink* sink = nullptr;
  std::string body;
  std::string server_version;
};

size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const size_t bytes = size * count;
  long status = 0;
  curl_easy_getinfo(transfer->handle, CURLINFO_RESPONSE_CODE, &status);
  if (transfer->sink != nullptr && status >= 200 && status < 300) {
    (*transfer->sink)(std::string_view(data, bytes));
  } else {
    transfer->body.append(data, bytes);
  }
  return bytes;
}

size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const size_t bytes = size * count;
  std::string_view line(data, bytes);
  constexpr std::string_view kName = "x-blockyard-version:";
  if (line.size() > kName.size() && curl_strnequal(line.data(), kName.data(), kName.size())) {
    std::string_view value = line.substr(kName.size());
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
      value.remove_prefix(1);
    while (!value.empty() &&
           (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) {
      value.remove_suffix(1);
    }
    transfer->server_version = value;
  }
  return bytes;
}

size_t on_read_file(char* buffer, size_t size, size_t count, void* user) {
  auto* file = static_cast<std::FILE*>(user);
  const size_t n = std::fread(buffer, 1, size * count, file);
  if (n == 0 && std::ferror(file)) return CURL_READFUNC_ABORT;
  return n;
}

// A TLS handshake that fails at once against an https:// URL usually means
// the server speaks plain HTTP there (blockyard itself serves plain HTTP and
// leaves TLS to a reverse proxy).
std::string tls_hint(CURLcode rc, const std::string& server) {
  if (rc != CURLE_SSL_CONNECT_ERROR || !server.starts_with("https://")) return "";
  return " (the server does not speak TLS here; if it serves plain HTTP, use http://" +
         server.substr(8) + ")";
}

}  // namespace

CurlGlobal::CurlGlobal() {
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
    throw CliError("cannot initialise libcurl");
}
CurlGlobal::~CurlGlobal() {
  curl_global_cleanup();
}

struct ApiClient::Request {
  std::string method = "GET";
  std::string path;
  std::optional<std::string> body;
  std::string content_type;
  std::optional<std::filesystem::path> upload;
  const ChunkSink* sink = nullptr;
  long timeout_seconds = kNormalTimeoutSeconds;  // 0 = none
};

ApiClient::ApiClient(Credentials creds) : creds_(std::move(creds)) {}

HttpResponse ApiClient::get(const std::string& path) {
  Request request;
  request.path = path;
  return perform(request);
}

HttpResponse ApiClient::send(const std::string& method, const std::string& path,
                             const std::optional<nlohmann::json>& body) {
  Request request;
  request.method = method;
  request.path = path;
  if (body) {
    request.body = body->dump();
    request.content_type = "application/json";
  } else if (method != "GET" && method != "DELETE") {
    request.body = "";  // an explicit empty body, so Content-Length: 0 is sent
  }
  return perform(request);
}

HttpResponse ApiClient::upload_file(const std::string& path, const std::filesystem::path& file,
                                    const std::string& content_type) {
  Request request;
  request.method = "POST";
  request.path = path;
  request.upload = file;
  request.content_type = content_type;
  request.timeout_seconds = kUploadTimeoutSeconds;
  return perform(request);
}

HttpResponse ApiClient::stream(const std::string& path, const ChunkSink& sink) {
  Request request;
  request.path = path;
  request.sink = &sink;
  request.timeout_seconds = 0;
  return perform(request);
}

HttpResponse ApiClient::perform(const Request& request) {
  EasyHandle easy(curl_easy_init());
  if (!easy) throw CliError("cannot initialise libcurl");
  CURL* h = easy.get();
  const std::string url = creds_.server + request.path;
  Transfer transfer;
  transfer.handle = h;
  transfer.sink = request.sink;
  char error_buffer[CURL_ERROR_SIZE] = {};

  HeaderList headers;
  if (!creds_.token.empty()) append_header(headers, "Authorization: Bearer " + creds_.token);
  append_header(headers, "Accept: application/json, text/plain");
  // A bundle upload waits for the server's 100 Continue, so a bundle over the
  // server's size limit is refused before its bytes are sent.
  append_header(headers, request.upload ? "Expect: 100-continue" : "Expect:");
  if (!request.content_type.empty()) {
    append_header(headers, "Content-Type: " + request.content_type);
  } else if (request.body) {
    // An empty body must not be labelled form-encoded (curl's default for POST data).
    append_header(headers, "Content-Type:");
  }

  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(h, CURLOPT_USERAGENT, "by/" BLOCKYARD_VERSION);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, kConnectTimeoutSeconds);
  curl_easy_setopt(h, CURLOPT_TIMEOUT, request.timeout_seconds);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &transfer);

  FileHandle upload_file;
  if (request.upload) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(*request.upload, ec);
    if (ec) throw CliError("read " + request.upload->string() + ": " + ec.message());
    upload_file.reset(std::fopen(request.upload->c_str(), "rb"));
    if (!upload_file) throw CliError("open " + request.upload->string() + " for upload");
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read_file);
    curl_easy_setopt(h, CURLOPT_READDATA, upload_file.get());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(size));
  } else if (request.body) {
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, request.body->c_str());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body->size()));
  }
  if (request.method != "GET" && !(request.method == "POST" && (request.upload || request.body))) {
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }

  const CURLcode rc = curl_easy_perform(h);
  if (rc != CURLE_OK) {
    const std::string detail = error_buffer[0] != '\0' ? error_buffer : curl_easy_strerror(rc);
    throw CliError("cannot reach server " + creds_.server + ": " + detail +
                   tls_hint(rc, creds_.server));
  }
  HttpResponse response;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &response.status);
  response.body = std::move(transfer.body);
  check_version(transfer.server_version);
  return response;
}

void ApiClient::check_version(const std::string& server_version) {
  if (version_checked_ || server_version.empty()) return;
  version_checked_ = true;
  if (auto warning = version_mismatch_warning(BLOCKYARD_VERSION, server_version)) {
    std::fprintf(stderr, "%s\n", warning->c_str());
  }
}

void expect_success(const HttpResponse& response, const std::string& context) {
  if (response.ok()) return;
  const std::string message = api_error_message(response.status, response.body);
  throw CliError(context.empty() ? message : context + ": " + message);
}

nlohmann::json expect_json(const HttpResponse& response, const std::string& context) {
  expect_success(response, context);
  auto doc = nlohmann::json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    throw CliError((context.empty() ? "" : context + ": ") + "server sent invalid JSON (HTTP " +
                   std::to_string(response.status) + ")");
  }
  return doc;
}

}  // namespace blockyard::cli
