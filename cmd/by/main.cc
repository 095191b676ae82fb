// `by`: command-line client for a blockyard server.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

#include "api_client.h"
#include "commands.h"
#include "lib/cli_error.h"
#include "lib/output.h"

namespace {

using blockyard::cli::CliError;

// Whether --json was asked for, read from argv directly because a parse error
// happens before CLI11 has stored the flag.
bool json_requested(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--") == 0) return false;
    if (std::strcmp(argv[i], "--json") == 0) return true;
  }
  return false;
}

int report_error(const std::string& message, const nlohmann::json& details, bool json) {
  if (json) {
    const std::string text = blockyard::cli::render_error_json(message, details);
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
  } else {
    std::fputs(blockyard::cli::render_error_human(message).c_str(), stderr);
  }
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  blockyard::cli::CommandContext ctx;
  CLI::App app{"by: deploy and manage Shiny apps on a blockyard server", "by"};
  app.fallthrough();  // subcommands inherit it: `by list --json` reaches the root flag
  app.require_subcommand(0, 1);
  app.set_version_flag("--version", "by version " BLOCKYARD_VERSION);
  app.add_flag("--json", ctx.json, "Print machine-readable JSON");
  blockyard::cli::add_login_command(app, ctx);
  blockyard::cli::add_init_command(app, ctx);
  blockyard::cli::add_deploy_command(app, ctx);
  blockyard::cli::add_app_commands(app, ctx);
  blockyard::cli::add_logs_command(app, ctx);
  blockyard::cli::add_admin_commands(app, ctx);
  blockyard::cli::add_access_commands(app, ctx);
  blockyard::cli::add_users_commands(app, ctx);

  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);  // --help, --version
  } catch (const CLI::ParseError& e) {
    return report_error(e.what(), nlohmann::json::object(), json_requested(argc, argv));
  }
  if (!ctx.action) {
    std::fputs(app.help().c_str(), stdout);
    return 0;
  }

  try {
    blockyard::cli::CurlGlobal curl;
    ctx.action();
  } catch (const CliError& e) {
    return report_error(e.what(), e.details(), ctx.json);
  } catch (const std::exception& e) {
    return report_error(std::string("unexpected failure: ") + e.what(), nlohmann::json::object(),
                        ctx.json);
  }
  return 0;
}
