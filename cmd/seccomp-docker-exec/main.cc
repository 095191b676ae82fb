// seccomp-docker-exec: runs a program the way Docker's runtime would start a
// container's first process with regard to seccomp and capabilities, so
// profiles can be tested where no Docker engine runs.
//
//   seccomp-docker-exec --profile FILE [--cap-add CAP]... [--cap-drop CAP]...
//                       [--no-new-privileges] -- PROG ARGS...
//
// Steps, in runc's order: build the filter from the Docker-format profile
// (conditions evaluated against Docker's default capabilities adjusted by
// --cap-add/--cap-drop); without --no-new-privileges load it, then reduce
// every capability set to those capabilities; with it (docker's
// --security-opt no-new-privileges, Kubernetes' allowPrivilegeEscalation:
// false) reduce capabilities, set no_new_privs, load the filter last. Then
// exec PROG. Must run as
// root (it needs CAP_SYS_ADMIN and CAP_SETPCAP to get there). Exit status
// 125 for its own failures (as `docker run` uses), 127 when PROG cannot be
// executed; otherwise PROG's.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "capabilities.h"
#include "docker_profile.h"

namespace {

using namespace seccomp_docker_exec;

struct Options {
  std::string profile;
  std::set<std::string> capabilities = docker_default_capabilities();
  bool no_new_privileges = false;
  std::vector<char*> command;
};

[[noreturn]] void usage_error(const std::string& message) {
  std::fprintf(stderr,
               "seccomp-docker-exec: %s\n"
               "usage: seccomp-docker-exec --profile FILE [--cap-add CAP]... [--cap-drop CAP]... "
               "[--no-new-privileges] -- PROG [ARGS...]\n",
               message.c_str());
  std::exit(125);
}

std::string capability_name(std::string name) {
  for (auto& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (name.rfind("CAP_", 0) != 0) name = "CAP_" + name;
  if (capability_number(name) < 0) usage_error("unknown capability " + name);
  return name;
}

Options parse_options(int argc, char** argv) {
  Options opts;
  int i = 1;
  for (; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--") {
      ++i;
      break;
    }
    if (arg == "--no-new-privileges") {
      opts.no_new_privileges = true;
      continue;
    }
    if (i + 1 >= argc) usage_error("missing value for " + arg);
    if (arg == "--profile") {
      opts.profile = argv[++i];
    } else if (arg == "--cap-add") {
      opts.capabilities.insert(capability_name(argv[++i]));
    } else if (arg == "--cap-drop") {
      opts.capabilities.erase(capability_name(argv[++i]));
    } else {
      usage_error("unknown option " + arg);
    }
  }
  if (opts.profile.empty()) usage_error("--profile is required");
  for (; i < argc; ++i) opts.command.push_back(argv[i]);
  if (opts.command.empty()) usage_error("no program given after --");
  opts.command.push_back(nullptr);
  return opts;
}

nlohmann::json read_profile(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open profile " + path + ": " + std::strerror(errno));
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error("profile " + path + " is not valid JSON: " + e.what());
  }
}

}  // namespace

int main(int argc, char** argv) {
  const Options opts = parse_options(argc, argv);
  try {
    const auto facts = current_container_facts(opts.capabilities);
    const SeccompFilter filter = build_filter(read_profile(opts.profile), facts);
    if (opts.no_new_privileges) {
      reduce_capabilities_to(opts.capabilities);
      filter.load(/*no_new_privs=*/true);
    } else {
      // Without CAP_SYS_ADMIN the kernel only accepts a filter under
      // no_new_privs; runc loads it before dropping capabilities to avoid that.
      filter.load(/*no_new_privs=*/!has_effective_sys_admin());
      reduce_capabilities_to(opts.capabilities);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "seccomp-docker-exec: %s\n", e.what());
    return 125;
  }
  execvp(opts.command[0], opts.command.data());
  std::fprintf(stderr, "seccomp-docker-exec: exec %s: %s\n", opts.command[0], std::strerror(errno));
  return 127;
}
