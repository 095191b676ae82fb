#include "bundle/manifest.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "bundle/bundle_error.h"
#include "bundle/dependency_source.h"
#include "bundle/test_support.h"

namespace blockyard::bundle {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::record;
using testing::TempDir;
using testing::write_text;

std::string error_of(const std::string& json) {
  try {
    parse_manifest(json);
  } catch (const BundleError& e) {
    return e.what();
  }
  return "";
}

TEST(Manifest, PinnedRoundTrip) {
  Manifest m;
  m.r_version = "4.2.2";
  m.repositories = {{"CRAN", "https://cran.example.org"}};
  m.packages["tinyA"] = record("tinyA", "2.1", "Repository", "CRAN");
  m.packages["gitpkg"] = testing::github_record("gitpkg", "user", std::string(40, 'a'));
  m.files["app.R"] = "abc";
  const Manifest back = parse_manifest(manifest_to_json(m));
  EXPECT_EQ(back, m);
  EXPECT_TRUE(back.pinned());
  EXPECT_THAT(manifest_to_json(m), HasSubstr("\n  \"metadata\": {\n    \"appmode\": \"shiny\""));
}

TEST(Manifest, UnpinnedRoundTrip) {
  Manifest m;
  m.description["Imports"] = "shiny, tinyA (>= 2.0)";
  const Manifest back = parse_manifest(manifest_to_json(m));
  EXPECT_EQ(back, m);
  EXPECT_FALSE(back.pinned());
  EXPECT_THAT(requested_packages(back), ElementsAre("shiny", "tinyA"));
}

TEST(Manifest, ValidationNamesTheProblem) {
  const std::string head = R"({"version": 1, "metadata": {"entrypoint": "app.R"}, )";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"version": 2, "metadata": {"entrypoint": "app.R"}})",
       "unsupported manifest version 2 (server supports 1)"},
      {R"({"version": 1})", "metadata.entrypoint is required"},
      {"{not json", "not valid JSON"},
      {head + R"("packages": {"a1": {"Package": "a1", "Source": "Repository", "Version": "1.0"}},
                 "description": {"Imports": "x1"}})",
       "packages and description are mutually exclusive"},
      {head + R"("packages": {"a1": {"Package": "a1", "Source": "Repository"}}})",
       "package \"a1\": Version is required for Source Repository"},
      {head + R"("packages": {"a1": {"Package": "a1", "Source": "GitHub"}}})",
       "package \"a1\": RemoteUsername, RemoteRepo and RemoteSha are required for Source GitHub"},
      {head + R"("packages": {"a1": {"Package": "a1", "Source": "git"}}})",
       "package \"a1\": RemoteUrl is required for Source git"},
      {head + R"("packages": {"a1": {"Package": "a1", "Source": "svn"}}})",
       "package \"a1\": unsupported Source \"svn\""},
      {head + R"("description": {"Suggests": "x1"}})", "description field \"Suggests\""},
      {head + R"("repositories": [{"Name": "X", "URL": "ftp://x"}]})",
       "repository \"X\": URL must start with"},
  };
  for (const auto& [json, message] : cases)
    EXPECT_THAT(error_of(json), ::testing::StartsWith("invalid manifest: " + message)) << json;
}

TEST(Repositories, NamedBareAndLists) {
  EXPECT_EQ(parse_repository("CRAN=https://cran.example.org/", 1),
            (Repository{"CRAN", "https://cran.example.org"}));
  EXPECT_EQ(parse_repository("http://127.0.0.1:9/x?a=b", 2),
            (Repository{"repo2", "http://127.0.0.1:9/x?a=b"}));
  EXPECT_THAT(parse_repository_list(" A=http://a , http://b,"),
              ElementsAre(Repository{"A", "http://a"}, Repository{"repo2", "http://b"}));
  EXPECT_TRUE(parse_repository_list("  ").empty());
  EXPECT_THROW(parse_repository("ftp://x", 1), BundleError);
}

