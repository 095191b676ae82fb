// A real OpenID provider for the sign-in suites: npm `oidc-provider` (a
// certified implementation) on a loopback port, with a confidential client
// for blockyard, users with sub/name/email/groups, and plain HTML login
// pages that a browser or signInOverHttp() fills in. Nothing about the
// protocol is simulated: discovery, the authorization code flow with PKCE,
// signed ID tokens (RS256 by default, ES256 on request), userinfo, refresh
// tokens and RP-initiated logout are oidc-provider's own.
//
// Test-only conveniences: consent is granted without a page, and the
// sign-out confirmation submits itself.

import crypto from 'node:crypto';
import http from 'node:http';
import { Provider } from 'oidc-provider';

import { freePort, request } from './harness.mjs';

const escapeHtml = (s) =>
  String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function loginPage(uid, clientId, error) {
  return `<!DOCTYPE html><html><head><meta charset="utf-8"><title>Test IdP sign-in</title></head>
<body><h1>Sign in to continue to ${escapeHtml(clientId)}</h1>
${error ? `<p id="error">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/interaction/${escapeHtml(uid)}/login">
<label>Username <input name="login" id="login" autofocus></label>
<label>Password <input name="password" id="password" type="password"></label>
<button type="submit" id="sign-in">Sign in</button></form></body></html>`;
}

// Starts the provider. `users`: {sub: {password, name, email, groups}}.
// `client`: {client_id, client_secret, redirect_uris, post_logout_redirect_uris,
// id_token_signed_response_alg}. `accessTokenTtl` (seconds) makes refreshes
// come quickly. `issuerHost` names the provider by another host than the
// 127.0.0.1 it listens on (a public name the server cannot resolve, for
// split discovery). Resolves {issuer, port, users, stop(), requests: [paths]}.
export async function startIdp({ client, users = {}, accessTokenTtl = 3600, port, issuerHost = '127.0.0.1' } = {}) {
  port = port ?? (await freePort());
  const issuer = `http://${issuerHost}:${port}`;
  const rsa = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  const ec = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
  const accounts = new Map(Object.entries(users));

  const provider = new Provider(issuer, {
    clients: [
      {
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
        ...client,
      },
    ],
    jwks: { keys: [{ ...rsa, kid: 'rs-1', use: 'sig', alg: 'RS256' }, { ...ec, kid: 'es-1', use: 'sig', alg: 'ES256' }] },
    cookies: { keys: [crypto.randomBytes(16).toString('hex')] },
    claims: { openid: ['sub'], profile: ['name'], email: ['email', 'email_verified'], groups: ['groups'] },
    scopes: ['openid', 'offline_access', 'profile', 'email', 'groups'],
    findAccount: async (_ctx, sub) => {
      const user = accounts.get(sub);
      if (!user) return undefined;
      return {
        accountId: sub,
        claims: async () => ({ sub, name: user.name, email: user.email, email_verified: true, groups: user.groups ?? [] }),
      };
    },
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx, form) => {
          ctx.body = `<!DOCTYPE html><html><body>${form}<input type="hidden" form="op.logoutForm" name="logout" value="yes">
<script>document.getElementById('op.logoutForm').submit()</script></body></html>`;
        },
        postLogoutSuccessSource: async (ctx) => {
          ctx.body = '<!DOCTYPE html><html><body><p id="idp-signed-out">Signed out of the test IdP.</p></body></html>';
        },
      },
    },
    // Like most providers (and unlike oidc-provider's default, which wants
    // prompt=consent with offline_access), issue refresh tokens to clients
    // allowed to use them.
    issueRefreshToken: async (_ctx, c) => c.grantTypeAllowed('refresh_token'),
    ttl: {
      AccessToken: accessTokenTtl,
      IdToken: 3600,
      RefreshToken: 24 * 3600,
      Interaction: 600,
      Session: 24 * 3600,
      Grant: 24 * 3600,
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  });
  provider.on('server_error', (_ctx, err) => console.error('[idp] server_error', err));

  const requests = [];
  const callback = provider.callback();
  const server = http.createServer(async (req, res) => {
    requests.push(`${req.method} ${req.url.split('?')[0]}`);
    const m = /^\/interaction\/([^/?]+)(\/login)?/.exec(req.url);
    if (!m) return callback(req, res);
    try {
      const details = await provider.interactionDetails(req, res);
      if (details.prompt.name === 'login') {
        if (req.method === 'POST' && m[2]) {
          const form = new URLSearchParams(await readBody(req));
          const sub = form.get('login');
          const user = accounts.get(sub);
          if (!user || user.password !== form.get('password')) {
            res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
            return res.end(loginPage(details.uid, details.params.client_id, 'Invalid username or password'));
          }
          return await provider.interactionFinished(req, res, { login: { accountId: sub } }, { mergeWithLastSubmission: false });
        }
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        return res.end(loginPage(details.uid, details.params.client_id));
      }
      // Consent: granted for whatever was asked.
      const grant = details.grantId
        ? await provider.Grant.find(details.grantId)
        : new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
      const missing = details.prompt.details;
      if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
      if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
      const grantId = await grant.save();
      return await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    } catch (err) {
      res.writeHead(400, { 'content-type': 'text/plain' });
      res.end(`interaction failed: ${err.message}`);
    }
  });
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    issuer,
    port,
    users: accounts,
    requests,
    // Removes a user: their refresh tokens stop working (oidc-provider
    // refuses a refresh for an account it cannot find).
    removeUser(sub) {
      accounts.delete(sub);
    },
    stop() {
      return new Promise((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      });
    },
  };
}

