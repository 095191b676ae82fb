#include "auth/http_fetch.h"

#include <curl/curl.h>

#include <memory>
#include <mutex>

#include "core/url.h"

namespace blockyard::auth {
namespace {

constexpr std::size_t kMaxReply = 1 << 20;

struct EasyDeleter {
  void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
};
struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

struct Sink {
  std::string body;
  bool too_big = false;
};

size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto* sink = static_cast<Sink*>(user);
  const size_t bytes = size * count;
  if (sink->body.size() + bytes > kMaxReply) {
    sink->too_big = true;
    return 0;  // aborts the transfer
  }
  sink->body.append(data, bytes);
  return bytes;
}

class CurlFetcher final : public HttpFetcher {
 public:
  explicit CurlFetcher(std::chrono::milliseconds timeout) : timeout_(timeout) {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  }

  HttpReply fetch(const HttpCall& call) override {
    std::unique_ptr<CURL, EasyDeleter> easy(curl_easy_init());
    if (!easy) throw HttpFetchError("curl_easy_init failed");
    CURL* h = easy.get();
    Sink sink;
    curl_easy_setopt(h, CURLOPT_URL, call.url.c_str());
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_.count()));
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(timeout_.count()));
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "blockyard/" BLOCKYARD_VERSION);
    std::unique_ptr<curl_slist, SlistDeleter> headers;
    for (const auto& [name, value] : call.headers) {
      std::string line = name + ": " + value;
      curl_slist* grown = curl_slist_append(headers.get(), line.c_str());
      if (!grown) throw HttpFetchError("out of memory");
      headers.release();
      headers.reset(grown);
    }
    if (headers) curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
    if (call.method == "POST") {
      curl_easy_setopt(h, CURLOPT_POST, 1L);
      curl_easy_setopt(h, CURLOPT_POSTFIELDS, call.body.c_str());
      curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, static_cast<long>(call.body.size()));
    } else if (call.method != "GET") {
      curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, call.method.c_str());
    }
    CURLcode rc = curl_easy_perform(h);
    if (sink.too_big) throw HttpFetchError(call.url + ": answer larger than 1 MiB");
    if (rc != CURLE_OK) throw HttpFetchError(call.url + ": " + curl_easy_strerror(rc));
    HttpReply reply;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &reply.status);
    reply.body = std::move(sink.body);
    return reply;
  }

 private:
  std::chrono::milliseconds timeout_;
};

}  // namespace

std::shared_ptr<HttpFetcher> make_curl_fetcher(std::chrono::milliseconds timeout) {
  return std::make_shared<CurlFetcher>(timeout);
}

std::string form_encode(const std::string& value) {
  return percent_encode(value);
}

}  // namespace blockyard::auth
