// `blockyard probe --tcp HOST:PORT [--timeout 2s]`: the helper the
// worker_egress check runs inside a worker sandbox. Prints one JSON line
//   {"target":"HOST:PORT","reachable":true|false,"error":"...","elapsed_ms":N}
// and exits 0 when the connection succeeded, 1 when it was refused, timed
// out or could not be resolved, 2 on a usage error.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace blockyard::preflight {

// `args` are the words after "probe". Writes the JSON line to `out` and
// usage errors to `err`; returns the exit code.
int run_probe_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace blockyard::preflight
