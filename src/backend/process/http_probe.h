// A minimal readiness probe: does something on host:port answer an HTTP
// request with a status line? Plain blocking socket with deadlines; no
// HTTP library (the proxy has that; this only needs "HTTP/1.x ").
#pragma once

#include <chrono>
#include <string>

namespace blockyard::backend::process {

// Connects to the IPv4 address `host` (dotted quad), sends "GET / HTTP/1.1"
// and returns true when the reply starts with "HTTP/" — any status counts —
// all within `timeout`. False on any failure; never throws.
bool http_responds(const std::string& host, int port, std::chrono::milliseconds timeout);

}  // namespace blockyard::backend::process
