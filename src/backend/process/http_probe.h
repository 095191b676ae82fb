// A minimal readiness probe: does something at an endpoint (TCP on IPv4 or
// IPv6, or a Unix socket) answer an HTTP request with a status line? Plain
// blocking socket with deadlines; no HTTP library (the proxy has that; this
// only needs "HTTP/1.x ").
#pragma once

#include <chrono>
#include <string>

#include "core/endpoint.h"

namespace blockyard::backend::process {

// Connects to `endpoint` (a TCP host must be an IP address literal), sends
// "GET / HTTP/1.1" and returns true when the reply starts with "HTTP/" — any
// status counts — all within `timeout`. False on any failure; never throws.
bool http_responds(const Endpoint& endpoint, std::chrono::milliseconds timeout);

}  // namespace blockyard::backend::process
