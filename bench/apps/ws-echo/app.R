# Benchmark fixture: a bare httpuv server that echoes every WebSocket message
# back on the socket it came from, so a benchmark measures the proxy and not
# Shiny's protocol. blockyard runs `shiny::runApp(<bundle>, host, port)`,
# which sources this file; runServer() then blocks, serving on the address the
# worker was given (SHINY_HOST/SHINY_PORT), until the worker is stopped.
#   GET /      200 "ws-echo" (also the readiness probe's answer)
#   WS  any    each message, text or binary, is sent back unchanged
host <- Sys.getenv("SHINY_HOST", "127.0.0.1")
port <- as.integer(Sys.getenv("SHINY_PORT"))

httpuv::runServer(host, port, list(
  call = function(req) {
    list(status = 200L, headers = list("Content-Type" = "text/plain"), body = "ws-echo\n")
  },
  onWSOpen = function(ws) {
    ws$onMessage(function(binary, message) ws$send(message))
  }
))
