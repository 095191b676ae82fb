#include "seccomp/profile.h"

#include <seccomp.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "seccomp/seccomp_error.h"
#include "seccomp/symbols.h"

namespace blockyard::seccomp {
namespace {

using nlohmann::json;

constexpr int kMaxErrno = 4095;  // the kernel treats -1..-4095 as an errno

[[noreturn]] void fail(const std::string& where, const std::string& what) {
  throw SeccompError(where + ": " + what);
}

// Rejects keys a profile author probably misspelled.
void check_keys(const json& object, const std::set<std::string>& allowed,
                const std::string& where) {
  for (const auto& [key, value] : object.items()) {
    if (!allowed.count(key)) fail(where, "unknown key '" + key + "'");
  }
}

std::string as_string(const json& value, const std::string& where) {
  if (!value.is_string()) fail(where, "expected a string, got " + value.dump());
  return value.get<std::string>();
}

int parse_errno(const json& value, const std::string& where) {
  if (value.is_number_integer()) {
    const auto n = value.get<long long>();
    if (n < 1 || n > kMaxErrno) fail(where, "errno " + value.dump() + " is outside 1..4095");
    return static_cast<int>(n);
  }
  if (value.is_string()) {
    if (auto n = errno_from_name(value.get<std::string>())) return *n;
    fail(where, "unknown errno " + value.dump());
  }
  fail(where, "errno must be a name like \"EPERM\" or a number, got " + value.dump());
}

// Parses "allow" | "errno" | "kill_process" | "kill_thread" | "trap" | "log".
// `errno_json` is the sibling errno field (null when absent).
Action parse_action(const std::string& name, const json& errno_json, const std::string& where) {
  Action action;
  if (name == "errno") {
    if (errno_json.is_null()) fail(where, "action 'errno' needs an \"errno\"");
    action.kind = ActionKind::kErrno;
    action.errno_value = parse_errno(errno_json, where);
    return action;
  }
  if (!errno_json.is_null()) fail(where, "\"errno\" is only valid with action 'errno'");
  if (name == "allow") {
    action.kind = ActionKind::kAllow;
  } else if (name == "kill_process") {
    action.kind = ActionKind::kKillProcess;
  } else if (name == "kill_thread") {
    action.kind = ActionKind::kKillThread;
  } else if (name == "trap") {
    action.kind = ActionKind::kTrap;
  } else if (name == "log") {
    action.kind = ActionKind::kLog;
  } else {
    fail(where, "unknown action '" + name +
                    "' (expected allow, errno, kill_process, kill_thread, trap or log)");
  }
  return action;
}

const json& field_or_null(const json& object, const char* key) {
  static const json kNull;
  auto it = object.find(key);
  return it == object.end() ? kNull : *it;
}

std::optional<CompareOp> op_from_name(const std::string& name) {
  static const std::pair<const char*, CompareOp> kOps[] = {
      {"eq", CompareOp::kEq},
      {"ne", CompareOp::kNe},
      {"lt", CompareOp::kLt},
      {"le", CompareOp::kLe},
      {"gt", CompareOp::kGt},
      {"ge", CompareOp::kGe},
      {"masked_eq", CompareOp::kMaskedEq},
      {"any_bit_set", CompareOp::kAnyBitSet},
  };
  for (const auto& [n, op] : kOps) {
    if (name == n) return op;
  }
  return std::nullopt;
}

std::uint64_t parse_value(const json& value, const std::string& where, const char* key) {
  if (value.is_number_unsigned()) return value.get<std::uint64_t>();
  if (value.is_number_integer()) fail(where, std::string(key) + " must not be negative");
  if (value.is_string()) {
    if (auto v = parse_value_expression(value.get<std::string>())) return *v;
    fail(where, std::string("cannot parse ") + key + " " + value.dump() +
                    " (expected a number, 0x-hex, or known constants joined by '|')");
  }
  fail(where, std::string(key) + " must be a number or a string, got " + value.dump());
}

ArgFilter parse_arg(const json& arg, const std::string& where) {
  if (!arg.is_object()) fail(where, "each entry of \"args\" must be an object");
  check_keys(arg, {"index", "op", "value", "mask", "comment"}, where);
  ArgFilter filter;
  const json& index = field_or_null(arg, "index");
  if (!index.is_number_unsigned() || index.get<std::uint64_t>() > 5) {
    fail(where, "arg \"index\" must be 0..5, got " + index.dump());
  }
  filter.index = index.get<unsigned>();
  const std::string op_name = as_string(field_or_null(arg, "op"), where + " arg op");
  auto op = op_from_name(op_name);
  if (!op) {
    fail(where, "unknown comparison op '" + op_name +
                    "' (expected eq, ne, lt, le, gt, ge, masked_eq or any_bit_set)");
  }
  filter.op = *op;
  if (!arg.contains("value")) fail(where, "arg needs a \"value\"");
  filter.value = parse_value(arg["value"], where, "value");
  if (filter.op == CompareOp::kMaskedEq) {
    if (!arg.contains("mask")) fail(where, "op 'masked_eq' needs a \"mask\"");
    filter.mask = parse_value(arg["mask"], where, "mask");
    if ((filter.value & ~filter.mask) != 0) {
      fail(where, "masked_eq value has bits outside its mask, so it can never match");
    }
  } else if (arg.contains("mask")) {
    fail(where, "\"mask\" is only valid with op 'masked_eq'");
  }
  if (filter.op == CompareOp::kAnyBitSet && filter.value == 0) {
    fail(where, "any_bit_set needs a non-zero value");
  }
  return filter;
}

Rule parse_rule(const json& object, std::size_t position) {
  const std::string where = "rules[" + std::to_string(position) + "]";
  if (!object.is_object()) fail(where, "a rule must be an object");
  check_keys(object, {"names", "action", "errno", "args", "comment"}, where);
  Rule rule;
  rule.position = position;

  const json& names = field_or_null(object, "names");
  if (!names.is_array() || names.empty()) fail(where, "\"names\" must be a non-empty array");
  for (const auto& n : names) {
    std::string name = as_string(n, where + " names");
    // libseccomp knows every syscall of every architecture it supports; a
    // name it cannot resolve is a typo, not a syscall of another platform.
    if (seccomp_syscall_resolve_name(name.c_str()) == __NR_SCMP_ERROR) {
      fail(where + " (" + name + ")", "unknown syscall '" + name + "'");
    }
    rule.names.push_back(std::move(name));
  }
  const std::string label = where + " (" + rule.names.front() + ")";

  const json& action = field_or_null(object, "action");
  const std::string action_name = action.is_null() ? "errno" : as_string(action, label + " action");
  rule.action = parse_action(action_name, field_or_null(object, "errno"), label);

  const json& args = field_or_null(object, "args");
  if (!args.is_null()) {
    if (!args.is_array()) fail(label, "\"args\" must be an array");
    std::set<unsigned> indexes;
    for (const auto& arg : args) {
      ArgFilter filter = parse_arg(arg, label);
      // libseccomp accepts one comparison per argument in a rule.
      if (!indexes.insert(filter.index).second) {
        fail(label, "two filters on arg " + std::to_string(filter.index) +
                        "; split them into separate rules");
      }
      rule.args.push_back(filter);
    }
  }
  const json& comment = field_or_null(object, "comment");
  if (!comment.is_null()) rule.comment = as_string(comment, label + " comment");
  return rule;
}

void check_arch_name(const std::string& name, const std::string& where) {
  if (seccomp_arch_resolve_name(name.c_str()) == 0) {
    fail(where, "unknown architecture '" + name + "'");
  }
}

// An unconditional rule already decides every call of that syscall; a second
// rule for it would be dead or contradictory.
void check_duplicates(const std::vector<Rule>& rules) {
  std::map<std::string, std::size_t> unconditional;
  for (const auto& rule : rules) {
    if (!rule.args.empty()) continue;
    for (const auto& name : rule.names) {
      auto [it, inserted] = unconditional.emplace(name, rule.position);
      if (!inserted) {
        fail(rule_label(rule, name), "syscall '" + name +
                                         "' already has an unconditional rule at rules[" +
                                         std::to_string(it->second) + "]");
      }
    }
  }
  for (const auto& rule : rules) {
    if (rule.args.empty()) continue;
    for (const auto& name : rule.names) {
      if (auto it = unconditional.find(name); it != unconditional.end()) {
        fail(rule_label(rule, name), "syscall '" + name +
                                         "' already has an unconditional rule at rules[" +
                                         std::to_string(it->second) + "]");
      }
    }
  }
}

}  // namespace

std::string rule_label(const Rule& rule, std::string_view syscall_name) {
  return "rules[" + std::to_string(rule.position) + "] (" + std::string(syscall_name) + ")";
}

Profile parse_profile(std::string_view json_text) {
  json root;
  try {
    root = json::parse(json_text);
  } catch (const json::parse_error& e) {
    throw SeccompError(std::string("profile is not valid JSON: ") + e.what());
  }
  if (!root.is_object()) fail("profile", "top level must be an object");
  check_keys(root,
             {"description", "defaultAction", "defaultErrno", "badArchAction", "archMap", "rules"},
             "profile");
  Profile profile;
  if (root.contains("description")) {
    profile.description = as_string(root["description"], "description");
  }
  if (!root.contains("defaultAction")) fail("profile", "missing \"defaultAction\"");
  profile.default_action = parse_action(as_string(root["defaultAction"], "defaultAction"),
                                        field_or_null(root, "defaultErrno"), "defaultAction");
  if (root.contains("badArchAction")) {
    profile.bad_arch_action =
        parse_action(as_string(root["badArchAction"], "badArchAction"), json(), "badArchAction");
  }
  if (root.contains("archMap")) {
    const json& arch_map = root["archMap"];
    if (!arch_map.is_object()) fail("archMap", "must be an object");
    for (const auto& [native, extras] : arch_map.items()) {
      const std::string where = "archMap." + native;
      check_arch_name(native, where);
      if (!extras.is_array()) fail(where, "must be an array of architecture names");
      auto& list = profile.arch_map[native];
      for (const auto& extra : extras) {
        std::string name = as_string(extra, where);
        check_arch_name(name, where);
        list.push_back(std::move(name));
      }
    }
  }
  const json& rules = field_or_null(root, "rules");
  if (!rules.is_array()) fail("profile", "\"rules\" must be an array");
  for (std::size_t i = 0; i < rules.size(); ++i) {
    Rule rule = parse_rule(rules[i], i);
    if (rule.action == profile.default_action) {
      fail(rule_label(rule, rule.names.front()),
           "rule action equals the default action, so the rule would do nothing");
    }
    profile.rules.push_back(std::move(rule));
  }
  check_duplicates(profile.rules);
  return profile;
}

Profile load_profile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw SeccompError("cannot read profile " + path.string());
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw SeccompError("cannot read profile " + path.string());
  try {
    return parse_profile(text.str());
  } catch (const SeccompError& e) {
    throw SeccompError(path.string() + ": " + e.what());
  }
}

}  // namespace blockyard::seccomp