TEST(RenvLock, PinnedManifestWithRepositories) {
  const Manifest m = manifest_from_renv_lock(R"({
    "R": {"Version": "4.2.2", "Repositories": [{"Name": "CRAN", "URL": "http://r.example/"}]},
    "Bioconductor": {"Version": "3.16"},
    "Packages": {
      "pinme": {"Package": "pinme", "Version": "0.1", "Source": "Repository",
                "Repository": "CRAN", "Hash": "ignored"},
      "gitpkg": {"Package": "gitpkg", "Version": "1.0", "Source": "git",
                 "RemoteUrl": "http://git.example/gitpkg.git", "RemoteSha": "abc"},
      "renv": {"Package": "renv", "Version": "1.0.0", "Source": "Repository"}
    }})");
  EXPECT_EQ(m.r_version, "4.2.2");
  EXPECT_EQ(m.bioconductor_version, "3.16");
  EXPECT_THAT(m.repositories, ElementsAre(Repository{"CRAN", "http://r.example"}));
  ASSERT_EQ(m.packages.size(), 2u);
  EXPECT_EQ(m.packages.at("pinme").version, "0.1");
  EXPECT_EQ(m.packages.at("gitpkg").remote_sha, "abc");
  EXPECT_THROW(manifest_from_renv_lock("{}"), BundleError);
  EXPECT_THAT(
      [] {
        manifest_from_renv_lock(
            R"({"Packages": {"x1": {"Package": "x1", "Source": "Repository"}}})");
      },
      ::testing::ThrowsMessage<BundleError>(
          HasSubstr("renv.lock: package \"x1\": Version is required")));
}

TEST(Description, KeepsDependencyFieldsOnly) {
  const Manifest m = manifest_from_description(
      "Package: app\nImports: shiny,\n  tinyA (>= 2.0)\nSuggests: testthat\nRemotes: user/tinyA\n");
  EXPECT_EQ(m.description.size(), 2u);
  EXPECT_EQ(m.description.at("Imports"), "shiny,\ntinyA (>= 2.0)");
  EXPECT_EQ(m.description.at("Remotes"), "user/tinyA");
  EXPECT_THAT([] { manifest_from_description("Imports: (>= 1)\n"); },
              ::testing::ThrowsMessage<BundleError>(HasSubstr("DESCRIPTION: Imports")));
}

TEST(ResolveDependencies, PriorityAndWarnings) {
  TempDir dir;
  write_text(dir / "app.R", "library(shiny)\nDT::datatable(x)\n");
  write_text(dir / "data" / "x.csv", "1,2\n");
  write_text(dir / ".Rprofile", "hidden\n");
  auto r = resolve_dependencies(dir.path());
  EXPECT_EQ(r.source, DependencySource::scripts);
  EXPECT_EQ(r.manifest.description.at("Imports"), "DT, shiny");
  EXPECT_THAT(r.manifest.files, ::testing::SizeIs(2));  // app.R, data/x.csv
  EXPECT_TRUE(r.manifest.files.count("data/x.csv"));

  write_text(dir / "DESCRIPTION", "Imports: tinyA\n");
  r = resolve_dependencies(dir.path(), {{"Local", "http://127.0.0.1:1"}});
  EXPECT_EQ(r.source, DependencySource::description);
  EXPECT_THAT(requested_packages(r.manifest), ElementsAre("tinyA"));
  EXPECT_THAT(r.manifest.repositories, ElementsAre(Repository{"Local", "http://127.0.0.1:1"}));

  write_text(dir / "renv.lock", R"({"Packages": {"pinme": {"Package": "pinme", "Version": "0.1",
                                   "Source": "Repository"}}})");
  r = resolve_dependencies(dir.path());
  EXPECT_EQ(r.source, DependencySource::renv_lock);
  EXPECT_THAT(r.warnings, ElementsAre("Using renv.lock; ignoring DESCRIPTION"));
  EXPECT_FALSE(r.manifest.files.count("renv.lock"));

  write_text(dir / "manifest.json", manifest_to_json(r.manifest));
  r = resolve_dependencies(dir.path(), {{"Ignored", "http://x"}});
  EXPECT_EQ(r.source, DependencySource::manifest);
  EXPECT_TRUE(r.manifest.repositories.empty());
  EXPECT_THAT(r.warnings, ElementsAre("Using manifest.json; ignoring renv.lock",
                                      "Using manifest.json; ignoring DESCRIPTION"));

  write_text(dir / "manifest.json", "{broken");
  EXPECT_THROW(resolve_dependencies(dir.path()), BundleError);
}

}  // namespace
}  // namespace blockyard::bundle
