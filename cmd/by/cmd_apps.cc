// App management commands: list, get, delete, rename, restore, enable,
// disable, bundles, rollback, update, scale.
#include <cstdio>
#include <memory>
#include <optional>

#include "command_support.h"
#include "commands.h"
#include "core/app_name.h"
#include "lib/cli_error.h"
#include "lib/output.h"
#include "lib/text.h"
#include "terminal.h"

namespace blockyard::cli {
namespace {

using Json = nlohmann::json;
using KeyValues = std::vector<std::pair<std::string, std::string>>;

constexpr int kListPageSize = 100;
constexpr size_t kTitleWidth = 30;
constexpr size_t kErrorWidth = 60;

std::string yes_no(bool value) {
  return value ? "yes" : "no";
}

// ---- list -----------------------------------------------------------------

struct ListOptions {
  bool deleted = false;
};

std::vector<std::vector<std::string>> app_rows(const Json& apps) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& app : apps) {
    rows.push_back({field_text(app, "name"),
                    truncate_text(field_text(app, "title", "-"), kTitleWidth),
                    field_text(app, "owner", "-"), field_text(app, "status", "-"),
                    yes_no(field_bool(app, "enabled"))});
  }
  return rows;
}

// Every page of GET /apps (the server caps a page at 100).
Json fetch_all_apps(ApiClient& client) {
  Json apps = Json::array();
  long total = 0;
  for (int page = 1;; ++page) {
    const auto body = expect_json(client.get("/api/v1/apps?page=" + std::to_string(page) +
                                             "&per_page=" + std::to_string(kListPageSize)));
    const Json batch = array_field(body, "apps");
    total = body.value("total", 0L);
    for (const auto& app : batch) apps.push_back(app);
    if (batch.empty() || static_cast<long>(apps.size()) >= total) break;
  }
  return {{"apps", apps}, {"total", std::max(total, static_cast<long>(apps.size()))}};
}

void run_list(const ListOptions& opts, bool json) {
  ApiClient client = connect_from_config();
  if (opts.deleted) {
    const Json apps = array_field(expect_json(client.get("/api/v1/apps?deleted=true")), "apps");
    if (json) return print_json(apps);
    if (apps.empty()) return print_out("No deleted apps found.\n");
    return print_out(format_table({"NAME", "TITLE", "OWNER", "STATUS", "ENABLED"}, app_rows(apps)));
  }
  const Json all = fetch_all_apps(client);
  if (json) return print_json(all);
  if (all["apps"].empty()) return print_out("No apps found.\n");
  print_out(format_table({"NAME", "TITLE", "OWNER", "STATUS", "ENABLED"}, app_rows(all["apps"])));
}

// ---- get ------------------------------------------------------------------

struct GetOptions {
  std::string app;
  bool runtime = false;
};

std::string tags_text(const Json& app) {
  const Json tags = array_field(app, "tags");
  if (tags.empty()) return "(none)";
  std::string out = "[";
  for (const auto& tag : tags) {
    if (out.size() > 1) out += ' ';
    out += tag.is_string() ? tag.get<std::string>() : tag.dump();
  }
  return out + "]";
}

std::string percent_text(const Json& stats) {
  if (!stats.is_object() || !stats.contains("cpu_percent") || !stats["cpu_percent"].is_number())
    return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", stats["cpu_percent"].get<double>());
  return buf;
}

std::string memory_text(const Json& stats) {
  if (!stats.is_object() || !stats.contains("memory_usage_bytes")) return "-";
  const Json& bytes = stats["memory_usage_bytes"];
  if (!bytes.is_number() || bytes.get<double>() < 0) return "-";
  return format_bytes(bytes.get<uint64_t>());
}

// "failing (R exited with code 1 during start-up)".
std::string status_text(const Json& app) {
  const std::string reason = field_text(app, "status_reason");
  return field_text(app, "status", "-") + (reason.empty() ? "" : " (" + reason + ")");
}

