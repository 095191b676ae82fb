#include "server/pid1.h"

#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <string>

namespace blockyard::server {

bool is_pid_one() {
  return ::getpid() == 1;
}

static bool is_zombie(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(stat, line);
  auto close = line.rfind(')');
  return close != std::string::npos && close + 2 < line.size() && line[close + 2] == 'Z';
}

int reap_orphans() {
  // Only children of the main thread (tid == pid): a waitpid(-1) would steal
  // exit statuses the backend's per-worker threads wait for.
  std::ifstream children("/proc/self/task/" + std::to_string(::getpid()) + "/children");
  int reaped = 0;
  pid_t pid;
  while (children >> pid) {
    if (is_zombie(pid) && ::waitpid(pid, nullptr, WNOHANG) == pid) ++reaped;
  }
  return reaped;
}

}  // namespace blockyard::server
