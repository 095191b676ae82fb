#include "seccomp/compile.h"

#include <seccomp.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <memory>

#include "core/unique_fd.h"
#include "seccomp/seccomp_error.h"

namespace blockyard::seccomp {
namespace {

struct ContextDeleter {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};
using FilterContext = std::unique_ptr<void, ContextDeleter>;

std::string errno_text(int negative_rc) {
  return std::strerror(-negative_rc);
}

std::uint32_t to_libseccomp(const Action& action) {
  switch (action.kind) {
    case ActionKind::kAllow:
      return SCMP_ACT_ALLOW;
    case ActionKind::kErrno:
      return SCMP_ACT_ERRNO(static_cast<std::uint32_t>(action.errno_value));
    case ActionKind::kKillProcess:
      return SCMP_ACT_KILL_PROCESS;
    case ActionKind::kKillThread:
      return SCMP_ACT_KILL_THREAD;
    case ActionKind::kTrap:
      return SCMP_ACT_TRAP;
    case ActionKind::kLog:
      return SCMP_ACT_LOG;
  }
  throw SeccompError("unhandled action kind");
}

scmp_compare to_libseccomp(CompareOp op) {
  switch (op) {
    case CompareOp::kEq:
      return SCMP_CMP_EQ;
    case CompareOp::kNe:
      return SCMP_CMP_NE;
    case CompareOp::kLt:
      return SCMP_CMP_LT;
    case CompareOp::kLe:
      return SCMP_CMP_LE;
    case CompareOp::kGt:
      return SCMP_CMP_GT;
    case CompareOp::kGe:
      return SCMP_CMP_GE;
    case CompareOp::kMaskedEq:
    case CompareOp::kAnyBitSet:
      return SCMP_CMP_MASKED_EQ;
  }
  throw SeccompError("unhandled comparison op");
}

std::uint32_t resolve_arch(const std::string& name, const std::string& where) {
  const std::uint32_t token = seccomp_arch_resolve_name(name.c_str());
  if (token == 0) throw SeccompError(where + ": unknown architecture '" + name + "'");
  return token;
}

void add_arches(void* ctx, const Profile& profile, const CompileOptions& options) {
  std::uint32_t target = seccomp_arch_native();
  if (!options.arch.empty()) {
    target = resolve_arch(options.arch, "--arch");
    if (target != seccomp_arch_native()) {
      if (int rc = seccomp_arch_add(ctx, target); rc < 0) {
        throw SeccompError("cannot add architecture " + options.arch + ": " + errno_text(rc));
      }
      if (int rc = seccomp_arch_remove(ctx, SCMP_ARCH_NATIVE); rc < 0) {
        throw SeccompError("cannot drop the native architecture: " + errno_text(rc));
      }
    }
  }
  for (const auto& [native, extras] : profile.arch_map) {
    if (resolve_arch(native, "archMap") != target) continue;
    for (const auto& extra : extras) {
      const std::uint32_t token = resolve_arch(extra, "archMap." + native);
      if (int rc = seccomp_arch_add(ctx, token); rc < 0 && rc != -EEXIST) {
        throw SeccompError("archMap." + native + ": cannot add architecture " + extra + ": " +
                           errno_text(rc));
      }
    }
  }
}

// The comparison sets one rule expands into: a single set, or one per bit of
// an any_bit_set filter (BPF has no "(arg & mask) != 0", but OR-ing
// per-bit masked_eq rules expresses it, and ignores unrelated high bits).
std::vector<std::vector<scmp_arg_cmp>> expand_comparisons(const Rule& rule) {
  std::vector<scmp_arg_cmp> fixed;
  const ArgFilter* any_bits = nullptr;
  for (const auto& arg : rule.args) {
    if (arg.op == CompareOp::kAnyBitSet) {
      if (any_bits) {
        throw SeccompError(rule_label(rule, rule.names.front()) +
                           ": at most one any_bit_set filter per rule");
      }
      any_bits = &arg;
      continue;
    }
    scmp_arg_cmp cmp{};
    cmp.arg = arg.index;
    cmp.op = to_libseccomp(arg.op);
    if (arg.op == CompareOp::kMaskedEq) {
      cmp.datum_a = arg.mask;
      cmp.datum_b = arg.value;
    } else {
      cmp.datum_a = arg.value;
    }
    fixed.push_back(cmp);
  }
  if (!any_bits) return {fixed};
  std::vector<std::vector<scmp_arg_cmp>> sets;
  for (unsigned bit = 0; bit < 64; ++bit) {
    const std::uint64_t flag = std::uint64_t{1} << bit;
    if ((any_bits->value & flag) == 0) continue;
    auto set = fixed;
    set.push_back(scmp_arg_cmp{any_bits->index, SCMP_CMP_MASKED_EQ, flag, flag});
    sets.push_back(std::move(set));
  }
  return sets;
}

FilterContext build_filter(const Profile& profile, const CompileOptions& options) {
  FilterContext ctx(seccomp_init(to_libseccomp(profile.default_action)));
  if (!ctx) throw SeccompError("libseccomp could not create a filter context");
  if (int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH,
                                to_libseccomp(profile.bad_arch_action));
      rc < 0) {
    throw SeccompError("badArchAction rejected by libseccomp: " + errno_text(rc));
  }
  // A binary search over syscall numbers instead of a linear scan: cheaper
  // per call on kernels without seccomp's constant-action cache.
  if (int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_OPTIMIZE, 2); rc < 0) {
    throw SeccompError("libseccomp cannot optimise the filter: " + errno_text(rc));
  }
  add_arches(ctx.get(), profile, options);
  for (const auto& rule : profile.rules) {
    const auto comparison_sets = expand_comparisons(rule);
    for (const auto& name : rule.names) {
      const int nr = seccomp_syscall_resolve_name(name.c_str());
      if (nr == __NR_SCMP_ERROR) {
        throw SeccompError(rule_label(rule, name) + ": unknown syscall '" + name + "'");
      }
      for (const auto& cmps : comparison_sets) {
        const int rc = seccomp_rule_add_array(ctx.get(), to_libseccomp(rule.action), nr,
                                              static_cast<unsigned>(cmps.size()), cmps.data());
        if (rc < 0) {
          throw SeccompError(rule_label(rule, name) +
                             ": libseccomp rejected the rule: " + errno_text(rc));
        }
      }
    }
  }
  return ctx;
}

