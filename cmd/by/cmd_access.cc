// `by access`: who may use an app. show | set-type | grant | revoke
// (grants to users, or with --group to an identity-provider group).
#include <memory>

#include "command_support.h"
#include "commands.h"
#include "lib/cli_error.h"
#include "lib/output.h"
#include "lib/text.h"

namespace blockyard::cli {
namespace {

using Json = nlohmann::json;

struct AppOnly {
  std::string app;
};

struct SetTypeOptions {
  std::string app;
  std::string type;
};

struct GrantOptions {
  std::string app;
  std::string principal;
  std::string role = "viewer";
  bool group = false;
};

void run_show(const AppOnly& opts, bool json) {
  ApiClient client = connect_from_config();
  const Json app = expect_json(client.get(app_path(opts.app)));
  const Json acl = expect_json(client.get(app_path(opts.app, "/access")));
  if (json) return print_json({{"access_type", app.value("access_type", "")}, {"acl", acl}});
  std::string out = "Access type: " + field_text(app, "access_type", "-") + "\n\n";
  if (acl.empty()) return print_out(out + "No ACL entries.\n");
  std::vector<std::vector<std::string>> rows;
  for (const auto& g : acl) {
    std::string principal = field_text(g, "principal");
    std::string name = field_text(g, "name");
    if (!name.empty() && name != principal) principal += " (" + name + ")";
    rows.push_back({principal, field_text(g, "kind"), field_text(g, "role"),
                    field_text(g, "granted_by", "-")});
  }
  print_out(out + format_table({"PRINCIPAL", "KIND", "ROLE", "GRANTED BY"}, rows));
}

void run_set_type(const SetTypeOptions& opts, bool json) {
  if (opts.type != "acl" && opts.type != "logged_in" && opts.type != "public") {
    throw CliError("invalid access type \"" + opts.type + "\": must be acl, logged_in or public");
  }
  ApiClient client = connect_from_config();
  const Json app =
      expect_json(client.send("PATCH", app_path(opts.app), Json{{"access_type", opts.type}}));
  if (json) return print_json(app);
  print_out("Set access type for " + opts.app + " to " + opts.type + ".\n");
}

void run_grant(const GrantOptions& opts, bool json) {
  if (opts.role != "viewer" && opts.role != "collaborator") {
    throw CliError("invalid role \"" + opts.role + "\": must be viewer or collaborator");
  }
  const std::string kind = opts.group ? "group" : "user";
  ApiClient client = connect_from_config();
  expect_success(
      client.send("POST", app_path(opts.app, "/access"),
                  Json{{"principal", opts.principal}, {"kind", kind}, {"role", opts.role}}));
  if (json) {
    return print_json({{"status", "granted"},
                       {"principal", opts.principal},
                       {"kind", kind},
                       {"role", opts.role}});
  }
  print_out("Granted " + std::string(opts.group ? "group " : "") + opts.principal + " access to " +
            opts.app + " as " + opts.role + ".\n");
}

void run_revoke(const GrantOptions& opts, bool json) {
  const std::string kind = opts.group ? "group" : "user";
  ApiClient client = connect_from_config();
  expect_success(client.send(
      "DELETE", app_path(opts.app, "/access/" + kind + "/" + url_escape(opts.principal))));
  if (json)
    return print_json({{"status", "revoked"}, {"principal", opts.principal}, {"kind", kind}});
  print_out("Revoked access for " + std::string(opts.group ? "group " : "") + opts.principal +
            " on " + opts.app + ".\n");
}

}  // namespace

void add_access_commands(CLI::App& root, CommandContext& ctx) {
  CLI::App* access = root.add_subcommand("access", "Show and change who may use an app");
  access->require_subcommand(1);
  {
    auto opts = std::make_shared<AppOnly>();
    CLI::App* cmd =
        add_queued(*access, ctx, "show", "Show the access type and grants", opts, run_show);
    cmd->add_option("app", opts->app, "App name or ID")->required();
  }
  {
    auto opts = std::make_shared<SetTypeOptions>();
    CLI::App* cmd =
        add_queued(*access, ctx, "set-type", "Set who may use the app: acl, logged_in or public",
                   opts, run_set_type);
    cmd->add_option("app", opts->app, "App name or ID")->required();
    cmd->add_option("type", opts->type, "acl | logged_in | public")->required();
  }
  {
    auto opts = std::make_shared<GrantOptions>();
    CLI::App* cmd =
        add_queued(*access, ctx, "grant", "Grant a user (or --group) access", opts, run_grant);
    cmd->add_option("app", opts->app, "App name or ID")->required();
    cmd->add_option("principal", opts->principal, "User (their sub), or group name with --group")
        ->required();
    cmd->add_option("--role", opts->role, "viewer (default) or collaborator");
    cmd->add_flag("--group", opts->group, "PRINCIPAL is an identity-provider group");
  }
  {
    auto opts = std::make_shared<GrantOptions>();
    CLI::App* cmd = add_queued(*access, ctx, "revoke", "Revoke a user's (or --group's) access",
                               opts, run_revoke);
    cmd->add_option("app", opts->app, "App name or ID")->required();
    cmd->add_option("principal", opts->principal, "User (their sub), or group name with --group")
        ->required();
    cmd->add_flag("--group", opts->group, "PRINCIPAL is an identity-provider group");
  }
}

}  // namespace blockyard::cli
