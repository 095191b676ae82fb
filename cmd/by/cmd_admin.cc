// `by admin ...`: server administration.
//
//   install-seccomp   writes the outer-container seccomp profile embedded in
//                     this binary (no server, no network)
//   install-apparmor  writes the embedded AppArmor profile and checks it with
//                     apparmor_parser when one is installed
//   update            asks the server for a rolling update and follows it
//   rollback          asks the server to roll back the last update
//
// The embedded profile bytes come from profiles/ at build time (see
// cmd/CMakeLists.txt), so the files written are exactly the repository's.
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "command_support.h"
#include "commands.h"
#include "core/unique_fd.h"
#include "lib/cli_error.h"
#include "lib/output.h"
#include "lib/text.h"
#include "terminal.h"

extern char** environ;

namespace blockyard::cli {

namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

constexpr const char* kDefaultSeccompTarget = "/etc/blockyard/seccomp.json";
constexpr const char* kDefaultAppArmorTarget = "/etc/apparmor.d/blockyard";

std::string errno_text() {
  return std::strerror(errno);
}

// Writes `bytes` to `target` with mode 0644, creating missing parent
// directories (0755). The file is written beside the target and renamed over
// it, so a reader (or Docker starting a container) never sees half a profile.
void write_file_replacing(const fs::path& target, std::string_view bytes) {
  const fs::path parent = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::error_code ec;
  fs::create_directories(parent, ec);
  if (ec) throw CliError("create directory " + parent.string() + ": " + ec.message());

  std::string temp = (parent / ("." + target.filename().string() + ".XXXXXX")).string();
  UniqueFd fd(::mkstemp(temp.data()));
  if (!fd.valid()) throw CliError("create a file in " + parent.string() + ": " + errno_text());
  bool renamed = false;
  struct RemoveUnlessRenamed {
    const std::string& path;
    const bool& renamed;
    ~RemoveUnlessRenamed() {
      if (!renamed) ::unlink(path.c_str());
    }
  } cleanup{temp, renamed};

  if (::fchmod(fd.get(), 0644) != 0) throw CliError("chmod " + temp + ": " + errno_text());
  for (size_t done = 0; done < bytes.size();) {
    const ssize_t n = ::write(fd.get(), bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw CliError("write " + target.string() + ": " + errno_text());
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd.get()) != 0 || fd.close() != 0) {
    throw CliError("write " + target.string() + ": " + errno_text());
  }
  if (::rename(temp.c_str(), target.c_str()) != 0) {
    throw CliError("write " + target.string() + ": " + errno_text());
  }
  renamed = true;
}

// The first executable `name` on PATH or in the sbin directories, where
// apparmor_parser lives but which a non-root PATH often lacks.
std::optional<fs::path> find_program(const std::string& name) {
  std::vector<std::string> dirs;
  if (const char* path = std::getenv("PATH")) {
    std::string_view rest(path);
    while (!rest.empty()) {
      const size_t colon = rest.find(':');
      dirs.emplace_back(rest.substr(0, colon));
      rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
    }
  }
  for (const char* dir : {"/usr/sbin", "/sbin"}) dirs.emplace_back(dir);
  for (const auto& dir : dirs) {
    if (dir.empty()) continue;
    const fs::path candidate = fs::path(dir) / name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return std::nullopt;
}

struct ProgramResult {
  int exit_code = -1;  // -1 when killed by a signal
  std::string output;  // stdout and stderr interleaved
};

// Owns a posix_spawn_file_actions_t.
struct SpawnFileActions {
  posix_spawn_file_actions_t value;
  SpawnFileActions() { posix_spawn_file_actions_init(&value); }
  ~SpawnFileActions() { posix_spawn_file_actions_destroy(&value); }
  SpawnFileActions(const SpawnFileActions&) = delete;
  SpawnFileActions& operator=(const SpawnFileActions&) = delete;
};

// Runs `argv` (argv[0] is the program path) and collects its output.
ProgramResult run_program(const std::vector<std::string>& argv) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) throw CliError("pipe: " + errno_text());
  UniqueFd read_end(pipe_fds[0]);
  UniqueFd write_end(pipe_fds[1]);