// ---------------------------------------------------------------- scripted browser

// A cookie jar per host:port, enough for the sign-in round trips.
export class CookieJar {
  constructor() {
    this.jars = new Map();
  }
  header(url) {
    const jar = this.jars.get(new URL(url).host);
    if (!jar) return undefined;
    return [...jar.entries()].map(([k, v]) => `${k}=${v}`).join('; ') || undefined;
  }
  store(url, setCookies) {
    const host = new URL(url).host;
    const jar = this.jars.get(host) ?? new Map();
    for (const line of setCookies ?? []) {
      const [pair, ...attrs] = line.split(';').map((s) => s.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      const maxAge = attrs.find((a) => a.toLowerCase().startsWith('max-age='));
      if (value === '' || (maxAge && Number(maxAge.split('=')[1]) <= 0)) jar.delete(name);
      else jar.set(name, value);
    }
    this.jars.set(host, jar);
  }
  get(url, name) {
    return this.jars.get(new URL(url).host)?.get(name);
  }
  set(url, name, value) {
    const host = new URL(url).host;
    const jar = this.jars.get(host) ?? new Map();
    jar.set(name, value);
    this.jars.set(host, jar);
  }
}

// GET (or POST a form) with the jar, without following redirects.
// `hostMap` ({name: '127.0.0.1'}) sends requests for a host elsewhere, as
// DNS would (cookies stay keyed by the name).
export async function jarRequest(jar, url, { method = 'GET', form, headers = {}, hostMap = {} } = {}) {
  const h = { ...headers };
  const cookie = jar.header(url);
  if (cookie) h.cookie = cookie;
  let body;
  if (form) {
    body = new URLSearchParams(form).toString();
    h['content-type'] = 'application/x-www-form-urlencoded';
  }
  const u = new URL(url);
  const target = hostMap[u.hostname];
  let fetchUrl = url;
  if (target) {
    h.host = u.host;
    u.hostname = target;
    fetchUrl = u.toString();
  }
  const res = await request(fetchUrl, { method, headers: h, body });
  jar.store(url, res.cookies);
  return res;
}

// Signs `username` in the way a browser would, starting at `startUrl` (e.g.
// <server>/login?return_url=/app/x/ or an app URL): follows redirects
// across blockyard and the IdP, and fills in the IdP's login form. Stops at
// the first answer that is not a redirect, or at a redirect that leaves both
// (e.g. to the app after /callback, when `stopAt` matches). Resolves
// {jar, last (the final response), trail: [urls]}.
export async function signInOverHttp(startUrl, { username, password, jar = new CookieJar(), stopAt, maxSteps = 20, hostMap } = {}) {
  let url = startUrl;
  const trail = [];
  let res;
  let method = 'GET';
  let form;
  for (let step = 0; step < maxSteps; step++) {
    trail.push(url);
    res = await jarRequest(jar, url, { method, form, hostMap });
    method = 'GET';
    form = undefined;
    if (res.status >= 300 && res.status < 400 && res.headers.location) {
      const next = new URL(res.headers.location, url).toString();
      if (stopAt && stopAt(next)) {
        trail.push(next);
        return { jar, last: res, trail, location: next };
      }
      url = next;
      continue;
    }
    const action = /<form method="post" action="(\/interaction\/[^"]+\/login)"/.exec(res.body);
    if (res.status === 200 && action && username !== undefined) {
      if (/id="error"/.test(res.body)) return { jar, last: res, trail };
      method = 'POST';
      form = { login: username, password };
      url = new URL(action[1], url).toString();
      continue;
    }
    return { jar, last: res, trail, location: undefined };
  }
  throw new Error(`sign-in did not finish within ${maxSteps} steps:\n${trail.join('\n')}`);
}
