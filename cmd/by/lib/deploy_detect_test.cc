#include "lib/deploy_detect.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <fstream>

#include "lib/cli_error.h"

namespace blockyard::cli {
namespace {
namespace fs = std::filesystem;

class DeployDetectTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "by-detect-test-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    root_ = pattern;
    app_ = root_ / "hello-shiny";
    fs::create_directories(app_);
  }
  void TearDown() override { fs::remove_all(root_); }

  void touch(const std::string& name) { std::ofstream(app_ / name) << "x\n"; }

  fs::path root_;
  fs::path app_;
};

TEST_F(DeployDetectTest, NameIsBasenameUnlessOverridden) {
  touch("app.R");
  EXPECT_EQ(detect_app(app_, std::nullopt).name, "hello-shiny");
  EXPECT_EQ(detect_app(app_.string() + "/", std::nullopt).name, "hello-shiny");
  EXPECT_EQ(detect_app(app_, std::string("other")).name, "other");
  EXPECT_TRUE(detect_app(app_, std::nullopt).dir.is_absolute());
}

TEST_F(DeployDetectTest, DirectoryNamedLikeShinysExamplesGetsAValidName) {
  const fs::path example = root_ / "01_hello";
  fs::create_directories(example);
  std::ofstream(example / "app.R") << "x\n";
  const DeployPlan plan = detect_app(example, std::nullopt);
  EXPECT_EQ(plan.name, "hello");
  ASSERT_EQ(plan.warnings.size(), 1u);
  EXPECT_NE(plan.warnings[0].find("deploying as \"hello\""), std::string::npos)
      << plan.warnings[0];
}

TEST_F(DeployDetectTest, InvalidNameIsRefusedWithASuggestion) {
  touch("app.R");
  try {
    detect_app(app_, std::string("01_hello"));
    FAIL() << "an invalid --name was accepted";
  } catch (const CliError& e) {
    EXPECT_NE(std::string(e.what()).find("try --name hello"), std::string::npos) << e.what();
  }
  const fs::path digits = root_ / "2024";
  fs::create_directories(digits);
  EXPECT_THROW(detect_app(digits, std::nullopt), CliError);
}

TEST_F(DeployDetectTest, EntrypointAppROrSplitApp) {
  touch("app.R");
  EXPECT_EQ(mode_label(detect_app(app_, std::nullopt)), "shiny (entrypoint: app.R)");
  fs::remove(app_ / "app.R");
  touch("ui.R");
  touch("server.R");
  const DeployPlan split = detect_app(app_, std::nullopt);
  EXPECT_EQ(split.entrypoint, "ui.R/server.R");
  EXPECT_TRUE(split.warnings.empty());
}

TEST_F(DeployDetectTest, MissingEntrypointWarns) {
  touch("helpers.R");
  const DeployPlan plan = detect_app(app_, std::nullopt);
  ASSERT_EQ(plan.warnings.size(), 1u);
  EXPECT_NE(plan.warnings[0].find("no app.R"), std::string::npos);
}

TEST_F(DeployDetectTest, DependencySourcePriority) {
  std::ofstream(app_ / "app.R") << "library(shiny)\nDT::datatable(x)\n";
  DeployPlan plan = detect_app(app_, std::nullopt);
  EXPECT_EQ(deps_label(plan.deps), "unpinned (scanned from the R scripts)");
  EXPECT_EQ(packages_label(plan.deps), "DT, shiny");
  EXPECT_EQ(repository_label(plan.deps), "(server default)");
  std::ofstream(app_ / "DESCRIPTION") << "Imports: tinyA\n";
  plan = detect_app(app_, std::nullopt);
  EXPECT_EQ(deps_label(plan.deps), "unpinned (DESCRIPTION)");
  EXPECT_EQ(packages_label(plan.deps), "tinyA");
  std::ofstream(app_ / "renv.lock")
      << R"({"Packages": {"pinme": {"Package": "pinme", "Version": "0.1", "Source": "Repository"}}})";
  plan = detect_app(app_, std::nullopt);
  EXPECT_EQ(deps_label(plan.deps), "pinned (renv.lock)");
  EXPECT_EQ(plan.warnings, std::vector<std::string>{"Using renv.lock; ignoring DESCRIPTION"});
  std::ofstream(app_ / "manifest.json") << bundle::manifest_to_json(plan.deps.manifest);
  plan = detect_app(app_, std::nullopt, {{"X", "http://x"}});
  EXPECT_EQ(plan.deps.source, bundle::DependencySource::manifest);
  EXPECT_EQ(deps_label(plan.deps), "manifest.json (pinned)");
  EXPECT_EQ(plan.warnings.size(), 3u);  // --repositories ignored, renv.lock and DESCRIPTION ignored
  EXPECT_TRUE(generated_files(plan).empty());
}

TEST_F(DeployDetectTest, RepositoriesTravelInAGeneratedManifest) {
  std::ofstream(app_ / "app.R") << "library(shiny)\n";
  std::ofstream(app_ / "DESCRIPTION") << "Imports: tinyA\n";
  const DeployPlan plan =
      detect_app(app_, std::nullopt, repositories_option("local=http://127.0.0.1:9"));
  EXPECT_EQ(repository_label(plan.deps), "local (http://127.0.0.1:9)");
  const auto files = generated_files(plan);
  ASSERT_EQ(files.count("manifest.json"), 1u);
  const auto manifest = bundle::parse_manifest(files.at("manifest.json"));
  EXPECT_EQ(manifest.description.at("Imports"), "tinyA");
  EXPECT_EQ(manifest.repositories.at(0).url, "http://127.0.0.1:9");
  EXPECT_FALSE(fs::exists(app_ / "manifest.json")) << "the app's directory is not changed";
  EXPECT_THROW(repositories_option("ftp://nope"), CliError);
}

TEST_F(DeployDetectTest, InvalidDependencyFilesAreErrors) {
  touch("app.R");
  std::ofstream(app_ / "manifest.json") << "{broken";
  try {
    detect_app(app_, std::nullopt);
    FAIL() << "accepted";
  } catch (const CliError& e) {
    EXPECT_NE(std::string(e.what()).find("invalid manifest"), std::string::npos) << e.what();
  }
}

TEST_F(DeployDetectTest, DirectoryNamedLikeAMarkerDoesNotCount) {
  touch("app.R");
  fs::create_directories(app_ / "renv.lock");
  EXPECT_EQ(detect_app(app_, std::nullopt).deps.source, bundle::DependencySource::scripts);
}

TEST_F(DeployDetectTest, RejectsMissingDirAndFiles) {
  EXPECT_THROW(detect_app(root_ / "absent", std::nullopt), CliError);
  touch("app.R");
  EXPECT_THROW(detect_app(app_ / "app.R", std::nullopt), CliError);
}

}  // namespace
}  // namespace blockyard::cli
