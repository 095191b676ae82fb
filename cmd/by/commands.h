// The `by` command tree. Each add_*_commands() registers subcommands on the
// root CLI11 app; parsing only records which handler to run (in
// CommandContext::action), and main() runs it once parsing has finished, so
// global flags such as --json are known wherever they appear on the line.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string_view>

namespace blockyard::cli {

struct CommandContext {
  bool json = false;             // --json: machine-readable output on stdout
  std::function<void()> action;  // set by the chosen subcommand's parse callback
};

void add_login_command(CLI::App& root, CommandContext& ctx);
void add_init_command(CLI::App& root, CommandContext& ctx);
void add_deploy_command(CLI::App& root, CommandContext& ctx);
void add_app_commands(CLI::App& root, CommandContext& ctx);  // list, get, delete, enable, ...
void add_logs_command(CLI::App& root, CommandContext& ctx);
void add_admin_commands(CLI::App& root, CommandContext& ctx);  // install-seccomp, update, ...

// Profiles compiled into the binary (cmd/CMakeLists.txt, blockyard_embed_files).
std::string_view embedded_outer_seccomp_profile();
std::string_view embedded_apparmor_profile();

}  // namespace blockyard::cli
