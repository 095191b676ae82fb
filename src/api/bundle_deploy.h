// Deployment of an uploaded bundle: store and unpack it, check its
// entrypoint and read its dependencies synchronously (so a bad archive or a
// broken manifest.json / renv.lock / DESCRIPTION is reported to the uploader
// at once), then build and activate it in the background (deploy::Deployer)
// under a task whose log the client can follow.
//
// On-disk layout: deploy/bundle_files.h.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>

#include "api/api.h"
#include "store/models.h"

namespace blockyard::api {

struct DeployStarted {
  std::string bundle_id;
  std::string task_id;
};

// Moves (or, when the server did not spool it, writes) the upload into place,
// unpacks it, checks the entrypoint and resolves its dependencies. A
// rejected archive or dependency file (BundleError) is
// recorded as a failed bundle row carrying the reason, its files are
// removed, and ApiError 400 with that reason is thrown; the app's active
// bundle is untouched. Otherwise inserts a pending bundle, creates a task and
// hands the build to context.deployer. Other failures (I/O, database)
// remove the files and propagate.
//
// `spooled_body` is the file the server spooled the body to (empty if none);
// `body` is used when it is empty.
DeployStarted start_bundle_deploy(ApiContext& context, const store::App& app,
                                  const std::string& deployed_by,
                                  const std::filesystem::path& spooled_body,
                                  const std::string& body);

// Regular files below `dir`, recursively.
std::size_t count_files(const std::filesystem::path& dir);

}  // namespace blockyard::api