std::string runtime_text(const Json& runtime) {
  std::string out =
      "\nRuntime:\n" +
      format_key_values({{"Active sessions", field_text(runtime, "active_sessions", "0")},
                         {"Total views", field_text(runtime, "total_views", "0")},
                         {"Recent views (7d)", field_text(runtime, "recent_views", "0")},
                         {"Unique visitors", field_text(runtime, "unique_visitors", "0")},
                         {"Last deployed", field_text(runtime, "last_deployed_at", "(never)")}});
  const Json workers = array_field(runtime, "workers");
  if (workers.empty()) return out + "\nNo workers.\n";
  std::vector<std::vector<std::string>> rows;
  for (const auto& worker : workers) {
    const Json stats = worker.value("stats", Json());
    // A live worker no Shiny WebSocket has reached yet is only lent to its
    // session (proxy.session_commit_grace).
    std::string status = field_text(worker, "status", "-");
    if (worker.contains("committed") && worker["committed"] == false) status += " (no client yet)";
    rows.push_back({short_id(field_text(worker, "id")), status, percent_text(stats),
                    memory_text(stats), std::to_string(array_field(worker, "sessions").size()),
                    field_text(worker, "end_reason")});
  }
  return out + "\n" +
         format_table({"WORKER", "STATUS", "CPU%", "MEMORY", "SESSIONS", "ENDED BECAUSE"}, rows);
}

void run_get(const GetOptions& opts, bool json) {
  ApiClient client = connect_from_config();
  Json app = expect_json(client.get(app_path(opts.app)));
  std::optional<Json> runtime;
  if (opts.runtime) {
    const HttpResponse response = client.get(app_path(opts.app, "/runtime"));
    if (response.ok()) {
      runtime = expect_json(response);
    } else {
      print_warning("runtime unavailable: " + api_error_message(response.status, response.body));
    }
  }
  if (json) {
    if (runtime) app["runtime"] = *runtime;
    return print_json(app);
  }
  const std::string cpu = app.contains("cpu_limit") && app["cpu_limit"].is_number()
                              ? [&] {
                                  char buf[32];
                                  std::snprintf(buf, sizeof buf, "%.1f", app["cpu_limit"].get<double>());
                                  return std::string(buf);
                                }()
                              : std::string("default");
  std::string out = field_text(app, "name") + "\n" +
                    format_key_values({{"ID", field_text(app, "id")},
                                       {"Owner", field_text(app, "owner", "-")},
                                       {"Status", status_text(app)},
                                       {"Enabled", yes_no(field_bool(app, "enabled"))},
                                       {"Access", field_text(app, "access_type", "-")},
                                       {"Title", field_text(app, "title", "(none)")},
                                       {"Description", field_text(app, "description", "(none)")},
                                       {"Bundle", field_text(app, "active_bundle", "(none)")},
                                       {"Memory", field_text(app, "memory_limit", "default")},
                                       {"CPU", cpu},
                                       {"Tags", tags_text(app)},
                                       {"Created", field_text(app, "created_at", "-")}});
  if (runtime) out += runtime_text(*runtime);
  print_out(out);
}

// ---- single-app actions ---------------------------------------------------

struct AppArg {
  std::string app;
  bool purge = false;
  bool yes = false;
};

void run_delete(const AppArg& opts, bool json) {
  ApiClient client = connect_from_config();
  const std::string question =
      opts.purge ? "Permanently remove app " + opts.app + " and its bundles?"
                 : "Delete app " + opts.app + ", stop its workers and remove its bundles?";
  if (!confirm_destructive(question, opts.yes)) return print_out("Aborted.\n");
  expect_success(client.send("DELETE", app_path(opts.app, opts.purge ? "?purge=true" : "")));
  if (json) return print_json({{"status", opts.purge ? "purged" : "deleted"}, {"app", opts.app}});
  print_out(opts.purge ? "Purged " + opts.app + " (permanently deleted).\n"
                       : "Deleted " + opts.app + ".\n");
}

// POST /apps/{app}/<verb>; prints `done_text` or the server's JSON.
void run_post_action(const std::string& app, const std::string& verb, const std::string& done_text,
                     bool json) {
  ApiClient client = connect_from_config();
  const Json body = expect_json(client.send("POST", app_path(app, "/" + verb)));
  if (json) return print_json(body);
  print_out(done_text + "\n");
}

