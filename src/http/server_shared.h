// State shared by the listener and every connection. Internal to http/.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>

#include <atomic>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "http/client_ip.h"
#include "http/connection.h"
#include "http/server.h"

namespace blockyard::http {

// The headers every response gets (security headers, version), as
// name/value pairs and, for headers written by hand, as wire lines.
struct CommonHeaders {
  explicit CommonHeaders(const ServerOptions& options);
  std::vector<std::pair<std::string, std::string>> fields;
  std::string wire_lines;  // "Name: value\r\n" for each of `fields`
};

struct ServerShared {
  ServerShared(asio::io_context& io_context, ServerOptions opts, const Router& r,
               std::shared_ptr<DataPlaneHandler> dp)
      : io(io_context),
        options(std::move(opts)),
        router(r),
        data_plane(std::move(dp)),
        trusted(options.trusted_proxies),
        common_headers(options),
        handlers(static_cast<std::size_t>(options.handler_threads)) {}

  asio::io_context& io;
  const ServerOptions options;
  const Router& router;
  std::shared_ptr<DataPlaneHandler> data_plane;
  const TrustedProxies trusted;
  const CommonHeaders common_headers;
  asio::thread_pool handlers;  // API handlers and streamed-body producers
  std::atomic<int> in_flight{0};
};

}  // namespace blockyard::http
