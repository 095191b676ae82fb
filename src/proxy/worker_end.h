// How a worker ended, worded for the publisher (the API, `by logs`, the app
// status) and, separately, for app users (the loading page), who never see
// R's output nor our internals.
#pragma once

#include <chrono>
#include <string>

#include "proxy/worker_events.h"

namespace blockyard::proxy {

// "stopped", "failed" or "exited": the API's end_cause.
const char* end_cause_name(WorkerEnded::How how);

// Why an R process ended, from its exit code (128 + signal for a signal
// death): "exited with code 1", "was killed (exit code 137: SIGKILL, most
// likely out of memory)".
std::string exit_reason(int exit_code);

// The publisher's reason for a start-up that did not finish in time.
// "the app did not start within 60 s (proxy.worker_start_timeout)".
std::string start_timeout_reason(std::chrono::milliseconds timeout);

// The publisher's reason for stopping a session's worker that had no open
// connection for proxy.session_commit_grace: its WebSocket never connected
// (not a browser session), or it closed.
std::string session_gone_reason(bool committed, std::chrono::milliseconds grace);

// One sentence for an app user about a worker that failed to start, chosen
// by what the reason says (a timeout, memory, anything else).
std::string user_start_failure(const std::string& reason);

}  // namespace blockyard::proxy
