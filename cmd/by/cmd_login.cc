// `by login`: verify a server URL + token with GET /api/v1/users/me and save
// them to the config file.
#include <memory>

#include "command_support.h"
#include "commands.h"
#include "lib/cli_error.h"
#include "lib/config_file.h"
#include "lib/text.h"
#include "terminal.h"

namespace blockyard::cli {
namespace {

struct LoginOptions {
  std::string server;
  std::string token;
};

constexpr const char* kTokenPrompt =
    "Paste your token (a personal access token; on a fresh server without OIDC, the\n"
    "local admin token in the server's admin token file, by default data/admin-token): ";

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

std::string obtain_token(const LoginOptions& opts) {
  std::string token = opts.token;
  if (token == "-") {
    token = prompt_line("");  // `--token -` reads it from stdin (keeps it out of `ps`)
  } else if (token.empty() && stdin_is_tty()) {
    token = prompt_secret(kTokenPrompt);
  }
  token = trimmed(token);
  if (token.empty()) throw CliError("token is required (use --token, or --token - to read stdin)");
  return token;
}

void run_login(const LoginOptions& opts, bool json) {
  Credentials creds;
  creds.server = obtain_server(opts);
  creds.token = obtain_token(opts);

  ApiClient client(creds);
  const HttpResponse response = client.get("/api/v1/users/me");
  if (response.status == 401 || response.status == 403) {
    expect_success(response, "authentication failed");
  }
  const nlohmann::json me = expect_json(response, "verify token");
  const std::string user = field_text(me, "name", field_text(me, "sub"));

  save_config_file(config_path(process_env()), creds);
  if (json) {
    print_json({{"server", creds.server}, {"user", user}});
  } else {
    print_out("Logged in to " + url_host(creds.server) + " as " + user + ".\n");
  }
}

}  // namespace

void add_login_command(CLI::App& root, CommandContext& ctx) {
  auto opts = std::make_shared<LoginOptions>();
  CLI::App* cmd = root.add_subcommand("login", "Verify and save the server URL and API token");
  cmd->add_option("--server", opts->server, "Server URL, e.g. http://localhost:8080");
  cmd->add_option("--token", opts->token, "API token ('-' reads it from stdin)");
  cmd->callback([opts, &ctx] { ctx.action = [opts, &ctx] { run_login(*opts, ctx.json); }; });
}

}  // namespace blockyard::cli
