#include "backend/process/bwrap_exec.h"

#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <string_view>

namespace blockyard::backend::process {

namespace {

int fail(const char* what) {
  std::fprintf(stderr, "bwrap-exec: %s\n", what);
  return 1;
}

int fail_errno(const char* what) {
  std::fprintf(stderr, "bwrap-exec: %s: %s\n", what, std::strerror(errno));
  return 1;
}

// A non-negative decimal id that fits uid_t; -1 otherwise.
long parse_id(std::string_view text) {
  long value = -1;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 0 || value > 0x7fffffffL)
    return -1;
  return value;
}

constexpr int kStaged = 0;
constexpr int kFailed = 1;
constexpr int kNoMountPrivilege = 2;

// Private mount namespace; tmpfs on /tmp; `bundle` read-only at
// kStagedBundlePath. kNoMountPrivilege when this process may not create a
// mount namespace (no CAP_SYS_ADMIN: Docker's default capability set).
int stage_bundle(const char* bundle) {
  if (::unshare(CLONE_NEWNS) != 0) {
    if (errno == EPERM) return kNoMountPrivilege;
    return fail_errno("unshare(CLONE_NEWNS)");
  }
  // Host mounts still propagate in; ours never propagate out.
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr) != 0)
    return fail_errno("make / a slave mount");
  // Opened in the new namespace and held across the tmpfs mount: the bundle
  // may itself live under /tmp.
  const int source = ::open(bundle, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (source < 0) return fail_errno("open the bundle");
  char source_path[64];
  std::snprintf(source_path, sizeof source_path, "/proc/self/fd/%d", source);
  if (::mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755,size=64k") !=
      0)
    return fail_errno("mount tmpfs on /tmp");
  if (::mkdir(kStagedBundlePath, 0755) != 0) return fail_errno("mkdir staging directory");
  if (::mount(source_path, kStagedBundlePath, nullptr, MS_BIND | MS_REC, nullptr) != 0)
    return fail_errno("bind the bundle");
  ::close(source);
  if (::mount(nullptr, kStagedBundlePath, nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID,
              nullptr) != 0)
    return fail_errno("make the bundle read-only");
  return kStaged;
}

// Without mount privilege bwrap binds the bundle from its real path instead,
// reaching it through the worker GID's search permission on the server's data
// directories (the server grants it; see grant_worker_group_access).
void point_at_real_bundle(char** bwrap_argv, char* bundle) {
  for (char** arg = bwrap_argv; *arg != nullptr; ++arg) {
    if (std::strcmp(*arg, kStagedBundlePath) == 0) *arg = bundle;
  }
}

}  // namespace

int run_bwrap_exec(int argc, char** argv) {
  long uid = -1, gid = -1;
  char* bundle = nullptr;
  int i = 2;
  for (; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--") break;
    if ((arg == "--uid" || arg == "--gid") && i + 1 < argc) {
      const long value = parse_id(argv[++i]);
      if (value < 0) return fail("--uid and --gid take a non-negative number");
      (arg == "--uid" ? uid : gid) = value;
    } else if (arg == "--bundle" && i + 1 < argc) {
      bundle = argv[++i];
    } else {
      std::fprintf(stderr, "bwrap-exec: unexpected argument \"%s\"\n", argv[i]);
      return 1;
    }
  }
  if (uid < 0 || gid < 0) return fail("--uid and --gid are required");
  if (uid == 0 || gid == 0) return fail("refusing to run a sandbox as root");
  if (i >= argc || i + 1 >= argc) return fail("missing bwrap path after --");
  char** bwrap_argv = argv + i + 1;
  if (bundle != nullptr) {
    const int staged = stage_bundle(bundle);
    if (staged == kFailed) return 1;
    if (staged == kNoMountPrivilege) point_at_real_bundle(bwrap_argv, bundle);
  }

  if (::setgroups(0, nullptr) != 0) return fail_errno("setgroups");
  if (::setgid(static_cast<gid_t>(gid)) != 0) return fail_errno("setgid");
  if (::setuid(static_cast<uid_t>(uid)) != 0) return fail_errno("setuid");
  // Belt and braces: setuid() as root sets all three UIDs; check nothing is left.
  uid_t r, e, s;
  if (::getresuid(&r, &e, &s) != 0 || r != static_cast<uid_t>(uid) || e != r || s != r)
    return fail("uid change incomplete");
  if (::prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) != 0) return fail_errno("prctl(PR_SET_DUMPABLE)");
  ::execv(bwrap_argv[0], bwrap_argv);
  return fail_errno("exec bwrap");
}

std::vector<std::string> bwrap_exec_argv(const std::string& self_exe, int uid, int gid,
                                         const std::string& bundle,
                                         const std::vector<std::string>& bwrap_argv) {
  std::vector<std::string> argv{self_exe, kBwrapExecCommand,  "--uid", std::to_string(uid),
                                "--gid",  std::to_string(gid)};
  if (!bundle.empty()) argv.insert(argv.end(), {"--bundle", bundle});
  argv.push_back("--");
  argv.insert(argv.end(), bwrap_argv.begin(), bwrap_argv.end());
  return argv;
}

}  // namespace blockyard::backend::process