  SpawnFileActions actions;
  posix_spawn_file_actions_addopen(&actions.value, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions.value, write_end.get(), STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions.value, write_end.get(), STDERR_FILENO);

  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, args[0], &actions.value, nullptr, args.data(), environ);
  if (rc != 0) throw CliError("run " + argv[0] + ": " + std::strerror(rc));
  write_end.reset();

  ProgramResult result;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(read_end.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    result.output.append(buf, static_cast<size_t>(n));
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  return result;
}

// ---- install-seccomp / install-apparmor -------------------------------------

struct InstallOptions {
  std::string target;
};

void run_install_seccomp(const InstallOptions& opts, bool json) {
  write_file_replacing(opts.target, embedded_outer_seccomp_profile());
  if (json) return print_json({{"status", "written"}, {"path", opts.target}});
  print_out("Wrote seccomp profile to " + opts.target + "\n" +
            "Apply with: docker run --security-opt seccomp=" + opts.target + " ...\n");
}

void run_install_apparmor(const InstallOptions& opts, bool json) {
  write_file_replacing(opts.target, embedded_apparmor_profile());
  Json result = {{"status", "written"}, {"path", opts.target}, {"checked", false}};
  std::string warning;
  if (const auto parser = find_program("apparmor_parser")) {
    // -QT: parse and check only; nothing is loaded into the kernel.
    const ProgramResult check = run_program({parser->string(), "-QT", opts.target});
    result["checked"] = true;
    result["check_ok"] = check.exit_code == 0;
    if (check.exit_code != 0) {
      result["check_output"] = check.output;
      // Older parsers (AppArmor < 4) do not know the `userns` rule; such
      // hosts do not restrict user namespaces, so the profile is not needed
      // there. Say so instead of failing the install.
      warning = "apparmor_parser could not parse " + opts.target + ":\n" + check.output +
                "If this host's AppArmor predates user-namespace mediation, the profile is not "
                "needed. Otherwise, as a host-wide fallback: sudo sysctl -w "
                "kernel.apparmor_restrict_unprivileged_userns=0";
    }
  }
  if (json) return print_json(result);
  print_out("Wrote AppArmor profile to " + opts.target + "\n");
  if (!warning.empty()) return print_warning(warning);
  print_out("Load with: sudo apparmor_parser -r " + opts.target + "\n");
}

// ---- update / rollback ------------------------------------------------------

struct UpdateOptions {
  std::string channel;
  bool yes = false;
};

// Throws CliError with the server's message; the status and the server's
// error code ride along for --json consumers.
[[noreturn]] void fail_with_response(const HttpResponse& response, const std::string& context) {
  Json details = {{"status", response.status}};
  const Json body = Json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_object() && body.contains("error")) details["server_error"] = body["error"];
  throw CliError(context + ": " + api_error_message(response.status, response.body), details);
}

// Follows the task the server started: streams its log, then reads its
// final status; throws CliError unless it completed.
Json follow_task(ApiClient& client, const std::string& task_id, bool json) {
  const HttpResponse streamed =
      client.stream("/api/v1/tasks/" + url_escape(task_id) + "/logs", [&](std::string_view chunk) {
        if (!json) print_out(chunk);
      });
  expect_success(streamed, "stream task log");
  Json task = expect_json(client.get("/api/v1/tasks/" + url_escape(task_id)), "task status");
  const std::string status = field_text(task, "status", "unknown");
  if (status != "completed") {
    throw CliError("task " + task_id + " ended " + status,
                   {{"task_id", task_id}, {"status", status}});
  }
  return task;
}

// POSTs /api/v1/admin/<verb> and reports the outcome: a 202 task is
// followed to its end; any other 2xx prints the server's message.
void post_admin_action(ApiClient& client, const std::string& verb, const std::optional<Json>& body,
                       bool json) {
  const HttpResponse response = client.send("POST", "/api/v1/admin/" + verb, body);
  if (!response.ok()) fail_with_response(response, verb);
  const Json reply = Json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  const std::string task_id = reply.is_object() ? field_text(reply, "task_id") : "";
  if (task_id.empty()) {
    if (json) return print_json(reply.is_discarded() ? Json::object() : reply);
    const std::string message = reply.is_object() ? field_text(reply, "message") : "";
    return print_out((message.empty() ? verb + " accepted." : message) + "\n");
  }
  const Json task = follow_task(client, task_id, json);
  if (json) return print_json({{"task_id", task_id}, {"status", field_text(task, "status")}});
  print_out(verb == "update" ? "Update finished.\n" : "Rollback finished.\n");
}

