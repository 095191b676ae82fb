// manifest.json (version 1): what an app needs to run — R version,
// repositories, and either exact package records ("pinned", renv's field
// names) or DESCRIPTION dependency fields ("unpinned"). The CLI writes it
// (`by init`, `by deploy`) and the server reads it; both derive it the same
// way from whatever the app carries (dependency_source.h).
//
// Beyond the original: `bioconductor_version` (from renv.lock), and
// unpinned manifests for bare scripts (their scanned packages as Imports).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace blockyard::bundle {

struct Repository {
  std::string name;
  std::string url;
  bool operator==(const Repository&) const = default;
};

// One pinned package, renv lockfile fields (empty = absent).
struct PackageRecord {
  std::string package;     // Package
  std::string version;     // Version
  std::string source;      // Source: Repository | Bioconductor | GitHub | GitLab | Bitbucket | git
  std::string repository;  // Repository: a repository name ("CRAN") or URL
  std::string remote_type, remote_host, remote_username, remote_repo, remote_ref, remote_sha,
      remote_subdir, remote_url;
  bool operator==(const PackageRecord&) const = default;
};

struct Manifest {
  int version = 1;
  std::string r_version;             // "" = the server's R
  std::string bioconductor_version;  // "" = derived from the R version when needed
  std::string appmode = "shiny";
  std::string entrypoint = "app.R";
  std::vector<Repository> repositories;           // empty = the server's defaults
  std::map<std::string, PackageRecord> packages;  // pinned mode
  // Unpinned mode: DESCRIPTION fields Imports, Depends, LinkingTo, Remotes.
  std::map<std::string, std::string> description;
  std::map<std::string, std::string> files;  // relative path -> SHA-256 hex (informational)

  bool pinned() const { return !packages.empty(); }
  bool operator==(const Manifest&) const = default;
};

// Parses and validates manifest.json. Throws BundleError("invalid manifest:
// <reason>") on bad JSON, a wrong type, or a failed validate_manifest().
Manifest parse_manifest(std::string_view json);

// The rules of the format: version 1 ("unsupported manifest version N
// (server supports 1)"), not both packages and description, a non-empty
// entrypoint, each package with Package and Source, Repository and
// Bioconductor packages with a Version, GitHub/GitLab/Bitbucket with
// RemoteUsername, RemoteRepo and RemoteSha, git with RemoteUrl, no other
// Source; package names and versions well-formed; repositories with a
// name and an http(s) or file URL; description fields limited to the four
// dependency fields, each parseable. Throws BundleError("invalid manifest:
// ...").
void validate_manifest(const Manifest& manifest);

// Pretty-printed JSON (2-space indent, trailing newline); empty fields and
// the unused mode's map are left out. parse_manifest() reads it back equal.
std::string manifest_to_json(const Manifest& manifest);

// "Name=URL" (or a bare URL, named repo1, repo2, ... by position). Throws
// BundleError on an empty or non-http(s)/file URL.
Repository parse_repository(std::string_view text, std::size_t position);
// A comma-separated list of the above (`by deploy --repositories`); blank = none.
std::vector<Repository> parse_repository_list(std::string_view text);

}  // namespace blockyard::bundle
