// Turns a Docker-format seccomp profile (the JSON that
// `docker run --security-opt seccomp=FILE` takes) into a libseccomp filter
// the way moby and runc do together:
//
//  * moby resolves each rule's `includes`/`excludes` against the container:
//    `caps` (all included caps must be granted; any excluded cap granted
//    drops the rule), `arches` (Go arch names: amd64, arm64, s390x, ...) and
//    `minKernel` ("4.8"); the `archMap` entry of the native architecture
//    selects the architectures the filter covers.
//  * runc adds the surviving rules: `SCMP_ACT_ERRNO`/`SCMP_ACT_TRACE` use
//    `errnoRet` (EPERM when absent), the default action uses
//    `defaultErrnoRet`; args with a repeated index become one rule per arg
//    (OR), otherwise one rule with all args (AND); `SCMP_CMP_MASKED_EQ`
//    takes `value` as the mask and `valueTwo` as the datum; syscall names the
//    local libseccomp does not know are skipped; a rule whose action equals
//    the default action is skipped.
//
// Not reproduced: runc's ENOSYS stub for syscalls newer than the profile
// (those get the default action here).
//
// Errors (malformed profile, unknown action or operator, libseccomp
// refusing a rule) throw std::runtime_error naming the rule.
#pragma once

#include <seccomp.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

namespace seccomp_docker_exec {

// What moby evaluates a profile's conditions against.
struct ContainerFacts {
  uint32_t native_arch = 0;            // SCMP_ARCH_* of this process
  std::set<std::string> capabilities;  // "CAP_CHOWN", ...
  int kernel_major = 0;
  int kernel_minor = 0;
};

// This process's architecture and kernel version, with `capabilities`.
ContainerFacts current_container_facts(std::set<std::string> capabilities);

// Owns a libseccomp filter context.
class SeccompFilter {
 public:
  explicit SeccompFilter(scmp_filter_ctx ctx) : ctx_(ctx, &seccomp_release) {}

  scmp_filter_ctx get() const { return ctx_.get(); }

  // Installs the filter on the calling thread (and its future children).
  // With `no_new_privs` false the caller needs CAP_SYS_ADMIN. Throws
  // std::system_error on failure.
  void load(bool no_new_privs) const;

 private:
  std::unique_ptr<void, decltype(&seccomp_release)> ctx_;
};

// Builds (does not load) the filter for `profile` under `facts`.
SeccompFilter build_filter(const nlohmann::json& profile, const ContainerFacts& facts);

}  // namespace seccomp_docker_exec
