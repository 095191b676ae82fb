#include "lib/config_file.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <fstream>
#include <map>

#include "lib/cli_error.h"

namespace blockyard::cli {
namespace {
namespace fs = std::filesystem;

class ConfigFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "by-config-test-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    root_ = pattern;
  }
  void TearDown() override { fs::remove_all(root_); }

  EnvLookup env() const {
    return [vars = vars_](const std::string& name) -> std::optional<std::string> {
      auto it = vars.find(name);
      if (it == vars.end() || it->second.empty()) return std::nullopt;
      return it->second;
    };
  }

  void write_file(const fs::path& path, const std::string& text) {
    fs::create_directories(path.parent_path());
    std::ofstream(path) << text;
  }

  static mode_t mode_of(const fs::path& path) {
    struct stat st {};
    EXPECT_EQ(::stat(path.c_str(), &st), 0);
    return st.st_mode & 07777;
  }

  fs::path root_;
  std::map<std::string, std::string> vars_;
};

TEST_F(ConfigFileTest, DirPrefersXdgConfigHome) {
  vars_ = {{"XDG_CONFIG_HOME", (root_ / "xdg").string()}, {"HOME", (root_ / "home").string()}};
  EXPECT_EQ(config_path(env()), root_ / "xdg" / "by" / "config.json");
}

TEST_F(ConfigFileTest, DirFallsBackToHomeDotConfig) {
  vars_ = {{"XDG_CONFIG_HOME", ""}, {"HOME", (root_ / "home").string()}};
  EXPECT_EQ(config_path(env()), root_ / "home" / ".config" / "by" / "config.json");
}

TEST_F(ConfigFileTest, DirWithoutHomeIsAnError) {
  EXPECT_THROW(config_dir(env()), CliError);
}

TEST_F(ConfigFileTest, SaveCreatesPrivateDirAndFileAndRoundTrips) {
  const fs::path path = root_ / "xdg" / "by" / "config.json";
  const mode_t old_umask = ::umask(0);  // a permissive umask must not leak into the modes
  save_config_file(path, {"http://example.test:8080", "by_secret"});
  ::umask(old_umask);

  EXPECT_EQ(mode_of(path.parent_path()), 0700);
  EXPECT_EQ(mode_of(path), 0600);
  const Credentials loaded = load_config_file(path);
  EXPECT_EQ(loaded.server, "http://example.test:8080");
  EXPECT_EQ(loaded.token, "by_secret");
  EXPECT_FALSE(fs::exists(path.string() + ".tmp"));
}

TEST_F(ConfigFileTest, SaveTightensAnExistingDirectory) {
  const fs::path dir = root_ / "by";
  fs::create_directories(dir);
  fs::permissions(dir, fs::perms::all);
  save_config_file(dir / "config.json", {"http://a", "t"});
  EXPECT_EQ(mode_of(dir), 0700);
}

TEST_F(ConfigFileTest, SaveOverwritesPreviousCredentials) {
  const fs::path path = root_ / "by" / "config.json";
  save_config_file(path, {"http://old", "old"});
  save_config_file(path, {"http://new", "new"});
  EXPECT_EQ(load_config_file(path).token, "new");
  EXPECT_EQ(mode_of(path), 0600);
}

TEST_F(ConfigFileTest, MissingFileLoadsEmpty) {
  const Credentials c = load_config_file(root_ / "nope" / "config.json");
  EXPECT_TRUE(c.server.empty());
  EXPECT_TRUE(c.token.empty());
}

TEST_F(ConfigFileTest, MalformedFileNamesTheProblem) {
  const fs::path path = root_ / "by" / "config.json";
  write_file(path, "{not json");
  try {
    load_config_file(path);
    FAIL() << "expected CliError";
  } catch (const CliError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("load config: parse config: ", 0), 0u) << e.what();
  }
}

TEST_F(ConfigFileTest, NonStringFieldIsMalformed) {
  const fs::path path = root_ / "by" / "config.json";
  write_file(path, R"({"server": 42, "token": "t"})");
  EXPECT_THROW(load_config_file(path), CliError);
}

TEST_F(ConfigFileTest, EnvironmentOverridesFileValueByValue) {
  vars_ = {{"XDG_CONFIG_HOME", root_.string()}};
  write_file(root_ / "by" / "config.json", R"({"server": "http://file/", "token": "file-token"})");

  Credentials c = resolve_credentials(env());
  EXPECT_EQ(c.server, "http://file");  // trailing slash stripped
  EXPECT_EQ(c.token, "file-token");

  vars_["BLOCKYARD_URL"] = "http://env";
  c = resolve_credentials(env());
  EXPECT_EQ(c.server, "http://env");
  EXPECT_EQ(c.token, "file-token");

  vars_.erase("BLOCKYARD_URL");
  vars_["BLOCKYARD_TOKEN"] = "env-token";
  c = resolve_credentials(env());
  EXPECT_EQ(c.server, "http://file");
  EXPECT_EQ(c.token, "env-token");
}

TEST_F(ConfigFileTest, BothEnvValuesSkipTheFileEntirely) {
  vars_ = {{"XDG_CONFIG_HOME", root_.string()},
           {"BLOCKYARD_URL", "http://env"},
           {"BLOCKYARD_TOKEN", "tok"}};
  write_file(root_ / "by" / "config.json", "garbage");
  const Credentials c = resolve_credentials(env());
  EXPECT_EQ(c.server, "http://env");
  EXPECT_EQ(c.token, "tok");
}

TEST_F(ConfigFileTest, MissingValuesGiveActionableErrors) {
  vars_ = {{"XDG_CONFIG_HOME", root_.string()}};
  try {
    resolve_credentials(env());
    FAIL() << "expected CliError";
  } catch (const CliError& e) {
    EXPECT_STREQ(e.what(), "no server configured; run 'by login' or set BLOCKYARD_URL");
  }
  vars_["BLOCKYARD_URL"] = "http://env";
  try {
    resolve_credentials(env());
    FAIL() << "expected CliError";
  } catch (const CliError& e) {
    EXPECT_STREQ(e.what(), "no token configured; run 'by login' or set BLOCKYARD_TOKEN");
  }
}

TEST_F(ConfigFileTest, MalformedFileIsReportedDuringResolution) {
  vars_ = {{"XDG_CONFIG_HOME", root_.string()}, {"BLOCKYARD_URL", "http://env"}};
  write_file(root_ / "by" / "config.json", "[1,");
  EXPECT_THROW(resolve_credentials(env()), CliError);
}

}  // namespace
}  // namespace blockyard::cli
