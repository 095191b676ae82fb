// The proxy's connection to a worker: TCP (any IP address) or a Unix domain
// socket, whichever the worker's Endpoint says; every path that talks to a
// worker (HTTP forwarding, the WebSocket tunnel, resumable sockets, the
// idle-connection pool) uses this one socket type. Proxy-private: includes
// Asio.
#pragma once

#include <boost/asio/generic/stream_protocol.hpp>

#include <optional>

#include "core/endpoint.h"

namespace blockyard::proxy {

using UpstreamSocket = boost::asio::generic::stream_protocol::socket;
using UpstreamEndpoint = boost::asio::generic::stream_protocol::endpoint;

// Where to connect; nullopt for an empty endpoint or a TCP host that is not
// an IP address literal.
std::optional<UpstreamEndpoint> upstream_endpoint(const Endpoint& endpoint);

// After connecting: Nagle off (TCP only; a Unix socket has none).
void tune_upstream(UpstreamSocket& socket);

// Workers (httpuv) write a response's header and body separately with Nagle
// on, so the body waits for the header's ACK; a keep-alive connection in
// Linux's interactive mode delays that ACK up to 40 ms, hoping to piggyback
// it on data we will not send. Turning quick ACKs on sends the pending ACK
// at once, which removes the stall; call it when a response is only partly
// read (a one-shot switch, hence per response). TCP only. A worker that also
// split its header across writes would still wait once per response; httpuv
// writes the header whole.
void ack_promptly(UpstreamSocket& socket);

}  // namespace blockyard::proxy
