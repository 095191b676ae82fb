// Which R builds and runs a bundle. An app may ask for an R version
// (manifest.json r_version, renv.lock R.Version); the server then uses an R
// installed side by side in rig's layout, {versions_dir}/{version}/bin/R
// (rig installs to /opt/R/<version>), and otherwise its own R with a
// warning in the build log.
#pragma once

#include <filesystem>
#include <string>

namespace blockyard::restore {

struct RChoice {
  std::filesystem::path r_path;  // the R executable (Rscript beside it)
  std::string note;              // for the build log: which R and why; may be empty
  bool fallback = false;         // the requested version is not installed
};

// `requested` "" = the server's R. Otherwise the exact version's directory,
// else the newest installed patch release of the same major.minor, else the
// server's R (fallback, with a warning note).
RChoice choose_r(const std::string& requested, const std::filesystem::path& server_r,
                 const std::filesystem::path& versions_dir);

}  // namespace blockyard::restore
