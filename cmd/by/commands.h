// The `by` command tree. Each add_*_commands() registers subcommands on the
// root CLI11 app; parsing only records which handler to run (in
// CommandContext::action), and main() runs it once parsing has finished, so
// global flags such as --json are known wherever they appear on the line.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <string>
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
void add_admin_commands(CLI::App& root, CommandContext& ctx);   // install-seccomp, update, ...
void add_access_commands(CLI::App& root, CommandContext& ctx);  // access show|set-type|grant|revoke
void add_users_commands(CLI::App& root, CommandContext& ctx);   // users list|update

// Registers subcommand `name` of `parent` whose parse callback queues
// `run(*opts, json)`.
template <typename Options, typename Run>
CLI::App* add_queued(CLI::App& parent, CommandContext& ctx, const std::string& name,
                     const std::string& help, std::shared_ptr<Options> opts, Run run) {
  CLI::App* cmd = parent.add_subcommand(name, help);
  cmd->callback([opts, run, &ctx] { ctx.action = [opts, run, &ctx] { run(*opts, ctx.json); }; });
  return cmd;
}

// Profiles compiled into the binary (cmd/CMakeLists.txt, blockyard_embed_files).
std::string_view embedded_outer_seccomp_profile();
std::string_view embedded_apparmor_profile();

}  // namespace blockyard::cli
