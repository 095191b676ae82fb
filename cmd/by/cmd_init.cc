// `by init DIR`: writes the app's manifest.json — what `by deploy` would
// upload and the server would restore — so the dependency list can be
// reviewed, edited and committed.
#include <fstream>
#include <memory>

#include "bundle/bundle_error.h"
#include "bundle/dependency_source.h"
#include "command_support.h"
#include "commands.h"
#include "lib/cli_error.h"
#include "lib/deploy_detect.h"

namespace blockyard::cli {
namespace fs = std::filesystem;

namespace {

struct InitOptions {
  std::string dir;
  std::string repositories;
};

void run_init(const InitOptions& opts, bool json) {
  const DeployPlan plan =
      detect_app(opts.dir, std::nullopt, repositories_option(opts.repositories));
  const fs::path manifest = plan.dir / "manifest.json";
  const std::string mode = plan.deps.manifest.pinned() ? "pinned" : "unpinned";
  nlohmann::json packages = bundle::requested_packages(plan.deps.manifest);
  if (plan.deps.source == bundle::DependencySource::manifest) {
    if (json) {
      return print_json({{"status", "exists"},
                         {"manifest", manifest.string()},
                         {"mode", mode},
                         {"packages", packages}});
    }
    return print_out("manifest.json already exists (" + mode + " mode). Validated OK.\n");
  }
  if (!json) {
    for (const auto& warning : plan.warnings) print_warning(warning);
    print_out(detected_block(plan));
  }
  std::ofstream out(manifest, std::ios::binary | std::ios::trunc);
  out << bundle::manifest_to_json(plan.deps.manifest);
  out.close();
  if (!out) throw CliError("cannot write " + manifest.string());
  if (json) {
    return print_json({{"status", "created"},
                       {"manifest", manifest.string()},
                       {"mode", mode},
                       {"packages", packages}});
  }
  print_out("Wrote manifest.json\n");
}

}  // namespace

void add_init_command(CLI::App& root, CommandContext& ctx) {
  auto opts = std::make_shared<InitOptions>();
  CLI::App* cmd = root.add_subcommand(
      "init", "Write manifest.json from the app's renv.lock, DESCRIPTION or R scripts");
  cmd->add_option("dir", opts->dir, "App directory")->required();
  cmd->add_option("--repositories", opts->repositories,
                  "Package repositories: Name=URL or URL, comma-separated (default: the "
                  "server's)");
  cmd->callback([opts, &ctx] { ctx.action = [opts, &ctx] { run_init(*opts, ctx.json); }; });
}

}  // namespace blockyard::cli
