#include "bundle/entrypoint.h"

#include <array>
#include <system_error>

namespace blockyard::bundle {
namespace {

// A symlink never counts: unpacked bundles cannot contain one, and the CLI
// does not pack them, so accepting one here would describe a different tree.
bool is_regular_file_here(const std::filesystem::path& dir, const char* name) {
  std::error_code ec;
  return std::filesystem::symlink_status(dir / name, ec).type() ==
         std::filesystem::file_type::regular;
}

}  // namespace

void check_entrypoint(const std::filesystem::path& dir) {
  if (is_regular_file_here(dir, "app.R")) return;
  if (is_regular_file_here(dir, "ui.R") && is_regular_file_here(dir, "server.R")) return;
  throw BundleError("missing entrypoint: app.R (or ui.R and server.R)");
}

std::string detect_dependency_metadata(const std::filesystem::path& dir) {
  static constexpr std::array<const char*, 3> kByPriority = {"manifest.json", "renv.lock",
                                                             "DESCRIPTION"};
  for (const char* name : kByPriority) {
    if (is_regular_file_here(dir, name)) return name;
  }
  return "";
}

}  // namespace blockyard::bundle