void run_bundles(const AppArg& opts, bool json) {
  ApiClient client = connect_from_config();
  const Json body = expect_json(client.get(app_path(opts.app, "/bundles")));
  if (json) return print_json(body);
  const Json bundles = array_field(body, "bundles");
  if (bundles.empty()) return print_out("No bundles found.\n");
  const std::string active =
      field_text(expect_json(client.get(app_path(opts.app))), "active_bundle");
  std::vector<std::vector<std::string>> rows;
  for (const auto& b : bundles) {
    const std::string id = field_text(b, "id");
    std::string error = field_text(b, "error", "");
    error = truncate_text(error.substr(0, error.find('\n')), kErrorWidth);
    rows.push_back({short_id(id), id == active ? "*" : "", field_text(b, "status", "-"),
                    field_text(b, "uploaded_at", "-"), field_text(b, "deployed_by", "-"),
                    yes_no(field_bool(b, "pinned")), error.empty() ? "-" : error});
  }
  print_out(
      format_table({"ID", "ACTIVE", "STATUS", "UPLOADED", "DEPLOYED BY", "PINNED", "ERROR"}, rows));
}

struct RenameOptions {
  std::string app;
  std::string new_name;
};

void run_rename(const RenameOptions& opts, bool json) {
  if (auto error = app_name_error(opts.new_name)) {
    const auto suggestion = suggest_app_name(opts.new_name);
    throw CliError("invalid app name \"" + opts.new_name + "\": " + *error +
                   (suggestion ? "; try " + *suggestion : ""));
  }
  ApiClient client = connect_from_config();
  const Json body =
      expect_json(client.send("PATCH", app_path(opts.app), Json{{"name", opts.new_name}}));
  if (json) return print_json(body);
  print_out("Renamed " + opts.app + " to " + opts.new_name + ". /app/" + opts.app +
            "/ keeps working for 2 hours, then redirects to /app/" + opts.new_name +
            "/ for 7 days.\n");
}

struct RollbackOptions {
  std::string app;
  std::string bundle_id;
};

void run_rollback(const RollbackOptions& opts, bool json) {
  ApiClient client = connect_from_config();
  const std::string bundle = resolve_bundle_id(client, opts.app, opts.bundle_id);
  const Json body = expect_json(
      client.send("POST", app_path(opts.app, "/rollback"), Json{{"bundle_id", bundle}}));
  if (json) return print_json(body);
  print_out("Rolled back " + opts.app + " to bundle " + bundle + ".\n");
}

// ---- PATCH-based: update, scale -------------------------------------------

struct UpdateOptions {
  std::string app;
  std::optional<std::string> title, description, image, data_mounts;
};

void patch_app(const std::string& app, const Json& patch, const std::string& done_text, bool json) {
  ApiClient client = connect_from_config();
  const Json body = expect_json(client.send("PATCH", app_path(app), patch));
  if (json) return print_json(body);
  print_out(done_text + "\n");
}

void run_update(const UpdateOptions& opts, bool json) {
  Json patch = Json::object();
  if (opts.title) patch["title"] = *opts.title;
  if (opts.description) patch["description"] = *opts.description;
  if (opts.image) patch["image"] = *opts.image;
  if (opts.data_mounts) {
    patch["data_mounts"] = Json::parse(*opts.data_mounts, nullptr, false);
    if (patch["data_mounts"].is_discarded()) throw CliError("--data-mounts is not valid JSON");
  }
  if (patch.empty())
    throw CliError("no flags specified; use --title, --description, --image, or --data-mounts");
  patch_app(opts.app, patch, "Updated " + opts.app + ".", json);
}

struct ScaleOptions {
  std::string app;
  std::optional<std::string> memory, runtime;
  std::optional<double> cpu;
  std::optional<int> max_workers, max_sessions, pre_warm;
};

void run_scale(const ScaleOptions& opts, bool json) {
  Json patch = Json::object();
  if (opts.memory) patch["memory_limit"] = *opts.memory;
  if (opts.cpu) patch["cpu_limit"] = *opts.cpu;
  if (opts.max_workers) patch["max_workers_per_app"] = *opts.max_workers;
  if (opts.max_sessions) patch["max_sessions_per_worker"] = *opts.max_sessions;
  if (opts.pre_warm) patch["pre_warmed_sessions"] = *opts.pre_warm;
  if (opts.runtime) patch["runtime"] = *opts.runtime;
  if (patch.empty()) {
    throw CliError(
        "no flags specified; use --memory, --cpu, --max-workers, --max-sessions, --pre-warm, or "
        "--runtime");
  }
  patch_app(opts.app, patch, "Updated scaling for " + opts.app + ".", json);
}

}  // namespace

