// The inner (bwrap) seccomp profile: an in-memory model of the JSON source
// (profiles/seccomp.json) and its parser. The format is documented in
// src/seccomp/README.md; in short:
//
//   {
//     "description": "free text",
//     "defaultAction": "allow",
//     "badArchAction": "kill_process",
//     "archMap": { "x86_64": ["x86", "x32"] },
//     "rules": [
//       { "names": ["mount", "umount2"], "action": "errno", "errno": "EPERM",
//         "comment": "why" },
//       { "names": ["clone"], "errno": "EPERM",
//         "args": [ { "index": 0, "op": "any_bit_set", "value": "CLONE_NEWNS|CLONE_NEWUSER" } ] }
//     ]
//   }
//
// Parsing is strict: unknown keys, unknown syscall names (per libseccomp),
// unknown errno names, unknown ops and malformed values are errors, reported
// as SeccompError naming the rule and syscall. Pure data: no filter is built
// or installed here. Thread-safe (no shared state).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace blockyard::seccomp {

enum class ActionKind { kAllow, kErrno, kKillProcess, kKillThread, kTrap, kLog };

struct Action {
  ActionKind kind = ActionKind::kAllow;
  int errno_value = 0;  // only for kErrno; 1..4095

  friend bool operator==(const Action&, const Action&) = default;
};

enum class CompareOp {
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
  kMaskedEq,   // (arg & mask) == value
  kAnyBitSet,  // (arg & value) != 0; compiled as one rule per bit of value
};

struct ArgFilter {
  unsigned index = 0;  // syscall argument 0..5
  CompareOp op = CompareOp::kEq;
  std::uint64_t value = 0;
  std::uint64_t mask = 0;  // only for kMaskedEq
};

struct Rule {
  std::vector<std::string> names;  // syscall names, each known to libseccomp
  Action action;
  std::vector<ArgFilter> args;  // all must match (AND); empty = unconditional
  std::string comment;
  std::size_t position = 0;  // index in "rules", for messages
};

struct Profile {
  std::string description;
  Action default_action;
  Action bad_arch_action{ActionKind::kKillProcess, 0};
  // Native architecture name -> extra architectures the filter also covers
  // when compiled on that native architecture (e.g. x86_64 -> x86, x32).
  std::map<std::string, std::vector<std::string>> arch_map;
  std::vector<Rule> rules;
};

// Parses the JSON text of a profile. Throws SeccompError.
Profile parse_profile(std::string_view json_text);

// Reads and parses a profile file. Throws SeccompError (also for I/O errors).
Profile load_profile(const std::filesystem::path& path);

// "rules[3] (clone)": how messages refer to a rule and one of its syscalls.
std::string rule_label(const Rule& rule, std::string_view syscall_name);

}  // namespace blockyard::seccomp
