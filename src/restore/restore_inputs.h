// What the resolve step is given: the app's requirements and the
// repositories to search, as DCF files its R script reads.
//
// Repositories, in order of precedence: the server's override list (an
// airgapped mirror or internal package manager replaces every repository
// an app names), else the app's own (manifest.json / renv.lock / `by deploy
// --repositories`), else the server's defaults. Bioconductor repositories are
// added when the app asks for a Bioconductor package or names a
// Bioconductor version.
#pragma once

#include <string>
#include <vector>

#include "bundle/manifest.h"

namespace blockyard::restore {

struct RepositorySettings {
  std::vector<bundle::Repository> defaults;   // [packages] repositories
  std::vector<bundle::Repository> overrides;  // [packages] override_repositories
  std::string bioconductor_url;               // [packages] bioconductor_url
};

struct ResolvedRepository {
  bundle::Repository repository;
  std::string kind;  // "cran" or "bioc"
  std::string id;    // repository_source_id(url)
};

// Throws bundle::BundleError when the app needs Bioconductor but neither it
// nor `r_version` says which release.
std::vector<ResolvedRepository> effective_repositories(const bundle::Manifest& manifest,
                                                       const RepositorySettings& settings,
                                                       const std::string& r_version);

// The Bioconductor release for an R version ("4.2.2" -> "3.16"); "" when
// unknown.
std::string bioconductor_release_for(const std::string& r_version);

// requirements.dcf: one record per requested package. Pinned: Package,
// Version, Source (Repository | Bioconductor | git), Repository; GitHub,
// GitLab and Bitbucket records become git sources (GitUrl, GitSha,
// GitSubdir). Unpinned: Package and Constraint from Depends, Imports and
// LinkingTo, with Remotes ("user/repo", "github::", "gitlab::",
// "bitbucket::", "git::URL", optional "pkg=" prefix and "@ref") turning
// the matching package into a git source. Throws bundle::BundleError on a
// remote it cannot use.
std::string requirements_dcf(const bundle::Manifest& manifest);

// repositories.dcf: Name, URL, Kind and Id per repository, in search order.
std::string repositories_dcf(const std::vector<ResolvedRepository>& repositories);

// The clone URL of a GitHub/GitLab/Bitbucket record.
std::string git_url_for(const bundle::PackageRecord& record);

}  // namespace blockyard::restore
