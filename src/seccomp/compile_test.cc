#include "seccomp/compile.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <linux/filter.h>

#include <fstream>
#include <iterator>

#include "seccomp/bpf_program.h"
#include "seccomp/seccomp_error.h"

namespace blockyard::seccomp {
namespace {

using ::testing::HasSubstr;

const char* kShippedJson = BLOCKYARD_SOURCE_DIR "/profiles/seccomp.json";
const char* kBuiltBlob = BLOCKYARD_BINARY_DIR "/seccomp.bpf";

std::vector<std::uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(Compile, ShippedProfileGivesALoadableWholeInstructionProgram) {
  const auto bpf = compile_bpf(load_profile(kShippedJson));
  ASSERT_FALSE(bpf.empty());
  EXPECT_EQ(bpf.size() % sizeof(sock_filter), 0u);
  const BpfProgram program = BpfProgram::from_bytes(bpf);
  EXPECT_GT(program.instruction_count(), 20u);
  EXPECT_EQ(program.check_loadable_in_child(), "");
}

TEST(Compile, OutputIsDeterministic) {
  const Profile profile = load_profile(kShippedJson);
  EXPECT_EQ(compile_bpf(profile), compile_bpf(profile));
  EXPECT_EQ(compile_bpf(load_profile(kShippedJson)), compile_bpf(profile));
}

TEST(Compile, BuildArtifactIsTheCompiledShippedProfile) {
  // The build compiles profiles/seccomp.json into seccomp.bpf; a stale or
  // hand-edited blob would not match a fresh compilation.
  const auto built = read_bytes(kBuiltBlob);
  ASSERT_FALSE(built.empty()) << kBuiltBlob << " missing: build the seccomp_bpf target";
  EXPECT_EQ(built, compile_bpf(load_profile(kShippedJson)));
}

TEST(Compile, DifferentRulesGiveDifferentPrograms) {
  const auto a = compile_bpf(parse_profile(
      R"({"defaultAction": "allow", "rules": [{"names": ["mount"], "errno": "EPERM"}]})"));
  const auto b = compile_bpf(parse_profile(
      R"({"defaultAction": "allow", "rules": [{"names": ["mount"], "errno": "EACCES"}]})"));
  EXPECT_NE(a, b);
}

TEST(Compile, PfcRenderingMentionsDeniedSyscalls) {
  const std::string pfc = compile_pfc(load_profile(kShippedJson));
  EXPECT_THAT(pfc, HasSubstr("ERRNO(1)"));   // EPERM
  EXPECT_THAT(pfc, HasSubstr("ERRNO(38)"));  // ENOSYS for clone3
}

TEST(Compile, UnknownTargetArchitectureIsAnError) {
  CompileOptions options;
  options.arch = "vax";
  try {
    compile_bpf(load_profile(kShippedJson), options);
    FAIL() << "expected an error";
  } catch (const SeccompError& e) {
    EXPECT_THAT(e.what(), HasSubstr("unknown architecture 'vax'"));
  }
}

TEST(Compile, CrossCompilingForAnotherArchitectureDiffers) {
  CompileOptions arm;
  arm.arch = "aarch64";
  const Profile profile = load_profile(kShippedJson);
  EXPECT_NE(compile_bpf(profile, arm), compile_bpf(profile));
}

TEST(BpfProgram, ShapeErrorsAreReported) {
  EXPECT_THROW(BpfProgram::from_bytes({}), SeccompError);
  const std::vector<std::uint8_t> odd(12, 0);
  EXPECT_THROW(BpfProgram::from_bytes(odd), SeccompError);
  const std::vector<std::uint8_t> huge((BPF_MAXINSNS + 1) * sizeof(sock_filter), 0);
  EXPECT_THROW(BpfProgram::from_bytes(huge), SeccompError);
  EXPECT_THROW(BpfProgram::from_file("/nonexistent/seccomp.bpf"), SeccompError);
}

TEST(BpfProgram, KernelRejectsAProgramThatDoesNotReturn) {
  // One "load accumulator" instruction and no return: well-shaped, invalid.
  const sock_filter no_return = BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0);
  const auto* p = reinterpret_cast<const std::uint8_t*>(&no_return);
  const BpfProgram program = BpfProgram::from_bytes({p, sizeof no_return});
  EXPECT_THAT(program.check_loadable_in_child(), HasSubstr("rejected"));
}

}  // namespace
}  // namespace blockyard::seccomp
