#include "restore/restore_plan.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "bundle/bundle_error.h"
#include "bundle/dcf.h"
#include "bundle/test_support.h"
#include "restore/r_installations.h"
#include "restore/restore_inputs.h"

namespace blockyard::restore {
namespace {

namespace fs = std::filesystem;
using bundle::testing::record;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const std::string kPlatform = "Platform: 4.2-x86_64-pc-linux-gnu\nRVersion: 4.2.2\n";
const std::string kRepo = "http://127.0.0.1:9/cran";

std::vector<std::string> names(const RestorePlan& plan) {
  std::vector<std::string> out;
  for (const auto& p : plan.packages) out.push_back(p.package);
  return out;
}

TEST(RestorePlan, OrdersDependenciesFirstAndComputesEntries) {
  const std::string id = repository_source_id(kRepo);
  const std::string plan_dcf =
      "Package: tinyA\nVersion: 2.1\nOrigin: repository\nRequested: yes\nRepository: local\n"
      "RepositoryURL: " +
      kRepo + "\nSourceId: " + id + "\nDownload: " + kRepo +
      "/src/contrib/tinyA_2.1.tar.gz\nDependencies: tinyB, shiny\n\n"
      "Package: shiny\nVersion: 1.7.4\nOrigin: host\nRequested: yes\nLibPath: "
      "/usr/lib/R/site-library\n\n"
      "Package: tinyB\nVersion: 1.0\nOrigin: repository\nRepositoryURL: " +
      kRepo + "\nSourceId: " + id + "\nDownload: " + kRepo + "/src/contrib/tinyB_1.0.tar.gz\n";
  const RestorePlan plan = parse_restore_plan(kPlatform, plan_dcf, {id});
  EXPECT_EQ(plan.platform, "4.2-x86_64-pc-linux-gnu");
  EXPECT_EQ(plan.r_version, "4.2.2");
  EXPECT_THAT(names(plan), ElementsAre("shiny", "tinyB", "tinyA"));
  const auto entries = plan_entries(plan);
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[1].relative_path(),
            fs::path("4.2-x86_64-pc-linux-gnu/tinyA/2.1") / (id + "-" + config_id({})));
  EXPECT_TRUE(plan.packages[2].requested);
  EXPECT_THAT(plan.packages[2].dependencies, ElementsAre("tinyB", "shiny"));
}

TEST(RestorePlan, LinkingToChangesTheConfigId) {
  const std::string id = repository_source_id(kRepo);
  auto plan_with = [&](const std::string& linked_version) {
    return parse_restore_plan(
        kPlatform,
        "Package: compiled\nVersion: 1.0\nOrigin: repository\nRepositoryURL: " + kRepo +
            "\nSourceId: " + id + "\nDownload: " + kRepo +
            "/src/contrib/compiled_1.0.tar.gz\nDependencies: headers\nLinkingTo: headers\n"
            "NeedsCompilation: yes\n\nPackage: headers\nVersion: " +
            linked_version + "\nOrigin: repository\nRepositoryURL: " + kRepo + "\nSourceId: " + id +
            "\nDownload: " + kRepo + "/src/contrib/headers_" + linked_version + ".tar.gz\n",
        {id});
  };
  const auto one = plan_entries(plan_with("1.0"));
  const auto two = plan_entries(plan_with("2.0"));
  EXPECT_EQ(one[0].config_id, two[0].config_id) << "headers itself links to nothing";
  EXPECT_NE(one[1].config_id, two[1].config_id);
  EXPECT_TRUE(plan_with("1.0").packages[1].needs_compilation);
}

TEST(RestorePlan, RejectsWhatTheServerDidNotAskFor) {
  const std::string id = repository_source_id(kRepo);
  auto error = [&](const std::string& plan_dcf) {
    try {
      parse_restore_plan(kPlatform, plan_dcf, {id});
    } catch (const std::runtime_error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_THAT(error("Package: x1\nVersion: 1.0\nOrigin: repository\nSourceId: ffff\n"),
              HasSubstr("unknown SourceId"));
  EXPECT_THAT(error("Package: x1\nVersion: 1.0\nOrigin: repository\nSourceId: " + id +
                    "\nRepositoryURL: " + kRepo + "\nDownload: http://evil/x1.tar.gz\n"),
              HasSubstr("is not below"));
  EXPECT_THAT(error("Package: ../x\nVersion: 1.0\nOrigin: host\nLibPath: /x\n"),
              HasSubstr("bad package name"));
  EXPECT_THAT(error("Package: x1\nVersion: 1.0\nOrigin: git\nGitSha: nope\n"), HasSubstr("GitSha"));
  EXPECT_THAT(error("Package: x1\nVersion: 1.0\nOrigin: moon\n"), HasSubstr("unknown Origin"));
  EXPECT_THAT(error("Package: x1\nVersion: 1.0\nOrigin: host\nLibPath: /l\nTarball: ../etc/x\n"),
              HasSubstr("bad Tarball"));
  EXPECT_THROW(parse_restore_plan("Platform: bad platform\n", "", {id}), std::runtime_error);
}

TEST(RestoreInputs, RepositoryPrecedence) {
  RepositorySettings settings;
  settings.defaults = {{"CRAN", "https://cran.example"}};
  bundle::Manifest m;
  auto repos = effective_repositories(m, settings, "4.2.2");
  ASSERT_EQ(repos.size(), 1u);
  EXPECT_EQ(repos[0].repository.url, "https://cran.example");
  EXPECT_EQ(repos[0].id, repository_source_id("https://cran.example"));
  m.repositories = {{"Own", "http://own/"}};
  repos = effective_repositories(m, settings, "4.2.2");
  EXPECT_EQ(repos[0].repository.url, "http://own");
  settings.overrides = {{"Mirror", "http://mirror"}};
  repos = effective_repositories(m, settings, "4.2.2");
  ASSERT_EQ(repos.size(), 1u);
  EXPECT_EQ(repos[0].repository.name, "Mirror");
}

TEST(RestoreInputs, BioconductorRepositoriesWhenAsked) {
  RepositorySettings settings;
  settings.bioconductor_url = "http://bioc.example/";
  bundle::Manifest m;
  m.packages["Biobase"] = record("Biobase", "2.58.0", "Bioconductor");
  const auto repos = effective_repositories(m, settings, "4.2.2");
  ASSERT_EQ(repos.size(), 4u);
  EXPECT_EQ(repos[0].repository.url, "http://bioc.example/packages/3.16/bioc");
  EXPECT_EQ(repos[0].kind, "bioc");
  m.bioconductor_version = "3.15";
  EXPECT_EQ(effective_repositories(m, settings, "").front().repository.url,
            "http://bioc.example/packages/3.15/bioc");
  m.bioconductor_version.clear();
  EXPECT_THROW(effective_repositories(m, settings, "9.9.9"), bundle::BundleError);
}

TEST(RestoreInputs, RequirementsFromPinnedAndUnpinnedManifests) {
  bundle::Manifest pinned;
  pinned.packages["pinme"] = record("pinme", "0.1", "Repository", "CRAN");
  pinned.packages["ghpkg"] = bundle::testing::github_record("ghpkg", "me", std::string(40, 'b'));
  auto records = bundle::parse_dcf(requirements_dcf(pinned));
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].at("Package"), "ghpkg");
  EXPECT_EQ(records[0].at("Source"), "git");
  EXPECT_EQ(records[0].at("GitUrl"), "https://github.com/me/ghpkg.git");
  EXPECT_EQ(records[1].at("Version"), "0.1");
  EXPECT_EQ(records[1].at("Repository"), "CRAN");

  bundle::Manifest unpinned;
  unpinned.description["Imports"] = "shiny, tinyA (>= 2.0), utils, fromgit";
  unpinned.description["Remotes"] = "fromgit=git::http://127.0.0.1:1/repo.git@v1, other/x";
  records = bundle::parse_dcf(requirements_dcf(unpinned));
  ASSERT_EQ(records.size(), 3u);  // utils is base R
  EXPECT_EQ(records[0].at("Package"), "fromgit");
  EXPECT_EQ(records[0].at("GitUrl"), "http://127.0.0.1:1/repo.git");
  EXPECT_EQ(records[0].at("GitRef"), "v1");
  EXPECT_EQ(records[2].at("Package"), "tinyA");
  EXPECT_EQ(records[2].at("Constraint"), ">= 2.0");
  unpinned.description["Remotes"] = "svn::http://x";
  EXPECT_THROW(requirements_dcf(unpinned), bundle::BundleError);
}

TEST(GitUrls, HostsMapToCloneUrls) {
  bundle::PackageRecord r;
  r.remote_username = "u";
  r.remote_repo = "r";
  r.source = "GitHub";
  r.remote_host = "api.github.com";
  EXPECT_EQ(git_url_for(r), "https://github.com/u/r.git");
  r.remote_host = "ghe.example.com/api/v3";
  EXPECT_EQ(git_url_for(r), "https://ghe.example.com/u/r.git");
  r.source = "GitLab";
  r.remote_host = "";
  EXPECT_EQ(git_url_for(r), "https://gitlab.com/u/r.git");
  r.source = "Bitbucket";
  EXPECT_EQ(git_url_for(r), "https://bitbucket.org/u/r.git");
}

TEST(RInstallations, ExactThenSameMinorThenFallback) {
  std::string pattern = (fs::temp_directory_path() / "by-rvers-XXXXXX").string();
  ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
  const fs::path dir = pattern;
  for (const char* v : {"4.3.1", "4.3.3", "4.4.0"}) {
    fs::create_directories(dir / v / "bin");
    std::ofstream(dir / v / "bin" / "R") << "#!/bin/sh\n";
    fs::permissions(dir / v / "bin" / "R", fs::perms::owner_all);
  }
  EXPECT_EQ(choose_r("", "/usr/bin/R", dir).r_path, "/usr/bin/R");
  EXPECT_EQ(choose_r("4.4.0", "/usr/bin/R", dir).r_path, dir / "4.4.0/bin/R");
  const RChoice minor = choose_r("4.3.2", "/usr/bin/R", dir);
  EXPECT_EQ(minor.r_path, dir / "4.3.3/bin/R");
  EXPECT_FALSE(minor.fallback);
  const RChoice none = choose_r("3.6.3", "/usr/bin/R", dir);
  EXPECT_TRUE(none.fallback);
  EXPECT_EQ(none.r_path, "/usr/bin/R");
  EXPECT_THAT(none.note, HasSubstr("WARNING: the app asks for R 3.6.3"));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace blockyard::restore
