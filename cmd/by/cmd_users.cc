// `by users`: user administration (admins). list | update.
#include <memory>
#include <optional>

#include "command_support.h"
#include "commands.h"
#include "lib/cli_error.h"
#include "lib/output.h"
#include "lib/text.h"

namespace blockyard::cli {
namespace {

using Json = nlohmann::json;

struct ListOptions {};

struct UpdateOptions {
  std::string sub;
  std::optional<std::string> role;
  std::optional<std::string> active;
};

void run_list(const ListOptions&, bool json) {
  ApiClient client = connect_from_config();
  const Json users = expect_json(client.get("/api/v1/users"));
  if (json) return print_json(users);
  if (users.empty()) return print_out("No users found.\n");
  std::vector<std::vector<std::string>> rows;
  for (const auto& u : users) {
    rows.push_back({field_text(u, "sub"), field_text(u, "name", "-"), field_text(u, "email", "-"),
                    field_text(u, "role", "-"), field_bool(u, "active") ? "yes" : "no"});
  }
  print_out(format_table({"SUB", "NAME", "EMAIL", "ROLE", "ACTIVE"}, rows));
}

bool parse_active(const std::string& text) {
  if (text == "true" || text == "yes" || text == "1") return true;
  if (text == "false" || text == "no" || text == "0") return false;
  throw CliError("invalid --active \"" + text + "\": use true or false");
}

void run_update(const UpdateOptions& opts, bool json) {
  Json patch = Json::object();
  if (opts.role) patch["role"] = *opts.role;
  if (opts.active) patch["active"] = parse_active(*opts.active);
  if (patch.empty()) throw CliError("no flags specified; use --role or --active");
  ApiClient client = connect_from_config();
  const Json user =
      expect_json(client.send("PATCH", "/api/v1/users/" + url_escape(opts.sub), patch));
  if (json) return print_json(user);
  print_out("Updated user " + opts.sub + ".\n");
}

}  // namespace

void add_users_commands(CLI::App& root, CommandContext& ctx) {
  CLI::App* users = root.add_subcommand("users", "List and update users (admins)");
  users->require_subcommand(1);
  add_queued(*users, ctx, "list", "List users", std::make_shared<ListOptions>(), run_list);
  auto opts = std::make_shared<UpdateOptions>();
  CLI::App* cmd = add_queued(*users, ctx, "update", "Change a user's role or deactivate them", opts,
                             run_update);
  cmd->add_option("sub", opts->sub, "The user's sub")->required();
  cmd->add_option("--role", opts->role, "admin | publisher | viewer");
  cmd->add_option("--active", opts->active, "true to reactivate, false to deactivate");
}

}  // namespace blockyard::cli
