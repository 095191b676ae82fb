#include "bundle/entrypoint.h"

#include <gtest/gtest.h>

#include "bundle/test_support.h"

namespace blockyard::bundle {
namespace {

using testing::TempDir;
using testing::write_text;
namespace fs = std::filesystem;

constexpr const char* kMissing = "missing entrypoint: app.R (or ui.R and server.R)";

void expect_missing_entrypoint(const fs::path& dir) {
  try {
    check_entrypoint(dir);
    ADD_FAILURE() << "entrypoint accepted";
  } catch (const BundleError& e) {
    EXPECT_STREQ(e.what(), kMissing);
  }
}

TEST(CheckEntrypoint, AcceptsAppR) {
  TempDir dir;
  write_text(dir / "app.R", "shinyApp()");
  EXPECT_NO_THROW(check_entrypoint(dir.path()));
}

TEST(CheckEntrypoint, AcceptsUiAndServer) {
  TempDir dir;
  write_text(dir / "ui.R", "fluidPage()");
  write_text(dir / "server.R", "function(input, output) {}");
  EXPECT_NO_THROW(check_entrypoint(dir.path()));
}

TEST(CheckEntrypoint, RejectsUiAlone) {
  TempDir dir;
  write_text(dir / "ui.R", "fluidPage()");
  expect_missing_entrypoint(dir.path());
}

TEST(CheckEntrypoint, RejectsServerAlone) {
  TempDir dir;
  write_text(dir / "server.R", "function(input, output) {}");
  expect_missing_entrypoint(dir.path());
}

TEST(CheckEntrypoint, RejectsEmptyBundle) {
  TempDir dir;
  expect_missing_entrypoint(dir.path());
}

TEST(CheckEntrypoint, RejectsAppRDirectory) {
  TempDir dir;
  fs::create_directory(dir / "app.R");
  expect_missing_entrypoint(dir.path());
}

TEST(CheckEntrypoint, RejectsAppRSymlink) {
  TempDir dir;
  write_text(dir / "real.R", "shinyApp()");
  fs::create_symlink("real.R", dir / "app.R");
  expect_missing_entrypoint(dir.path());
}

TEST(CheckEntrypoint, RejectsAppROnlyInSubdirectory) {
  TempDir dir;
  write_text(dir / "myapp/app.R", "shinyApp()");
  expect_missing_entrypoint(dir.path());
}

TEST(DetectDependencyMetadata, FollowsPriorityOrder) {
  TempDir dir;
  EXPECT_EQ(detect_dependency_metadata(dir.path()), "");
  write_text(dir / "DESCRIPTION", "Imports: shiny");
  EXPECT_EQ(detect_dependency_metadata(dir.path()), "DESCRIPTION");
  write_text(dir / "renv.lock", "{}");
  EXPECT_EQ(detect_dependency_metadata(dir.path()), "renv.lock");
  write_text(dir / "manifest.json", "{}");
  EXPECT_EQ(detect_dependency_metadata(dir.path()), "manifest.json");
}

TEST(DetectDependencyMetadata, IgnoresDirectoriesAndNestedFiles) {
  TempDir dir;
  fs::create_directory(dir / "manifest.json");
  write_text(dir / "sub/renv.lock", "{}");
  EXPECT_EQ(detect_dependency_metadata(dir.path()), "");
}

}  // namespace
}  // namespace blockyard::bundle
