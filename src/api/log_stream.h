// Streaming a LineLog as a chunked text/plain response: every buffered line,
// then (when following) each new line as it arrives, until the log closes.
#pragma once

#include <memory>

#include "core/line_log.h"
#include "http/message.h"

namespace blockyard::api {

// `follow` false: one chunk with the buffered lines, then done.
// `follow` true: after the buffered lines, each pull waits up to `wait_ms`
// for new lines (an empty chunk asks the server to poll again) and the
// stream finishes once the log is closed and fully sent. The source holds
// its own reference to the log, so the log outlives the response.
http::ChunkSource log_chunks(std::shared_ptr<const LineLog> log, bool follow, int wait_ms = 50);

// A 200 text/plain response streaming log_chunks(log, follow).
http::Response log_response(std::shared_ptr<const LineLog> log, bool follow);

}  // namespace blockyard::api
