#include "backend/process/bwrap_exec.h"

#include <grp.h>
#include <sys/prctl.h>
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

}  // namespace

int run_bwrap_exec(int argc, char** argv) {
  long uid = -1, gid = -1;
  int i = 2;
  for (; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--") break;
    if ((arg == "--uid" || arg == "--gid") && i + 1 < argc) {
      const long value = parse_id(argv[++i]);
      if (value < 0) return fail("--uid and --gid take a non-negative number");
      (arg == "--uid" ? uid : gid) = value;
    } else {
      std::fprintf(stderr, "bwrap-exec: unexpected argument \"%s\"\n", argv[i]);
      return 1;
    }
  }
  if (uid < 0 || gid < 0) return fail("--uid and --gid are required");
  if (uid == 0 || gid == 0) return fail("refusing to run a sandbox as root");
  if (i >= argc || i + 1 >= argc) return fail("missing bwrap path after --");
  char** bwrap_argv = argv + i + 1;

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
                                         const std::vector<std::string>& bwrap_argv) {
  std::vector<std::string> argv{self_exe, kBwrapExecCommand,   "--uid", std::to_string(uid),
                                "--gid",  std::to_string(gid), "--"};
  argv.insert(argv.end(), bwrap_argv.begin(), bwrap_argv.end());
  return argv;
}

}  // namespace blockyard::backend::process
