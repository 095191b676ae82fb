// `by deploy DIR`: pack the app directory, create the app if needed, upload
// the bundle and optionally follow the server-side build.
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>

#include "bundle/archive.h"
#include "bundle/dependency_source.h"
#include "command_support.h"
#include "commands.h"
#include "core/unique_fd.h"
#include "lib/cli_error.h"
#include "lib/deploy_detect.h"
#include "lib/output.h"
#include "lib/text.h"
#include "terminal.h"

namespace blockyard::cli {
namespace fs = std::filesystem;

namespace {

struct DeployOptions {
  std::string dir;
  std::string name;
  std::string repositories;  // comma-separated Name=URL or URLs
  bool yes = false;
  bool wait = false;
};

// A uniquely named temporary file, removed when this object goes away.
class TempFile {
 public:
  explicit TempFile(const std::string& suffix) {
    std::string pattern = (fs::temp_directory_path() / "by-bundle-XXXXXX").string() + suffix;
    UniqueFd fd(::mkstemps(pattern.data(), static_cast<int>(suffix.size())));
    if (!fd.valid())
      throw CliError("cannot create a temporary file in " + fs::temp_directory_path().string());
    path_ = pattern;
  }
  ~TempFile() {
    std::error_code ec;
    fs::remove(path_, ec);
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// Keeps the tail of a streamed log so a failed build can quote its last line.
class LogTail {
 public:
  void append(std::string_view chunk) {
    tail_.append(chunk);
    if (tail_.size() > kKeep) tail_.erase(0, tail_.size() - kKeep);
  }
  std::string last_line() const { return last_nonblank_line(tail_); }

 private:
  static constexpr size_t kKeep = 8192;
  std::string tail_;
};

bool confirm_deploy(const DeployPlan& plan, const DeployOptions& opts, bool json) {
  const bool ask = plan.deps.source != bundle::DependencySource::manifest && !opts.yes && !json &&
                   stdin_is_tty();
  if (!json) print_out(detected_block(plan));
  if (!ask) return true;
  return accepts_default_yes(prompt_line("Deploy? [Y/n] "));
}

void pack(const DeployPlan& plan, const fs::path& archive) {
  try {
    blockyard::bundle::pack_directory(
        plan.dir, archive, [](const std::string& w) { print_warning(w); }, generated_files(plan));
  } catch (const std::exception& e) {
    throw CliError(std::string("pack bundle: ") + e.what());
  }
}

// The app a deploy goes to.
struct TargetApp {
  std::string id;
  bool created = false;  // by this deploy, which removes it again if the deploy fails
};

// The app called `name`, created when it does not exist yet. A former name
// of a renamed app (the server still resolves it for a while) is refused:
// deploying there would silently replace the renamed app's bundle.
TargetApp ensure_app(ApiClient& client, const std::string& name) {
  const HttpResponse found = client.get(app_path(name));
  if (found.status == 404) {
    const auto created = expect_json(
        client.send("POST", "/api/v1/apps", nlohmann::json{{"name", name}}), "create app");
    return {field_text(created, "id"), true};
  }
  if (!found.ok()) {
    expect_success(found, "unexpected status " + std::to_string(found.status) + " checking app");
  }
  const auto app = expect_json(found);
  const std::string current = field_text(app, "name");
  if (!current.empty() && current != name) {
    throw CliError("\"" + name + "\" is a former name of app \"" + current +
                   "\" (renamed); deploy to it with --name " + current +
                   ", or choose a new name once the old one is released");
  }
  return {field_text(app, "id"), false};
}

// Deletes the app a failed first deploy created, so no empty app is left
// behind; says so, or warns when that fails too.
void remove_created_app(ApiClient& client, const TargetApp& app, const std::string& name,
                        bool json) {
  if (!app.created) return;
  const HttpResponse removed = client.send("DELETE", app_path(app.id));
  if (!removed.ok()) {
    print_warning("could not remove app " + name + " created by this deploy: " +
                  api_error_message(removed.status, removed.body));
  } else if (!json) {
    std::fprintf(stderr, "Removed app %s, which this deploy created.\n", name.c_str());
  }
}

void run_deploy(const DeployOptions& opts, bool json) {
  ApiClient client = connect_from_config();  // fail early without credentials
  const DeployPlan plan =
      detect_app(opts.dir, opts.name.empty() ? std::nullopt : std::optional<std::string>(opts.name),
                 repositories_option(opts.repositories));
  if (!json) {
    for (const auto& warning : plan.warnings) print_warning(warning);
  }
  if (!confirm_deploy(plan, opts, json)) {
    print_out("Aborted.\n");
    return;
  }

  if (!json) print_out("Uploading bundle... ");
  const TempFile archive(".tar.gz");
  pack(plan, archive.path());
  const TargetApp app = ensure_app(client, plan.name);
  const std::string& app_id = app.id;
  if (app_id.empty()) throw CliError("server returned no id for app " + plan.name);
  nlohmann::json uploaded;
  try {
    uploaded = expect_json(
        client.upload_file(app_path(app_id, "/bundles"), archive.path(), "application/gzip"),
        "upload failed");
  } catch (const CliError&) {
    if (!json) print_out("failed.\n");
    remove_created_app(client, app, plan.name, json);
    throw;
  }
  const std::string bundle_id = field_text(uploaded, "bundle_id");
  const std::string task_id = field_text(uploaded, "task_id");
  const std::string url = client.server() + "/app/" + url_escape(plan.name) + "/";
  nlohmann::json result = {{"app", plan.name},
                           {"bundle_id", bundle_id},
                           {"task_id", task_id},
                           {"status", "building"},
                           {"url", url}};

  if (!json) {
    print_out("done.\n" + format_key_values({{"App", plan.name},
                                             {"Bundle", bundle_id + " (building)"},
                                             {"Task", task_id},
                                             {"URL", url}}));
  }
  if (!opts.wait) {
    if (json) print_json(result);
    return;
  }

  if (!json) print_out("Building...\n");
  LogTail tail;
  const HttpResponse streamed =
      client.stream("/api/v1/tasks/" + url_escape(task_id) + "/logs", [&](std::string_view chunk) {
        tail.append(chunk);
        if (!json) print_out(chunk);
      });
  expect_success(streamed, "stream logs");
  const auto task = expect_json(client.get("/api/v1/tasks/" + url_escape(task_id)), "task status");
  const std::string status = field_text(task, "status", "unknown");
  result["status"] = status;
  if (status == "failed") {
    remove_created_app(client, app, plan.name, json);
    const std::string last = tail.last_line();
    throw CliError(last.empty() ? "build failed" : "build failed: " + last, result);
  }
  if (status != "completed") {
    throw CliError("log stream ended but the build is still " + status + " (task " + task_id + ")",
                   result);
  }
  if (json) {
    print_json(result);
  } else {
    print_out("Deployed " + plan.name + " (bundle " + bundle_id + ").\n");
  }
}

}  // namespace

void add_deploy_command(CLI::App& root, CommandContext& ctx) {
  auto opts = std::make_shared<DeployOptions>();
  CLI::App* cmd = root.add_subcommand("deploy", "Upload an app directory as a new bundle");
  cmd->add_option("dir", opts->dir, "App directory (contains app.R)")->required();
  cmd->add_option("--name", opts->name, "App name (default: the directory's name)");
  cmd->add_option("--repositories", opts->repositories,
                  "Package repositories for an app without manifest.json: Name=URL or URL, "
                  "comma-separated (default: the server's)");
  cmd->add_flag("-y,--yes", opts->yes, "Do not ask for confirmation");
  cmd->add_flag("--wait", opts->wait, "Follow the build log until the bundle is active");
  cmd->callback([opts, &ctx] { ctx.action = [opts, &ctx] { run_deploy(*opts, ctx.json); }; });
}

}  // namespace blockyard::cli