// Reads /admin/update/status. Refuses when an update is already running or
// when the server says updates are unavailable (e.g. PID 1 in a container),
// before asking the operator anything.
void check_update_state(ApiClient& client) {
  const HttpResponse response = client.get("/api/v1/admin/update/status");
  if (response.status == 401 || response.status == 403) fail_with_response(response, "update");
  if (!response.ok()) return;  // an older server: the POST gives the answer
  const Json state = Json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (!state.is_object()) return;
  if (state.contains("available") && state["available"].is_boolean() &&
      !state["available"].get<bool>()) {
    throw CliError("update: " + field_text(state, "message", "rolling updates are unavailable"),
                   {{"status", 501}, {"server_error", "not_implemented"}});
  }
  const std::string current = field_text(state, "state", "idle");
  if (current != "idle") throw CliError("update already in progress (state: " + current + ")");
}

bool confirmed(const std::string& question, bool yes, bool json) {
  if (yes || json) return true;
  if (!stdin_is_tty()) throw CliError(question + " needs confirmation; pass --yes");
  const std::string answer = prompt_line(question + " [y/N] ");
  return answer == "y" || answer == "Y" || answer == "yes" || answer == "YES";
}

void run_update(const UpdateOptions& opts, bool json) {
  ApiClient client = connect_from_config();
  check_update_state(client);
  if (!confirmed("Update the server at " + client.server() + "?", opts.yes, json)) {
    return print_out("Aborted.\n");
  }
  std::optional<Json> body;
  if (!opts.channel.empty()) body = Json{{"channel", opts.channel}};
  post_admin_action(client, "update", body, json);
}

void run_rollback(const UpdateOptions& opts, bool json) {
  ApiClient client = connect_from_config();
  if (!confirmed("Roll back the server at " + client.server() + "?", opts.yes, json)) {
    return print_out("Aborted.\n");
  }
  post_admin_action(client, "rollback", std::nullopt, json);
}

}  // namespace

void add_admin_commands(CLI::App& root, CommandContext& ctx) {
  CLI::App* admin = root.add_subcommand("admin", "Server administration");
  admin->require_subcommand(1);
  {
    auto opts = std::make_shared<InstallOptions>();
    opts->target = kDefaultSeccompTarget;
    CLI::App* cmd = add_queued(*admin, ctx, "install-seccomp",
                               "Write the container seccomp profile (for docker --security-opt)",
                               opts, run_install_seccomp);
    cmd->add_option("--target", opts->target, "Where to write it")->capture_default_str();
  }
  {
    auto opts = std::make_shared<InstallOptions>();
    opts->target = kDefaultAppArmorTarget;
    CLI::App* cmd = add_queued(*admin, ctx, "install-apparmor",
                               "Write the AppArmor profile that lets bwrap create user namespaces",
                               opts, run_install_apparmor);
    cmd->add_option("--target", opts->target, "Where to write it")->capture_default_str();
  }
  {
    auto opts = std::make_shared<UpdateOptions>();
    CLI::App* cmd =
        add_queued(*admin, ctx, "update", "Rolling update of the server", opts, run_update);
    cmd->add_option("--channel", opts->channel, "Release channel: stable or main")
        ->check(CLI::IsMember({"stable", "main"}));
    cmd->add_flag("-y,--yes", opts->yes, "Do not ask for confirmation");
  }
  {
    auto opts = std::make_shared<UpdateOptions>();
    CLI::App* cmd = add_queued(*admin, ctx, "rollback", "Roll the server back after an update",
                               opts, run_rollback);
    cmd->add_flag("-y,--yes", opts->yes, "Do not ask for confirmation");
  }
}

}  // namespace blockyard::cli
