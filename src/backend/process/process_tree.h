// Reading the host's /proc: a process's descendants and parent, and bwrap's
// --info-fd report. Used to signal the processes inside a sandbox (bwrap does
// not forward signals) and by tests to check that nothing outlives a worker.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace blockyard::backend::process {

// Every descendant of `pid` (children first, breadth-first); empty when
// `pid` does not exist. A snapshot: processes may come and go meanwhile.
std::vector<int> descendants(int pid);

// Parent pid from /proc/<pid>/stat; 0 when `pid` does not exist.
int parent_of(int pid);

// True while /proc/<pid> exists and the process is not a zombie.
bool process_alive(int pid);

struct ProcessUsage {
  std::uint64_t rss_bytes = 0;  // resident set sizes (/proc/<pid>/statm), summed
  // utime + stime + cutime + cstime (/proc/<pid>/stat): the children a
  // process reaped count too, so work of short-lived helpers is not lost.
  double cpu_seconds = 0;
  int processes = 0;  // of `pids`, those that still existed (zombies excluded)
};

// Sums over `pids`; processes that vanished meanwhile are skipped.
ProcessUsage process_usage(const std::vector<int>& pids);

// The "child-pid" field of bwrap's --info-fd JSON; 0 when absent.
int parse_bwrap_child_pid(std::string_view info_json);

}  // namespace blockyard::backend::process
