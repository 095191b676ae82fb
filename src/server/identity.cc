#include "server/identity.h"

#include <spdlog/spdlog.h>

#include "auth/signed_token.h"
#include "core/crypto.h"

namespace blockyard::server {

namespace {

constexpr auto kIdpTimeout = std::chrono::seconds(10);

std::string trimmed_url(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

void discover_provider(const Config& config, Identity& id) {
  const OidcConfig& oc = *config.oidc;
  const std::string external = trimmed_url(config.server.external_url);
  auth::OidcSettings settings;
  settings.issuer_url = oc.issuer_url;
  settings.discovery_url = oc.issuer_discovery_url;
  settings.client_id = oc.client_id;
  settings.client_secret = oc.client_secret;
  settings.redirect_uri = external + "/callback";
  for (const auto& scope : oc.extra_scopes) settings.scopes.push_back(scope);

  id.oidc = std::make_unique<auth::OidcClient>(settings, auth::make_curl_fetcher(kIdpTimeout));
  try {
    id.oidc->discover();
  } catch (const auth::OidcError& e) {
    throw std::runtime_error("oidc: cannot use the identity provider " + oc.issuer_url + ": " +
                             e.what());
  }
  spdlog::info("oidc: signing in through {} (client {}, redirect {})", id.oidc->metadata().issuer,
               oc.client_id, settings.redirect_uri);
}

void make_sign_in(const Config& config, store::Store& store, Identity& id,
                  std::function<void(std::function<void()>)> run_async) {
  const OidcConfig& oc = *config.oidc;
  const std::string external = trimmed_url(config.server.external_url);
  const bool secure = external.starts_with("https://");
  const std::string cookie_key =
      auth::derive_key(config.server.session_secret, auth::kCookieKeyLabel);
  auth::BrowserSessionOptions session_options;
  session_options.cookie_key = cookie_key;
  session_options.max_age = std::chrono::duration_cast<std::chrono::seconds>(oc.cookie_max_age);
  session_options.secure_cookies = secure;
  id.sessions = std::make_unique<auth::BrowserSessions>(session_options, store, id.oidc.get(),
                                                        std::move(run_async));
  int swept = id.sessions->sweep_expired();
  if (swept > 0) spdlog::info("removed {} expired browser session(s)", swept);

  auth::SignInOptions sign_in_options;
  sign_in_options.cookie_key = cookie_key;
  sign_in_options.secure_cookies = secure;
  sign_in_options.default_role = oc.default_role;
  sign_in_options.initial_admin = oc.initial_admin;
  sign_in_options.groups_claim = oc.groups_claim;
  sign_in_options.external_url = external;
  id.sign_in =
      std::make_unique<auth::SignIn>(sign_in_options, *id.oidc, *id.sessions, store, *id.audit);
  id.cli_login = std::make_unique<auth::CliLogin>(
      auth::derive_key(config.server.session_secret, "blockyard-cli-login"));
}

}  // namespace

Identity open_identity(const Config& config) {
  Identity id;
  if (config.audit) {
    try {
      id.audit = std::make_unique<telemetry::AuditLog>(config.audit->path);
    } catch (const std::system_error& e) {
      throw std::runtime_error(std::string("audit.path: ") + e.what());
    }
    spdlog::info("audit log: {}", config.audit->path);
  } else {
    id.audit = std::make_unique<telemetry::AuditLog>();
  }
  if (config.oidc) discover_provider(config, id);
  return id;
}

void finish_identity(Identity& id, const Config& config, store::Store& store,
                     std::function<void(std::function<void()>)> run_async) {
  if (config.oidc) make_sign_in(config, store, id, std::move(run_async));
  if (!config.server.bootstrap_token.empty()) {
    std::string hash = sha256_hex(config.server.bootstrap_token);
    bool redeemed = store.find_pat_by_hash(hash).has_value();
    id.bootstrap = std::make_unique<api::Bootstrap>(hash, config.oidc->initial_admin, redeemed);
    spdlog::info("bootstrap token {}", redeemed ? "already redeemed" : "armed");
  }
}

}  // namespace blockyard::server
