#include "seccomp/profile.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <string>

#include "seccomp/seccomp_error.h"

namespace blockyard::seccomp {
namespace {

using ::testing::HasSubstr;

// Wraps one rule (JSON text) into a minimal default-allow profile.
std::string with_rule(const std::string& rule) {
  return R"({"defaultAction": "allow", "rules": [)" + rule + "]}";
}

std::string parse_error(const std::string& text) {
  try {
    parse_profile(text);
  } catch (const SeccompError& e) {
    return e.what();
  }
  return "(parsed without error)";
}

TEST(ProfileParse, ReadsRulesActionsAndArgFilters) {
  const Profile p = parse_profile(R"({
    "description": "d",
    "defaultAction": "allow",
    "badArchAction": "kill_process",
    "archMap": {"x86_64": ["x86", "x32"]},
    "rules": [
      {"names": ["mount", "umount2"], "errno": "EPERM", "comment": "c"},
      {"names": ["clone3"], "action": "errno", "errno": 38},
      {"names": ["clone"], "errno": "EPERM",
       "args": [{"index": 0, "op": "any_bit_set", "value": "CLONE_NEWUSER|0x20000"}]},
      {"names": ["ioctl"], "errno": "EPERM",
       "args": [{"index": 1, "op": "masked_eq", "mask": "UINT32_MAX", "value": "TIOCSTI"}]},
      {"names": ["reboot"], "action": "kill_process"}
    ]})");
  EXPECT_EQ(p.description, "d");
  EXPECT_EQ(p.default_action.kind, ActionKind::kAllow);
  EXPECT_EQ(p.bad_arch_action.kind, ActionKind::kKillProcess);
  ASSERT_EQ(p.arch_map.at("x86_64").size(), 2u);
  ASSERT_EQ(p.rules.size(), 5u);
  EXPECT_EQ(p.rules[0].names, (std::vector<std::string>{"mount", "umount2"}));
  EXPECT_EQ(p.rules[0].action.kind, ActionKind::kErrno);
  EXPECT_EQ(p.rules[0].action.errno_value, EPERM);
  EXPECT_EQ(p.rules[0].comment, "c");
  EXPECT_EQ(p.rules[1].action.errno_value, ENOSYS);
  ASSERT_EQ(p.rules[2].args.size(), 1u);
  EXPECT_EQ(p.rules[2].args[0].op, CompareOp::kAnyBitSet);
  EXPECT_EQ(p.rules[2].args[0].value, 0x10000000u | 0x20000u);
  EXPECT_EQ(p.rules[3].args[0].index, 1u);
  EXPECT_EQ(p.rules[3].args[0].mask, 0xffffffffu);
  EXPECT_EQ(p.rules[3].args[0].value, 0x5412u);
  EXPECT_EQ(p.rules[4].action.kind, ActionKind::kKillProcess);
  EXPECT_EQ(p.rules[4].position, 4u);
}

TEST(ProfileParse, UnknownSyscallNamesRuleAndSyscall) {
  const auto msg = parse_error(with_rule(R"({"names": ["getpid", "mountt"], "errno": "EPERM"})"));
  EXPECT_THAT(msg, HasSubstr("rules[0] (mountt)"));
  EXPECT_THAT(msg, HasSubstr("unknown syscall 'mountt'"));
}

TEST(ProfileParse, BadErrnoIsRejected) {
  EXPECT_THAT(parse_error(with_rule(R"({"names": ["mount"], "errno": "EPRM"})")),
              HasSubstr("rules[0] (mount): unknown errno \"EPRM\""));
  EXPECT_THAT(parse_error(with_rule(R"({"names": ["mount"], "errno": 0})")),
              HasSubstr("outside 1..4095"));
  EXPECT_THAT(parse_error(with_rule(R"({"names": ["mount"], "errno": 5000})")),
              HasSubstr("outside 1..4095"));
  EXPECT_THAT(parse_error(with_rule(R"({"names": ["mount"], "errno": true})")),
              HasSubstr("errno must be"));
  EXPECT_THAT(parse_error(with_rule(R"({"names": ["mount"], "action": "errno"})")),
              HasSubstr("needs an \"errno\""));
  EXPECT_THAT(
      parse_error(with_rule(R"({"names": ["mount"], "action": "kill_process", "errno": 1})")),
      HasSubstr("only valid with action 'errno'"));
}

TEST(ProfileParse, BadArgFiltersAreRejected) {
  const auto rule = [](const std::string& arg) {
    return with_rule(R"({"names": ["clone"], "errno": "EPERM", "args": [)" + arg + "]}");
  };
  EXPECT_THAT(parse_error(rule(R"({"index": 0, "op": "bitand", "value": 1})")),
              HasSubstr("rules[0] (clone): unknown comparison op 'bitand'"));
  EXPECT_THAT(parse_error(rule(R"({"index": 6, "op": "eq", "value": 1})")),
              HasSubstr("index\" must be 0..5"));
  EXPECT_THAT(parse_error(rule(R"({"index": 0, "op": "eq", "value": "CLONE_NEWFOO"})")),
              HasSubstr("cannot parse value"));
  EXPECT_THAT(parse_error(rule(R"({"index": 0, "op": "eq", "value": -1})")),
              HasSubstr("must not be negative"));
  EXPECT_THAT(parse_error(rule(R"({"index": 0, "op": "eq"})")), HasSubstr("needs a \"value\""));
  EXPECT_THAT(parse_error(rule(R"({"index": 0, "op": "masked_eq", "value": 1})")),
              HasSubstr("needs a \"mask\""));
  EXPECT_THAT(parse_error(rule(R"({"index": 0, "op": "masked_eq", "mask": 1, "value": 3})")),
              HasSubstr("bits outside its mask"));
  EXPECT_THAT(parse_error(rule(R"({"index": 0, "op": "eq", "mask": 1, "value": 1})")),
              HasSubstr("only valid with op 'masked_eq'"));
  EXPECT_THAT(parse_error(rule(R"({"index": 0, "op": "any_bit_set", "value": 0})")),
              HasSubstr("non-zero"));
  EXPECT_THAT(parse_error(rule(R"({"index": 0, "op": "eq", "value": 1},
                                  {"index": 0, "op": "ne", "value": 2})")),
              HasSubstr("two filters on arg 0"));
}

TEST(ProfileParse, StructuralMistakesAreRejected) {
  EXPECT_THAT(parse_error("{"), HasSubstr("not valid JSON"));
  EXPECT_THAT(parse_error(R"({"rules": []})"), HasSubstr("missing \"defaultAction\""));
  EXPECT_THAT(parse_error(R"({"defaultAction": "allow", "rules": [], "rulez": []})"),
              HasSubstr("unknown key 'rulez'"));
  EXPECT_THAT(parse_error(with_rule(R"({"names": ["mount"], "errno": "EPERM", "arg": []})")),
              HasSubstr("rules[0]: unknown key 'arg'"));
  EXPECT_THAT(parse_error(with_rule(R"({"names": [], "errno": "EPERM"})")),
              HasSubstr("non-empty array"));
  EXPECT_THAT(parse_error(with_rule(R"({"names": ["mount"], "action": "deny"})")),
              HasSubstr("unknown action 'deny'"));
  EXPECT_THAT(parse_error(R"({"defaultAction": "allow", "archMap": {"x86_64": ["vax"]},
                              "rules": []})"),
              HasSubstr("unknown architecture 'vax'"));
}

TEST(ProfileParse, RuleThatRepeatsTheDefaultIsRejected) {
  EXPECT_THAT(parse_error(with_rule(R"({"names": ["getpid"], "action": "allow"})")),
              HasSubstr("rules[0] (getpid): rule action equals the default action"));
}

TEST(ProfileParse, SecondRuleForAnUnconditionallyDecidedSyscallIsRejected) {
  EXPECT_THAT(parse_error(with_rule(R"({"names": ["mount"], "errno": "EPERM"},
                                      {"names": ["chroot", "mount"], "errno": "EACCES"})")),
              HasSubstr("rules[1] (mount): syscall 'mount' already has an unconditional rule "
                        "at rules[0]"));
  EXPECT_THAT(parse_error(with_rule(R"({"names": ["ioctl"], "errno": "EPERM"},
      {"names": ["ioctl"], "errno": "EPERM", "args": [{"index": 1, "op": "eq", "value": 1}]})")),
              HasSubstr("rules[1] (ioctl)"));
}

TEST(ProfileParse, ShippedProfileParses) {
  const Profile p = load_profile(BLOCKYARD_SOURCE_DIR "/profiles/seccomp.json");
  EXPECT_EQ(p.default_action.kind, ActionKind::kAllow);
  EXPECT_FALSE(p.rules.empty());
}

TEST(ProfileParse, MissingFileNamesThePath) {
  try {
    load_profile("/nonexistent/seccomp.json");
    FAIL() << "expected an error";
  } catch (const SeccompError& e) {
    EXPECT_THAT(e.what(), HasSubstr("/nonexistent/seccomp.json"));
  }
}

}  // namespace
}  // namespace blockyard::seccomp