void add_app_commands(CLI::App& root, CommandContext& ctx) {
  {
    auto opts = std::make_shared<ListOptions>();
    CLI::App* cmd = add_queued(root, ctx, "list", "List apps", opts, run_list);
    cmd->alias("ls");
    cmd->add_flag("--deleted", opts->deleted, "List soft-deleted apps (admin)");
  }
  {
    auto opts = std::make_shared<GetOptions>();
    CLI::App* cmd = add_queued(root, ctx, "get", "Show an app", opts, run_get);
    cmd->add_option("app", opts->app, "App name or ID")->required();
    cmd->add_flag("--runtime", opts->runtime, "Include workers, sessions and view counts");
  }
  {
    auto opts = std::make_shared<AppArg>();
    CLI::App* cmd = add_queued(root, ctx, "delete", "Delete an app", opts, run_delete);
    cmd->alias("rm");
    cmd->add_option("app", opts->app, "App name or ID")->required();
    cmd->add_flag("--purge", opts->purge, "Permanently remove a soft-deleted app (admin)");
    cmd->add_flag("-y,--yes", opts->yes, "Do not ask for confirmation");
  }
  {
    auto opts = std::make_shared<RenameOptions>();
    CLI::App* cmd = add_queued(root, ctx, "rename", "Rename an app (its old URL keeps working)",
                               opts, run_rename);
    cmd->add_option("app", opts->app, "App name or ID")->required();
    cmd->add_option("new-name", opts->new_name, "New name")->required();
  }
  {
    auto opts = std::make_shared<AppArg>();
    CLI::App* cmd = add_queued(root, ctx, "restore", "Restore a soft-deleted app", opts,
                               [](const AppArg& o, bool json) {
                                 run_post_action(o.app, "restore", "Restored " + o.app + ".", json);
                               });
    cmd->add_option("app", opts->app, "App name or ID")->required();
  }
  {
    auto opts = std::make_shared<AppArg>();
    CLI::App* cmd =
        add_queued(root, ctx, "enable", "Enable an app", opts, [](const AppArg& o, bool json) {
          run_post_action(o.app, "enable", "Enabled " + o.app + ".", json);
        });
    cmd->add_option("app", opts->app, "App name or ID")->required();
  }
  {
    auto opts = std::make_shared<AppArg>();
    CLI::App* cmd = add_queued(root, ctx, "disable", "Disable an app (drains its workers)", opts,
                               [](const AppArg& o, bool json) {
                                 run_post_action(o.app, "disable", "Disabled " + o.app + ".", json);
                               });
    cmd->add_option("app", opts->app, "App name or ID")->required();
  }
  {
    auto opts = std::make_shared<AppArg>();
    CLI::App* cmd = add_queued(root, ctx, "bundles", "List an app's bundles", opts, run_bundles);
    cmd->add_option("app", opts->app, "App name or ID")->required();
  }
  {
    auto opts = std::make_shared<RollbackOptions>();
    CLI::App* cmd =
        add_queued(root, ctx, "rollback", "Activate an earlier ready bundle", opts, run_rollback);
    cmd->add_option("app", opts->app, "App name or ID")->required();
    cmd->add_option("bundle-id", opts->bundle_id, "Bundle ID (or a unique prefix)")->required();
  }
  {
    auto opts = std::make_shared<UpdateOptions>();
    CLI::App* cmd =
        add_queued(root, ctx, "update", "Change an app's title, description, image or mounts", opts,
                   run_update);
    cmd->add_option("app", opts->app, "App name or ID")->required();
    cmd->add_option("--title", opts->title, "Title");
    cmd->add_option("--description", opts->description, "Description");
    cmd->add_option("--image", opts->image, "Worker image");
    cmd->add_option("--data-mounts", opts->data_mounts, "Data mounts as a JSON array");
  }
  {
    auto opts = std::make_shared<ScaleOptions>();
    CLI::App* cmd = add_queued(root, ctx, "scale", "Change an app's resource and scaling limits",
                               opts, run_scale);
    cmd->add_option("app", opts->app, "App name or ID")->required();
    cmd->add_option("--memory", opts->memory, "Memory limit, e.g. 512m, 1g (\"\" clears)");
    cmd->add_option("--cpu", opts->cpu, "CPU limit in cores");
    cmd->add_option("--max-workers", opts->max_workers, "Maximum workers for the app");
    cmd->add_option("--max-sessions", opts->max_sessions, "Maximum sessions per worker");
    cmd->add_option("--pre-warm", opts->pre_warm, "Pre-warmed sessions (0-10)");
    cmd->add_option("--runtime", opts->runtime, "OCI runtime (admin)");
  }
}

}  // namespace blockyard::cli
