// `by login`: get a personal access token for a server and save it with the
// server URL in the config file.
//
// Without --token, through the browser (auth/cli_login.h on the server):
// `by` opens <server>/login/cli, the user signs in with the identity provider
// and approves, and the browser is redirected to a one-time listener of
// `by` on 127.0.0.1 with a code that `by` exchanges (with its PKCE verifier)
// for a new token. With --token, the given token is checked and saved.
#include <fcntl.h>
#include <spawn.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>

#include "command_support.h"
#include "commands.h"
#include "core/html.h"
#include "lib/browser_login.h"
#include "lib/cli_error.h"
#include "lib/config_file.h"
#include "lib/text.h"
#include "loopback_listener.h"
#include "terminal.h"

extern char** environ;

namespace blockyard::cli {
namespace {

constexpr auto kBrowserTimeout = std::chrono::minutes(5);

struct LoginOptions {
  std::string server;
  std::string token;
  bool no_browser = false;
};

std::string trimmed(std::string s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return {};
  return s.substr(first, s.find_last_not_of(" \t\r\n") - first + 1);
}

std::string obtain_server(const LoginOptions& opts) {
  std::string server = opts.server;
  if (server.empty() && stdin_is_tty()) server = prompt_line("Server URL: ");
  server = normalize_server_url(trimmed(server));
  if (server.empty()) throw CliError("server URL is required (use --server)");
  if (!has_http_scheme(server)) {
    throw CliError("invalid server URL \"" + server + "\": must start with http:// or https://");
  }
  return server;
}

// GET /api/v1/users/me with `creds`: the display name of the token's user.
std::string verify_token(const Credentials& creds) {
  ApiClient client(creds);
  const HttpResponse response = client.get("/api/v1/users/me");
  if (response.status == 401 || response.status == 403) {
    expect_success(response, "authentication failed");
  }
  const nlohmann::json me = expect_json(response, "verify token");
  return field_text(me, "name", field_text(me, "sub"));
}

void finish(const Credentials& creds, const std::string& user, bool json) {
  save_config_file(config_path(process_env()), creds);
  if (json) {
    print_json({{"server", creds.server}, {"user", user}});
  } else {
    print_out("Logged in to " + url_host(creds.server) + " as " + user + ".\n");
  }
}

void login_with_token(const std::string& server, std::string token, bool json) {
  if (token == "-") token = prompt_line("");  // `--token -` reads stdin (keeps it out of `ps`)
  token = trimmed(token);
  if (token.empty()) throw CliError("token is required (use --token, or --token - to read stdin)");
  Credentials creds{server, token};
  finish(creds, verify_token(creds), json);
}

// Starts $BROWSER, or xdg-open on a desktop, without waiting for it.
void open_in_browser(const std::string& url) {
  std::string program;
  if (const char* browser = std::getenv("BROWSER"); browser && *browser) {
    program = browser;
  } else if (std::getenv("DISPLAY") || std::getenv("WAYLAND_DISPLAY")) {
    program = "xdg-open";
  } else {
    return;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  for (int fd : {0, 1, 2}) posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", O_RDWR, 0);
  std::string arg0 = program;
  std::string arg1 = url;
  char* argv[] = {arg0.data(), arg1.data(), nullptr};
  pid_t pid = 0;
  posix_spawnp(&pid, program.c_str(), &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
}

std::string page(const std::string& title, const std::string& message) {
  return "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>by login</title>"
         "</head><body style=\"font-family:system-ui,sans-serif;margin:15vh auto;max-width:30rem\">"
         "<h1>" +
         html_escape(title) + "</h1><p>" + html_escape(message) + "</p></body></html>\n";
}

std::string local_host_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0 || !*name) return "this computer";
  return name;
}

void login_with_browser(const std::string& server, bool open_browser, bool json) {
  // The sign-in page answers 400 to a request without parameters, 404 when
  // the server has no identity provider.
  ApiClient anonymous(Credentials{server, ""});
  const HttpResponse probe = anonymous.get("/login/cli");
  if (probe.status == 404) {
    if (stdin_is_tty()) {
      return login_with_token(
          server,
          prompt_secret("This server has no browser sign-in. Paste a personal access token (on "
                        "a server without [oidc], the local admin token in its admin token "
                        "file, by default data/admin-token): "),
          json);
    }
    throw CliError(
        "this server has no browser sign-in ([oidc] is not configured); use --token "
        "with a personal access token (a server without [oidc] writes the local "
        "admin's token to its admin token file, by default data/admin-token)");
  }
  if (probe.status != 400) {
    throw CliError("unexpected answer from " + server + "/login/cli: HTTP " +
                   std::to_string(probe.status));
  }

  LoopbackListener listener;
  const BrowserLoginRequest request = new_browser_login();
  const std::string url =
      browser_login_url(server, listener.port(), request, "by on " + local_host_name());
  std::fputs(("To sign in, open this address in a browser on this computer:\n\n  " + url +
              "\n\nWaiting for the browser...\n")
                 .c_str(),
             stderr);
  if (open_browser) open_in_browser(url);

  Credentials creds{server, ""};
  std::string user;
  std::string failure;
  auto params = listener.wait_for_callback(
      std::chrono::duration_cast<std::chrono::seconds>(kBrowserTimeout),
      [&](const LoopbackListener::Params& p) {
        auto get = [&](const char* key) {
          auto it = p.find(key);
          return it == p.end() ? std::string() : it->second;
        };
        if (get("state") != request.state) {
          failure = "the browser's answer does not belong to this sign-in; run by login again";
        } else if (!get("error").empty()) {
          failure = "sign-in was cancelled in the browser";
        } else {
          try {
            const nlohmann::json created = expect_json(
                anonymous.send("POST", "/api/v1/cli-login/token",
                               nlohmann::json{{"code", get("code")},
                                              {"code_verifier", request.code_verifier}}),
                "sign-in failed");
            creds.token = field_text(created, "token");
            user = verify_token(creds);
          } catch (const CliError& e) {
            failure = e.what();
          }
        }
        if (!failure.empty()) return page("Sign-in failed", failure);
        return page("Signed in", "by is signed in to " + url_host(server) + " as " + user +
                                     ". You can close this tab.");
      });
  if (!params) throw CliError("timed out after 5 minutes waiting for the browser sign-in");
  if (!failure.empty()) throw CliError(failure);
  finish(creds, user, json);
}

void run_login(const LoginOptions& opts, bool json) {
  const std::string server = obtain_server(opts);
  if (!opts.token.empty()) return login_with_token(server, opts.token, json);
  login_with_browser(server, !opts.no_browser, json);
}

}  // namespace

void add_login_command(CLI::App& root, CommandContext& ctx) {
  auto opts = std::make_shared<LoginOptions>();
  CLI::App* cmd = root.add_subcommand(
      "login", "Sign in to a server (through the browser, or with --token) and save the token");
  cmd->add_option("--server", opts->server, "Server URL, e.g. http://localhost:8080");
  cmd->add_option("--token", opts->token,
                  "Use this personal access token instead of the browser ('-' reads stdin)");
  cmd->add_flag("--no-browser", opts->no_browser,
                "Only print the sign-in address; do not start a browser");
  cmd->callback([opts, &ctx] { ctx.action = [opts, &ctx] { run_login(*opts, ctx.json); }; });
}

}  // namespace blockyard::cli
