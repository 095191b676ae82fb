// Sign-in suites' set-up: a real OpenID provider (idp.mjs) and a blockyard
// server configured against it, with the initial admin's API token from the
// bootstrap exchange, and helpers to sign users in and read the audit log.

import fsp from 'node:fs/promises';
import path from 'node:path';

import { freePort, makeTempDir, startServer } from './harness.mjs';
import { CookieJar, signInOverHttp, startIdp } from './idp.mjs';

export const CLIENT_ID = 'blockyard-test';
export const CLIENT_SECRET = 'test-client-secret-0123456789';
export const SESSION_SECRET = 'test-session-secret-0123456789-abcdefghij';
export const BOOTSTRAP_TOKEN = 'bootstrap-secret-for-tests-0123456789';

// The users every sign-in suite knows. `admin` is oidc.initial_admin.
export const USERS = {
  admin: { password: 'admin-pw', name: 'Ada Admin', email: 'ada@example.org', groups: ['admins'] },
  alice: { password: 'alice-pw', name: 'Alice Publisher', email: 'alice@example.org', groups: ['analysts'] },
  bob: { password: 'bob-pw', name: 'Bob Viewer', email: 'bob@example.org', groups: ['marketing'] },
  carol: { password: 'carol-pw', name: 'Carol Analyst', email: 'carol@example.org', groups: ['analysts'] },
  dave: { password: 'dave-pw', name: 'Dave Outsider', email: 'dave@example.org', groups: [] },
};

function merge(base, overrides) {
  const out = structuredClone(base);
  for (const [section, keys] of Object.entries(overrides ?? {})) {
    out[section] = keys === null ? null : { ...(out[section] ?? {}), ...keys };
  }
  return out;
}

// Starts the provider and a server signing in through it. `config` overrides
// sections of the server config; `idp` options go to startIdp;
// `splitDiscovery` makes the server reach the provider at
// http://127.0.0.1:<port> (issuer_discovery_url) whatever its issuer name.
// Resolves {server, idp, url, auditPath, restart, stop}; server.token is the
// initial admin's API token (from the bootstrap exchange).
export async function startSignInServer({ config = {}, idp: idpOptions = {}, users = USERS, bootstrap = true, splitDiscovery = false } = {}) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const idp = await startIdp({
    users,
    client: {
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      redirect_uris: [`${url}/callback`],
      post_logout_redirect_uris: [`${url}/signed-out`],
      ...(idpOptions.client ?? {}),
    },
    accessTokenTtl: idpOptions.accessTokenTtl,
    issuerHost: idpOptions.issuerHost,
  });
  const auditDir = await makeTempDir('audit');
  const auditPath = path.join(auditDir, 'audit.jsonl');
  let server;
  let serverOptions;
  try {
    serverOptions = {
      port,
      waitForToken: false,
      config: merge(
        {
          server: { external_url: url, session_secret: SESSION_SECRET, bootstrap_token: BOOTSTRAP_TOKEN },
          oidc: {
            issuer_url: idp.issuer,
            issuer_discovery_url: splitDiscovery ? `http://127.0.0.1:${idp.port}` : undefined,
            client_id: CLIENT_ID,
            client_secret: CLIENT_SECRET,
            initial_admin: 'admin',
            groups_claim: 'groups',
            extra_scopes: ['groups'],
          },
          audit: { path: auditPath },
          proxy: { auth_rate_limit_per_minute: 100000 },
        },
        config,
      ),
    };
    server = await startServer(serverOptions);
  } catch (err) {
    await idp.stop();
    throw err;
  }
  if (bootstrap) {
    const r = await server.api('POST', '/api/v1/bootstrap', { token: BOOTSTRAP_TOKEN, body: { name: 'suite' } });
    if (r.status !== 201) throw new Error(`bootstrap exchange: ${r.status} ${r.body}${server.logTail()}`);
    server.token = r.json.token;
  }
  const env = {
    server,
    idp,
    url,
    auditPath,
    // Stops the server (SIGTERM) and starts it again on the same port, data
    // and config; the suite's admin token stays valid.
    async restart() {
      const token = env.server.token;
      await env.server.stop();
      env.server = await startServer({ ...serverOptions, dataDir: env.server.dataDir });
      env.server.token = token;
    },
    async stop() {
      await env.server.cleanup();
      await idp.stop();
    },
  };
  return env;
}

// Signs `user` in over plain HTTP, starting at `startPath` on the server;
// resolves {jar, cookie ("blockyard_session=..."), location, last}.
export async function signIn(env, user, { startPath = '/login?return_url=%2F', password, hostMap } = {}) {
  const result = await signInOverHttp(`${env.url}${startPath}`, {
    username: user,
    password: password ?? USERS[user]?.password,
    hostMap,
    stopAt: (next) => next.startsWith(env.url) && !next.startsWith(`${env.url}/callback`) && !next.startsWith(`${env.url}/login`),
  });
  const session = result.jar.get(env.url, 'blockyard_session');
  return { ...result, cookie: session ? `blockyard_session=${session}` : undefined };
}

// Every audit line so far, parsed.
export async function auditLines(env) {
  let text = '';
  try {
    text = await fsp.readFile(env.auditPath, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

export { CookieJar };
