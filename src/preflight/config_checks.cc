// Checks that read only the configuration (category "config"; static: run
// once at start-up).
#include <arpa/inet.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include "preflight/checks.h"
#include "preflight/registry.h"
#include "preflight/service_targets.h"
#include "preflight/tcp_probe.h"

namespace blockyard::preflight {

namespace {

const std::string kConfig = "config";

std::string bind_host(const std::string& bind) {
  if (auto hp = parse_host_port(bind)) return hp->host;
  auto colon = bind.rfind(':');
  return colon == std::string::npos ? bind : bind.substr(0, colon);  // ":8080" -> ""
}

bool is_wildcard(const std::string& host) {
  return host.empty() || host == "0.0.0.0" || host == "::" || host == "*";
}

bool is_loopback(const std::string& host) {
  if (host == "localhost" || host == "::1") return true;
  in_addr v4{};
  return ::inet_pton(AF_INET, host.c_str(), &v4) == 1 && (ntohl(v4.s_addr) >> 24) == 127;
}

}  // namespace

CheckResult check_no_oidc(const CheckContext& context) {
  const std::string name = "no_oidc";
  if (context.config.oidc) return result(name, kOk, "OIDC sign-in configured", kConfig);
  return result(name, kInfo,
                "no [oidc] identity provider: the API accepts only personal access tokens (the "
                "local admin's is in " +
                    context.config.server.admin_token_file +
                    ") and every app is served to anyone who reaches the server. Configure "
                    "[oidc] to have users sign in and apps served by their access type.",
                kConfig);
}

CheckResult check_wildcard_bind_no_oidc(const CheckContext& context) {
  const std::string name = "wildcard_bind_no_oidc";
  const std::string& bind = context.config.server.bind;
  if (context.config.oidc || !is_wildcard(bind_host(bind))) {
    return result(name, kOk, "listening on " + bind, kConfig);
  }
  return result(name, kWarning,
                "listening on all interfaces (" + bind +
                    ") without [oidc]: every app is served "
                    "to anyone who can reach this port. Configure [oidc] sign-in, or bind to "
                    "127.0.0.1 behind a reverse proxy that authenticates.",
                kConfig);
}

CheckResult check_external_url_not_https(const CheckContext& context) {
  const std::string name = "external_url_not_https";
  const std::string& url = context.config.server.external_url;
  if (url.empty()) return result(name, kOk, "no external_url set", kConfig);
  auto parts = parse_url(url);
  if (parts && parts->scheme == "https") return result(name, kOk, "external_url is https", kConfig);
  if (parts && is_loopback(parts->host)) {
    return result(name, kOk, "external_url is a loopback address", kConfig);
  }
  return result(name, kWarning,
                "external_url \"" + url +
                    "\" is not https: tokens and session cookies would "
                    "cross the network in clear text. Terminate TLS in front of blockyard and set "
                    "[server] external_url to the https:// address.",
                kConfig);
}

CheckResult check_vault_http(const CheckContext& context) {
  const std::string name = "vault_http";
  if (!context.config.vault || context.config.vault->address.empty()) {
    return result(name, kOk, "Vault not configured", kConfig);
  }
  auto parts = parse_url(context.config.vault->address);
  if (parts && parts->scheme == "http" && !is_loopback(parts->host)) {
    return result(name, kWarning,
                  "[vault] address \"" + context.config.vault->address +
                      "\" uses plain http to a remote host: Vault tokens and secrets would cross "
                      "the network unencrypted. Use https.",
                  kConfig);
  }
  return result(name, kOk, "Vault address uses TLS or loopback", kConfig);
}

CheckResult check_vault_secret_id_file(const CheckContext& context) {
  const std::string name = "vault_secret_id_file";
  if (!context.config.vault || context.config.vault->secret_id_file.empty()) {
    return result(name, kOk, "no Vault secret_id_file configured", kConfig);
  }
  const std::string& path = context.config.vault->secret_id_file;
  struct stat st {};
  std::string where = "[vault] secret_id_file \"" + path + "\"";
  if (::stat(path.c_str(), &st) != 0) {
    return result(name, kError, where + ": " + std::strerror(errno), kConfig);
  }
  if (!S_ISREG(st.st_mode)) return result(name, kError, where + " is not a regular file", kConfig);
  if ((st.st_mode & 077) != 0 || st.st_uid != ::geteuid()) {
    return result(name, kError,
                  where + " must be owned by blockyard's user (uid " + std::to_string(::geteuid()) +
                      ") with no group or other permissions, because workers run as sibling "
                      "users: chown it and chmod 600",
                  kConfig);
  }
  return result(name, kOk, where + " is private", kConfig);
}

CheckResult check_management_bind_public(const CheckContext& context) {
  const std::string name = "management_bind_public";
  const std::string& bind = context.config.server.management_bind;
  if (bind.empty()) return result(name, kOk, "no separate management listener", kConfig);
  std::string host = bind_host(bind);
  if (is_loopback(host)) return result(name, kOk, "management listener on loopback", kConfig);
  return result(name, kWarning,
                "management_bind \"" + bind +
                    "\" is not a loopback address: /metrics and health "
                    "details become visible to the network. Bind it to 127.0.0.1 or firewall it.",
                kConfig);
}

CheckResult check_no_audit_log(const CheckContext& context) {
  const std::string name = "no_audit_log";
  if (context.config.audit && !context.config.audit->path.empty()) {
    return result(name, kOk, "audit log at " + context.config.audit->path, kConfig);
  }
  return result(name, kInfo,
                "no audit log: set [audit] path to record who deployed, changed or deleted "
                "what",
                kConfig);
}

CheckResult check_trusted_proxies_too_broad(const CheckContext& context) {
  const std::string name = "trusted_proxies_too_broad";
  std::string broad;
  for (const auto& cidr : context.config.server.trusted_proxies) {
    auto slash = cidr.find('/');
    if (slash == std::string::npos) continue;
    int prefix = 0;
    auto text = std::string_view(cidr).substr(slash + 1);
    std::from_chars(text.data(), text.data() + text.size(), prefix);
    bool v6 = cidr.find(':') != std::string::npos;
    if (prefix < (v6 ? 32 : 8)) broad += (broad.empty() ? "" : ", ") + cidr;
  }
  if (broad.empty()) return result(name, kOk, "trusted_proxies are specific", kConfig);
  return result(name, kWarning,
                "[server] trusted_proxies contains very broad ranges (" + broad +
                    "): any client in them can spoof X-Forwarded-For and evade rate limits. "
                    "List only your reverse proxies' addresses.",
                kConfig);
}

}  // namespace blockyard::preflight
