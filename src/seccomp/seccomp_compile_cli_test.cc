// The seccomp-compile program (cmd/seccomp-compile) as the build runs it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "seccomp/test_child.h"

namespace blockyard::seccomp {
namespace {

using ::testing::HasSubstr;
using testing::run_command;

namespace fs = std::filesystem;

const std::string kCompiler = BLOCKYARD_BINARY_DIR "/bin/seccomp-compile";

class SeccompCompileCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("by-seccomp-cli-" + std::to_string(getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& text) {
    const fs::path path = dir_ / name;
    std::ofstream(path) << text;
    return path.string();
  }
  static std::string read(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }

  fs::path dir_;
};

TEST_F(SeccompCompileCli, CompilesTheShippedProfileToTheBuildArtifact) {
  const fs::path out = dir_ / "seccomp.bpf";
  const fs::path pfc = dir_ / "seccomp.pfc";
  const auto r = run_command({kCompiler, "--in", BLOCKYARD_SOURCE_DIR "/profiles/seccomp.json",
                              "--out", out.string(), "--pfc", pfc.string()},
                             "");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(read(out), read(BLOCKYARD_BINARY_DIR "/seccomp.bpf"));
  EXPECT_THAT(read(pfc), HasSubstr("clone3"));
}

TEST_F(SeccompCompileCli, ProfileErrorExitsOneNamingTheRuleAndKeepsOldOutput) {
  const fs::path out = dir_ / "seccomp.bpf";
  std::ofstream(out) << "previous";
  const auto bad = write("bad.json", R"({"defaultAction": "allow", "rules": [
      {"names": ["mount"], "errno": "EPERM"},
      {"names": ["ptrace", "no_such_call"], "errno": "EPERM"}]})");
  const auto r = run_command({kCompiler, "--in", bad, "--out", out.string()}, "");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.output, HasSubstr("rules[1] (no_such_call): unknown syscall 'no_such_call'"));
  EXPECT_EQ(read(out), "previous");
}

TEST_F(SeccompCompileCli, MissingArgumentsAreAUsageError) {
  const auto r = run_command({kCompiler, "--in", "x.json"}, "");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("--out"));
}

}  // namespace
}  // namespace blockyard::seccomp
