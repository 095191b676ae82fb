#include "preflight/sandbox_probe.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <sstream>

#include "backend/process/bwrap_args.h"

namespace blockyard::preflight {

std::vector<std::string> probe_sandbox_argv(const std::filesystem::path& bwrap,
                                            const std::optional<Identity>& identity,
                                            backend::process::ProcMount proc,
                                            const std::vector<std::string>& extra_flags,
                                            const std::vector<std::string>& command) {
  namespace bp = backend::process;
  std::vector<std::string> argv{bwrap.string()};
  auto append = [&argv](const std::vector<std::string>& more) {
    argv.insert(argv.end(), more.begin(), more.end());
  };
  append(bp::namespace_args());
  append(bp::session_args());
  append(bp::capability_args());
  if (identity) {
    append({"--uid", std::to_string(identity->uid), "--gid", std::to_string(identity->gid)});
  }
  append({"--ro-bind", "/", "/", "--tmpfs", "/tmp"});
  append(bp::proc_mount_args(proc));
  append({"--dev", "/dev", "--chdir", "/tmp"});
  append(extra_flags);
  argv.push_back("--");
  append(command);
  return argv;
}

namespace {
bool executable_file(const std::filesystem::path& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}
}  // namespace

std::optional<std::filesystem::path> find_executable(const std::filesystem::path& program) {
  if (program.empty()) return std::nullopt;
  if (program.string().find('/') != std::string::npos) {
    if (executable_file(program)) return program;
    return std::nullopt;
  }
  const char* path_env = std::getenv("PATH");
  std::istringstream dirs(path_env ? path_env : "/usr/local/bin:/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    auto candidate = std::filesystem::path(dir.empty() ? "." : dir) / program;
    if (executable_file(candidate)) return candidate;
  }
  return std::nullopt;
}

}  // namespace blockyard::preflight
