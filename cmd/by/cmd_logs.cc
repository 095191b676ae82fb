// `by logs APP`: print (or follow) one worker's output, or with --bundle the
// build log of one of the app's bundles (kept after the server restarts).
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <thread>

#include "command_support.h"
#include "commands.h"
#include "lib/cli_error.h"
#include "lib/text.h"
#include "lib/worker_end.h"
#include "lib/worker_select.h"

namespace blockyard::cli {
namespace {

struct LogsOptions {
  std::string app;
  std::string worker;
  std::string bundle;
  bool follow = false;
};

void run_bundle_log(const LogsOptions& opts, bool json) {
  ApiClient client = connect_from_config();
  const std::string bundle = resolve_bundle_id(client, opts.app, opts.bundle);
  const HttpResponse response =
      client.get(app_path(opts.app, "/bundles/" + url_escape(bundle) + "/logs"));
  expect_success(response);
  if (json) return print_json({{"app", opts.app}, {"bundle", bundle}, {"logs", response.body}});
  print_out(response.body);
}

std::string choose_worker(ApiClient& client, const std::string& app) {
  const auto runtime = expect_json(client.get(app_path(app, "/runtime")));
  const auto choice = select_worker(runtime);
  if (!choice) throw CliError("no workers found for " + app + "; use --worker to specify");
  if (choice->active_workers > 1) {
    std::fprintf(stderr, "Streaming worker %s (%zu active workers, use --worker to select)\n",
                 short_id(choice->id).c_str(), choice->active_workers);
  }
  return choice->id;
}

// A followed stream ends when the worker does: say how, from the runtime.
// The server notices an exit within about a second of the log closing.
std::optional<WorkerEnd> why_stream_ended(ApiClient& client, const std::string& app,
                                          const std::string& worker) {
  constexpr int kAttempts = 10;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(500));
    const auto runtime = expect_json(client.get(app_path(app, "/runtime")));
    if (auto end = worker_end(runtime, worker)) return end;
  }
  return WorkerEnd{"the server closed the stream while worker " + short_id(worker) +
                       " still runs",
                   false};
}

void run_logs(const LogsOptions& opts, bool json) {
  if (!opts.bundle.empty()) return run_bundle_log(opts, json);
  ApiClient client = connect_from_config();
  const std::string worker = opts.worker.empty() ? choose_worker(client, opts.app) : opts.worker;
  const std::string path = app_path(
      opts.app, "/logs?worker_id=" + url_escape(worker) + (opts.follow ? "" : "&stream=false"));
  std::string collected;
  const HttpResponse response = client.stream(path, [&](std::string_view chunk) {
    if (json) {
      collected.append(chunk);
    } else {
      print_out(chunk);
    }
  });
  expect_success(response);
  std::optional<WorkerEnd> end;
  if (opts.follow) end = why_stream_ended(client, opts.app, worker);
  if (json) {
    nlohmann::json out{{"app", opts.app}, {"worker", worker}, {"logs", collected}};
    if (end) out["ended"] = end->message;
    print_json(out);
  } else if (end && !end->died) {
    std::fprintf(stderr, "Log ended: %s.\n", end->message.c_str());
  }
  if (end && end->died) throw CliError(end->message);
}

}  // namespace

void add_logs_command(CLI::App& root, CommandContext& ctx) {
  auto opts = std::make_shared<LogsOptions>();
  CLI::App* cmd =
      root.add_subcommand("logs", "Print a worker's log (newest active worker by default)");
  cmd->add_option("app", opts->app, "App name or ID")->required();
  cmd->add_option("-w,--worker", opts->worker, "Worker ID");
  cmd->add_flag("-f,--follow", opts->follow, "Keep streaming new output");
  cmd->add_option("-b,--bundle", opts->bundle,
                  "Print this bundle's build log instead (ID or unique prefix, as `by bundles` "
                  "shows it)");
  cmd->callback([opts, &ctx] { ctx.action = [opts, &ctx] { run_logs(*opts, ctx.json); }; });
}

}  // namespace blockyard::cli
