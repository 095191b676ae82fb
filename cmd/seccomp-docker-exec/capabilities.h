// Linux capabilities as Docker (moby) grants them to a container by default,
// and the step that reduces the calling process to that set the way runc does
// before it execs the container's first process.
//
// Functions throw std::system_error when the kernel refuses a step; none of
// them are thread-safe (capabilities are per-thread: call before spawning
// threads).
#pragma once

#include <set>
#include <string>

namespace seccomp_docker_exec {

// Docker's default capability names ("CAP_CHOWN", ...), as moby lists them.
const std::set<std::string>& docker_default_capabilities();

// The capability number for a name such as "CAP_SYS_ADMIN", or -1 if unknown.
int capability_number(const std::string& name);

// Drops every capability outside `keep` from the bounding set, the effective,
// permitted and inheritable sets, and clears the ambient set. Needs
// CAP_SETPCAP in the effective set (i.e. run as root). A later execve() as
// uid 0 then gets exactly `keep`, as the container's PID 1 would.
void reduce_capabilities_to(const std::set<std::string>& keep);

// Whether CAP_SYS_ADMIN is in the calling thread's effective set (seccomp
// filters may then be loaded without no_new_privs, as runc does).
bool has_effective_sys_admin();

}  // namespace seccomp_docker_exec