// libseccomp 2.5 exports only to a file descriptor; an anonymous memory file
// keeps the export off disk.
template <typename Export>
std::string export_to_string(void* ctx, Export exporter, const char* what) {
  UniqueFd fd(memfd_create("seccomp-export", MFD_CLOEXEC));
  if (!fd.valid()) throw SeccompError(std::string("memfd_create: ") + std::strerror(errno));
  if (int rc = exporter(ctx, fd.get()); rc < 0) {
    throw SeccompError(std::string("libseccomp could not export the ") + what + ": " +
                       errno_text(rc));
  }
  std::string out;
  char buffer[4096];
  if (lseek(fd.get(), 0, SEEK_SET) < 0) throw SeccompError("lseek on export memfd failed");
  while (true) {
    const ssize_t n = read(fd.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw SeccompError(std::string("reading export: ") + std::strerror(errno));
    if (n == 0) break;
    out.append(buffer, static_cast<std::size_t>(n));
  }
  return out;
}

}  // namespace

std::vector<std::uint8_t> compile_bpf(const Profile& profile, const CompileOptions& options) {
  FilterContext ctx = build_filter(profile, options);
  const std::string bytes = export_to_string(ctx.get(), seccomp_export_bpf, "BPF program");
  if (bytes.empty()) throw SeccompError("libseccomp exported an empty BPF program");
  return {bytes.begin(), bytes.end()};
}

std::string compile_pfc(const Profile& profile, const CompileOptions& options) {
  FilterContext ctx = build_filter(profile, options);
  return export_to_string(ctx.get(), seccomp_export_pfc, "PFC text");
}

}  // namespace blockyard::seccomp
