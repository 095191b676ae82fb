#include "docker_profile.h"

#include <sys/utsname.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <map>
#include <stdexcept>
#include <system_error>
#include <vector>

namespace seccomp_docker_exec {
namespace {

using Json = nlohmann::json;

// Go's GOARCH spelling, which profile `arches` conditions use.
std::string go_arch_name(uint32_t arch) {
  static const std::map<uint32_t, std::string> names = {
      {SCMP_ARCH_X86_64, "amd64"},  {SCMP_ARCH_X86, "386"},          {SCMP_ARCH_X32, "x32"},
      {SCMP_ARCH_AARCH64, "arm64"}, {SCMP_ARCH_ARM, "arm"},          {SCMP_ARCH_PPC64LE, "ppc64le"},
      {SCMP_ARCH_S390X, "s390x"},   {SCMP_ARCH_S390, "s390"},        {SCMP_ARCH_RISCV64, "riscv64"},
      {SCMP_ARCH_MIPS64, "mips64"}, {SCMP_ARCH_MIPSEL64, "mips64le"}};
  auto it = names.find(arch);
  return it == names.end() ? "" : it->second;
}

// "SCMP_ARCH_X86_64" -> SCMP_ARCH_X86_64 (0 when libseccomp does not know it).
uint32_t resolve_arch(const std::string& docker_name) {
  const std::string prefix = "SCMP_ARCH_";
  if (docker_name.rfind(prefix, 0) != 0) return 0;
  std::string name = docker_name.substr(prefix.size());
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return seccomp_arch_resolve_name(name.c_str());
}

std::vector<std::string> string_list(const Json& obj, const char* key) {
  std::vector<std::string> out;
  if (!obj.is_object() || !obj.contains(key) || obj[key].is_null()) return out;
  for (const auto& v : obj.at(key)) out.push_back(v.get<std::string>());
  return out;
}

bool contains(const std::vector<std::string>& list, const std::string& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

bool kernel_at_least(const ContainerFacts& facts, const std::string& min_kernel) {
  int major = 0, minor = 0;
  if (std::sscanf(min_kernel.c_str(), "%d.%d", &major, &minor) < 1) {
    throw std::runtime_error("invalid minKernel \"" + min_kernel + "\"");
  }
  return facts.kernel_major > major || (facts.kernel_major == major && facts.kernel_minor >= minor);
}

// moby's per-rule decision: does this rule apply to the container?
bool rule_applies(const Json& rule, const ContainerFacts& facts) {
  const std::string arch = go_arch_name(facts.native_arch);
  const Json includes = rule.value("includes", Json::object());
  const Json excludes = rule.value("excludes", Json::object());
  for (const auto& cap : string_list(includes, "caps")) {
    if (!facts.capabilities.count(cap)) return false;
  }
  for (const auto& cap : string_list(excludes, "caps")) {
    if (facts.capabilities.count(cap)) return false;
  }
  const auto included_arches = string_list(includes, "arches");
  if (!included_arches.empty() && !contains(included_arches, arch)) return false;
  if (contains(string_list(excludes, "arches"), arch)) return false;
  if (includes.is_object() && includes.contains("minKernel") &&
      !includes["minKernel"].get<std::string>().empty() &&
      !kernel_at_least(facts, includes["minKernel"].get<std::string>())) {
    return false;
  }
  return true;
}

uint32_t parse_action(const std::string& name, const Json& errno_ret) {
  const uint16_t err = errno_ret.is_number() ? errno_ret.get<uint16_t>() : EPERM;
  if (name == "SCMP_ACT_ALLOW") return SCMP_ACT_ALLOW;
  if (name == "SCMP_ACT_ERRNO") return SCMP_ACT_ERRNO(err);
  if (name == "SCMP_ACT_TRACE") return SCMP_ACT_TRACE(err);
  if (name == "SCMP_ACT_KILL" || name == "SCMP_ACT_KILL_THREAD") return SCMP_ACT_KILL_THREAD;
  if (name == "SCMP_ACT_KILL_PROCESS") return SCMP_ACT_KILL_PROCESS;
  if (name == "SCMP_ACT_TRAP") return SCMP_ACT_TRAP;
  if (name == "SCMP_ACT_LOG") return SCMP_ACT_LOG;
  throw std::runtime_error("unsupported seccomp action " + name);
}

scmp_compare parse_operator(const std::string& op) {
  static const std::map<std::string, scmp_compare> ops = {
      {"SCMP_CMP_NE", SCMP_CMP_NE},
      {"SCMP_CMP_LT", SCMP_CMP_LT},
      {"SCMP_CMP_LE", SCMP_CMP_LE},
      {"SCMP_CMP_EQ", SCMP_CMP_EQ},
      {"SCMP_CMP_GE", SCMP_CMP_GE},
      {"SCMP_CMP_GT", SCMP_CMP_GT},
      {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ}};
  auto it = ops.find(op);
  if (it == ops.end()) throw std::runtime_error("unknown seccomp comparison " + op);
  return it->second;
}

std::vector<scmp_arg_cmp> parse_args(const Json& rule) {
  std::vector<scmp_arg_cmp> conds;
  if (!rule.contains("args") || rule["args"].is_null()) return conds;
  for (const auto& arg : rule["args"]) {
    const auto op = parse_operator(arg.at("op").get<std::string>());
    const uint64_t value = arg.value("value", uint64_t{0});
    const uint64_t value_two = arg.value("valueTwo", uint64_t{0});
    conds.push_back({arg.at("index").get<unsigned>(), op, value, value_two});
  }
  return conds;
}

bool has_repeated_index(const std::vector<scmp_arg_cmp>& conds) {
  std::set<unsigned> seen;
  for (const auto& c : conds) {
    if (!seen.insert(c.arg).second) return true;
  }
  return false;
}

void add_rule(scmp_filter_ctx ctx, uint32_t action, const std::string& name,
              const std::vector<scmp_arg_cmp>& conds) {
  const int nr = seccomp_syscall_resolve_name(name.c_str());
  if (nr == __NR_SCMP_ERROR) return;  // unknown to this libseccomp: runc skips it too
  std::vector<std::vector<scmp_arg_cmp>> groups;
  if (has_repeated_index(conds)) {
    for (const auto& c : conds) groups.push_back({c});
  } else {
    groups.push_back(conds);
  }
  for (const auto& group : groups) {
    const int rc = seccomp_rule_add_array(ctx, action, nr, static_cast<unsigned>(group.size()),
                                          group.empty() ? nullptr : group.data());
    if (rc != 0) {
      throw std::system_error(-rc, std::generic_category(), "add seccomp rule for " + name);
    }
  }
}

void add_architectures(scmp_filter_ctx ctx, const Json& profile, uint32_t native) {
  if (!profile.contains("archMap") || profile["archMap"].is_null()) return;
  for (const auto& entry : profile["archMap"]) {
    if (resolve_arch(entry.at("architecture").get<std::string>()) != native) continue;
    for (const auto& sub : string_list(entry, "subArchitectures")) {
      const uint32_t arch = resolve_arch(sub);
      if (arch == 0) continue;
      const int rc = seccomp_arch_add(ctx, arch);
      if (rc != 0 && rc != -EEXIST) {
        throw std::system_error(-rc, std::generic_category(), "add seccomp architecture " + sub);
      }
    }
  }
}

}  // namespace

ContainerFacts current_container_facts(std::set<std::string> capabilities) {
  ContainerFacts facts;
  facts.native_arch = seccomp_arch_native();
  facts.capabilities = std::move(capabilities);
  utsname uts{};
  if (uname(&uts) == 0) std::sscanf(uts.release, "%d.%d", &facts.kernel_major, &facts.kernel_minor);
  return facts;
}

void SeccompFilter::load(bool no_new_privs) const {
  int rc = seccomp_attr_set(get(), SCMP_FLTATR_CTL_NNP, no_new_privs ? 1 : 0);
  if (rc == 0) rc = seccomp_load(get());
  if (rc != 0) throw std::system_error(-rc, std::generic_category(), "load seccomp filter");
}

SeccompFilter build_filter(const Json& profile, const ContainerFacts& facts) {
  const uint32_t default_action = parse_action(profile.at("defaultAction").get<std::string>(),
                                               profile.value("defaultErrnoRet", Json()));
  scmp_filter_ctx raw = seccomp_init(default_action);
  if (raw == nullptr) throw std::runtime_error("seccomp_init failed");
  SeccompFilter filter(raw);
  add_architectures(filter.get(), profile, facts.native_arch);

  const Json& rules = profile.at("syscalls");
  for (size_t i = 0; i < rules.size(); ++i) {
    const Json& rule = rules[i];
    if (!rule_applies(rule, facts)) continue;
    const uint32_t action =
        parse_action(rule.at("action").get<std::string>(), rule.value("errnoRet", Json()));
    if (action == default_action) continue;
    try {
      const auto conds = parse_args(rule);
      std::vector<std::string> names = string_list(rule, "names");
      if (rule.contains("name")) names.push_back(rule["name"].get<std::string>());
      for (const auto& name : names) add_rule(filter.get(), action, name, conds);
    } catch (const std::exception& e) {
      throw std::runtime_error("syscalls[" + std::to_string(i) + "]: " + e.what());
    }
  }
  return filter;
}

}  // namespace seccomp_docker_exec
