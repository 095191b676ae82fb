// Duties of blockyard when it is the init process of its PID namespace (the
// containerized deployment: the image's entrypoint execs blockyard as PID 1).
#pragma once

namespace blockyard::server {

// True when this process is PID 1 of its PID namespace.
bool is_pid_one();

// Reaps zombie children of the main thread. Orphans anywhere in the
// container are re-parented to PID 1 and land there; workers are forked by
// the backend's own threads (and reaped by them), so they are never touched.
// Returns how many were reaped.
int reap_orphans();

}  // namespace blockyard::server
