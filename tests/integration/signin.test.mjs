// Sign-in through a real OpenID provider (npm oidc-provider, tests/lib/idp.mjs),
// driven over plain HTTP: the authorization code flow with state, nonce and
// PKCE, the cookies, return_url sanitising, tampering and expiry, sign-out,
// roles at first sign-in, deactivation, token refresh, the bootstrap
// exchange, CSRF, split discovery, ES256 ID tokens, a provider that is down,
// and the audit lines of all of it (control-plane spec §8.1, §8.3, §8.11).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { parseSetCookies, request, sleep, startServer, waitFor } from '../lib/harness.mjs';
import { CookieJar, jarRequest } from '../lib/idp.mjs';
import { auditLines, BOOTSTRAP_TOKEN, signIn, startSignInServer } from '../lib/signin.mjs';

const me = (env, cookie, headers = {}) =>
  request(`${env.url}/api/v1/users/me`, { headers: { cookie, accept: 'application/json', ...headers } });

describe('sign-in through oidc-provider', { timeout: 600_000 }, () => {
  let env;

  before(async () => {
    env = await startSignInServer();
  });
  after(() => env?.stop());

  test('/login sets the state cookie and sends the browser to the provider with state, nonce and PKCE', async () => {
    const r = await request(`${env.url}/login?return_url=%2Fapp%2Fsales%2F`);
    assert.equal(r.status, 302, r.body);
    const location = new URL(r.headers.location);
    assert.equal(location.origin, env.idp.issuer);
    const q = location.searchParams;
    assert.equal(q.get('response_type'), 'code');
    assert.equal(q.get('client_id'), 'blockyard-test');
    assert.equal(q.get('redirect_uri'), `${env.url}/callback`);
    assert.equal(q.get('scope'), 'openid profile email offline_access groups');
    assert.match(q.get('state'), /^[0-9a-f]{32}$/);
    assert.match(q.get('nonce'), /^[0-9a-f]{32}$/);
    assert.equal(q.get('code_challenge_method'), 'S256');
    assert.match(q.get('code_challenge'), /^[A-Za-z0-9_-]{43}$/);
    const state = parseSetCookies(r.cookies).blockyard_oidc_state;
    assert.ok(state?.value, JSON.stringify(r.cookies));
    assert.equal(state.attrs.path, '/');
    assert.equal(state.attrs.httponly, true);
    assert.equal(String(state.attrs.samesite).toLowerCase(), 'lax');
    assert.equal(state.attrs['max-age'], '300');
    assert.equal(state.attrs.secure, undefined, 'not Secure over http');
  });

  test('a full sign-in returns to return_url with a session cookie, and the API knows the user', async () => {
    const s = await signIn(env, 'alice', { startPath: '/login?return_url=%2Fapp%2Fsales%2F%3Ftab%3D2' });
    assert.equal(s.location, `${env.url}/app/sales/?tab=2`, s.trail.join('\n'));
    const cookies = parseSetCookies(s.last.cookies);
    const session = cookies.blockyard_session;
    assert.ok(session?.value, JSON.stringify(s.last.cookies));
    assert.equal(session.attrs.httponly, true);
    assert.equal(String(session.attrs.samesite).toLowerCase(), 'lax');
    assert.equal(session.attrs['max-age'], '86400', 'cookie_max_age defaults to 24h');
    assert.equal(cookies.blockyard_oidc_state?.value, '', 'the state cookie is cleared');
    assert.equal(cookies.blockyard_oidc_state?.attrs['max-age'], '0');

    const r = await me(env, s.cookie);
    assert.equal(r.status, 200, r.body);
    const body = JSON.parse(r.body);
    assert.equal(body.sub, 'alice');
    assert.equal(body.name, 'Alice Publisher', 'profile claims come from userinfo');
    assert.equal(body.email, 'alice@example.org');
    assert.equal(body.role, 'viewer', 'oidc.default_role');
    assert.deepEqual(body.groups, ['analysts']);
    // The token endpoint got the PKCE verifier: oidc-provider enforces it.
    assert.ok(env.idp.requests.includes('POST /token'));
  });

  test('the initial admin becomes admin at first sign-in; a role change survives re-login', async () => {
    const a = await signIn(env, 'admin');
    assert.equal(JSON.parse((await me(env, a.cookie)).body).role, 'admin');
    await signIn(env, 'bob');
    const promote = await env.server.api('PATCH', '/api/v1/users/bob', { body: { role: 'publisher' } });
    assert.equal(promote.status, 200, promote.body);
    const again = await signIn(env, 'bob');
    assert.equal(JSON.parse((await me(env, again.cookie)).body).role, 'publisher');
  });

  test('malicious return_urls land on the root', async () => {
    for (const evil of ['https://evil.com/', '//evil.com', '/\\evil.com']) {
      const s = await signIn(env, 'alice', { startPath: `/login?return_url=${encodeURIComponent(evil)}` });
      assert.equal(s.location, `${env.url}/`, `${evil}: ${s.trail.join('\n')}`);
    }
  });

  test('a callback with the wrong state, or without its state cookie, is 400', async () => {
    const jar = new CookieJar();
    const start = await jarRequest(jar, `${env.url}/login`);
    assert.equal(start.status, 302);
    const r = await jarRequest(jar, `${env.url}/callback?code=abc&state=not-the-state`);
    assert.equal(r.status, 400, r.body);
    assert.match(r.body, /invalid or has expired/);
    const state = new URL(start.headers.location).searchParams.get('state');
    const noCookie = await request(`${env.url}/callback?code=abc&state=${state}`);
    assert.equal(noCookie.status, 400);
  });

  test('tampered and foreign session cookies give no identity', async () => {
    const s = await signIn(env, 'carol');
    assert.equal((await me(env, s.cookie)).status, 200);
    const [name, value] = s.cookie.split('=');
    const [payload, mac] = value.split('.');
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url')), sub: 'admin' })).toString('base64url');
    assert.equal((await me(env, `${name}=${forged}.${mac}`)).status, 401, 'payload changed');
    assert.equal((await me(env, `${name}=${payload}.${mac.slice(0, -2)}AA`)).status, 401, 'signature changed');
    assert.equal((await me(env, `${name}=${payload}`)).status, 401, 'no signature');
  });

  test('sign-out ends only this browser\'s session, clears the cookie and goes to the provider\'s logout', async () => {
    const laptop = await signIn(env, 'carol');
    const phone = await signIn(env, 'carol');
    const out = await request(`${env.url}/logout`, { headers: { cookie: laptop.cookie } });
    assert.equal(out.status, 302);
    const location = new URL(out.headers.location);
    assert.equal(`${location.origin}${location.pathname}`, `${env.idp.issuer}/session/end`);
    assert.equal(location.searchParams.get('post_logout_redirect_uri'), `${env.url}/signed-out`);
    assert.ok(location.searchParams.get('id_token_hint'), 'id_token_hint');
    const cleared = parseSetCookies(out.cookies).blockyard_session;
    assert.equal(cleared?.value, '');
    assert.equal(cleared?.attrs['max-age'], '0');
    assert.equal((await me(env, laptop.cookie)).status, 401, 'the signed-out cookie is dead');
    assert.equal((await me(env, phone.cookie)).status, 200, 'the other browser stays signed in');
    // The provider accepts the logout request (valid id_token_hint and
    // registered post_logout_redirect_uri) and sends the browser back.
    const idpJar = new CookieJar();
    const idpPage = await jarRequest(idpJar, out.headers.location);
    assert.equal(idpPage.status, 200, idpPage.body);
    const action = /<form method="post" action="([^"]+)"/.exec(idpPage.body)?.[1];
    assert.ok(action, idpPage.body);
    const fields = Object.fromEntries([...idpPage.body.matchAll(/name="([^"]+)" value="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    const back = await jarRequest(idpJar, action, { method: 'POST', form: fields });
    assert.equal(back.status, 303, back.body);
    assert.equal(back.headers.location, `${env.url}/signed-out`);
    const page = await request(`${env.url}/signed-out`);
    assert.equal(page.status, 200);
    assert.match(page.body, /signed out/i);
  });

  test('a deactivated user cannot sign in and loses open sessions; reactivation lets them back', async () => {
    const s = await signIn(env, 'dave');
    assert.equal((await me(env, s.cookie)).status, 200);
    const off = await env.server.api('PATCH', '/api/v1/users/dave', { body: { active: false } });
    assert.equal(off.status, 200, off.body);
    assert.equal((await me(env, s.cookie)).status, 401);
    const again = await signIn(env, 'dave');
    assert.equal(again.last.status, 403, again.last.body);
    assert.match(again.last.body, /deactivated/);
    assert.equal(again.cookie, undefined);
    await env.server.api('PATCH', '/api/v1/users/dave', { body: { active: true } });
    const back = await signIn(env, 'dave');
    assert.equal((await me(env, back.cookie)).status, 200);
  });

  test('wrong password at the provider never reaches blockyard', async () => {
    const s = await signIn(env, 'alice', { password: 'wrong' });
    assert.equal(s.cookie, undefined);
    assert.match(s.last.body, /Invalid username or password/);
  });

  test('CSRF: a cookie-authenticated write from another origin is 403, from our own 201', async () => {
    const s = await signIn(env, 'alice');
    const post = (headers) =>
      request(`${env.url}/api/v1/users/me/tokens`, {
        method: 'POST',
        headers: { cookie: s.cookie, 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ name: 'from-browser' }),
      });
    const cross = await post({ origin: 'http://127.0.0.1:1', 'sec-fetch-site': 'same-site' });
    assert.equal(cross.status, 403, cross.body);
    assert.match(cross.body, /cross-site request refused/);
    assert.equal((await post({ origin: 'https://evil.example' })).status, 403);
    assert.equal((await post({})).status, 403, 'no Origin and no Sec-Fetch-Site');
    const own = await post({ origin: env.url, 'sec-fetch-site': 'same-origin' });
    assert.equal(own.status, 201, own.body);
    const token = JSON.parse(own.body).token;
    // A token cannot breed more tokens when sign-in is configured.
    const bred = await env.server.api('POST', '/api/v1/users/me/tokens', { token, body: { name: 'x' } });
    assert.equal(bred.status, 403, bred.body);
  });

  test('the audit log records sign-ins, failures, sign-outs, tokens and user changes by content', async () => {
    const lines = await auditLines(env);
    const find = (pred, what) => {
      const line = lines.find(pred);
      assert.ok(line, `no audit line for ${what} in:\n${lines.map((l) => JSON.stringify(l)).join('\n')}`);
      return line;
    };
    const login = find((l) => l.action === 'user.login' && l.actor === 'alice' && l.outcome === 'success', 'alice signing in');
    assert.equal(login.source_ip, '127.0.0.1');
    assert.deepEqual(login.detail.groups, ['analysts']);
    assert.match(login.ts, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
    find((l) => l.action === 'user.login' && l.actor === 'dave' && l.outcome === 'denied' && /deactivated/.test(l.detail?.reason), 'dave refused');
    find((l) => l.action === 'user.logout' && l.actor === 'carol', 'carol signing out');
    find((l) => l.action === 'user.update' && l.target === 'dave' && l.detail.active === false && l.actor === 'admin', 'dave deactivated');
    find((l) => l.action === 'user.update' && l.target === 'bob' && l.detail.role === 'publisher', 'bob promoted');
    find((l) => l.action === 'token.create' && l.actor === 'admin' && l.detail.bootstrap === true, 'the bootstrap token');
    find((l) => l.action === 'token.create' && l.actor === 'alice' && l.detail.name === 'from-browser', 'alice\'s token');
  });

  test('bootstrap: the token is burned, 8 concurrent exchanges on a fresh server give one 201 and seven 410; a restart keeps the burn and the sign-ins', async () => {
    const used = await request(`${env.url}/api/v1/bootstrap`, {
      method: 'POST',
      headers: { authorization: `Bearer ${BOOTSTRAP_TOKEN}`, 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(used.status, 410, 'already exchanged by the suite set-up');

    const fresh = await startSignInServer({ bootstrap: false });
    try {
      const attempts = await Promise.all(
        Array.from({ length: 8 }, () =>
          request(`${fresh.url}/api/v1/bootstrap`, {
            method: 'POST',
            headers: { authorization: `Bearer ${BOOTSTRAP_TOKEN}`, 'content-type': 'application/json' },
            body: '{}',
          }),
        ),
      );
      const statuses = attempts.map((a) => a.status).sort();
      assert.deepEqual(statuses, [201, 410, 410, 410, 410, 410, 410, 410], attempts.map((a) => a.body).join('\n'));
      const winner = JSON.parse(attempts.find((a) => a.status === 201).body);
      const tokens = await fresh.server.api('GET', '/api/v1/users/me/tokens', { token: winner.token });
      assert.equal(tokens.status, 200);
      assert.equal(tokens.json.length, 1, `losers left token rows: ${tokens.body}`);
      const alice = await signIn(fresh, 'alice');
      assert.equal((await me(fresh, alice.cookie)).status, 200);

      await fresh.restart();
      const again = await request(`${fresh.url}/api/v1/bootstrap`, {
        method: 'POST',
        headers: { authorization: `Bearer ${BOOTSTRAP_TOKEN}`, 'content-type': 'application/json' },
        body: '{}',
      });
      assert.equal(again.status, 410, `the burn did not survive the restart: ${again.body}`);
      const afterRestart = await fresh.server.api('GET', '/api/v1/users/me/tokens', { token: winner.token });
      assert.equal(afterRestart.status, 200, 'the exchanged token still works');
      assert.equal(afterRestart.json.length, 1, afterRestart.body);
      const still = await me(fresh, alice.cookie);
      assert.equal(still.status, 200, `the browser session did not survive the restart: ${still.body}`);
      assert.equal(JSON.parse(still.body).sub, 'alice');
    } finally {
      await fresh.stop();
    }
  });
});

describe('sign-in sessions over time', { timeout: 600_000 }, () => {
  let env;
  before(async () => {
    env = await startSignInServer({ config: { oidc: { cookie_max_age: '4s' } }, idp: { accessTokenTtl: 2 } });
  });
  after(() => env?.stop());

  test('an expired access token is refreshed with the provider; a refused refresh signs the user out', async () => {
    const s = await signIn(env, 'alice');
    assert.equal((await me(env, s.cookie)).status, 200);
    const tokenCalls = () => env.idp.requests.filter((r) => r === 'POST /token').length;
    const before = tokenCalls();
    await sleep(2_500); // the 2 s access token has expired
    assert.equal((await me(env, s.cookie)).status, 200, 'refreshed, still signed in');
    assert.ok(tokenCalls() > before, 'the refresh went to the provider');

    const t = await signIn(env, 'bob');
    env.idp.removeUser('bob'); // the provider now refuses bob's refresh token
    await sleep(2_500);
    const refused = await me(env, t.cookie);
    assert.equal(refused.status, 401, refused.body);
  });

  test('a cookie older than cookie_max_age is refused', async () => {
    const s = await signIn(env, 'carol');
    assert.equal((await me(env, s.cookie)).status, 200);
    await sleep(4_500);
    assert.equal((await me(env, s.cookie)).status, 401);
  });
});

describe('sign-in variants', { timeout: 600_000 }, () => {
  test('ES256-signed ID tokens verify', async () => {
    const env = await startSignInServer({ idp: { client: { id_token_signed_response_alg: 'ES256' } } });
    try {
      const s = await signIn(env, 'alice');
      assert.ok(s.cookie, s.trail.join('\n') + s.last.body);
      assert.equal((await me(env, s.cookie)).status, 200);
    } finally {
      await env.stop();
    }
  });

  test('split discovery: the server talks to the internal URL, the browser to the public issuer', async () => {
    // The provider's public name does not resolve on this machine: the
    // server must use issuer_discovery_url; only the "browser" (the scripted
    // client, through hostMap, like a DNS entry) reaches the public name.
    const env = await startSignInServer({ idp: { issuerHost: 'idp-public.invalid' }, splitDiscovery: true });
    try {
      const login = await request(`${env.url}/login`);
      assert.equal(new URL(login.headers.location).host, `idp-public.invalid:${env.idp.port}`);
      const s = await signIn(env, 'alice', { hostMap: { 'idp-public.invalid': '127.0.0.1' } });
      assert.ok(s.cookie, s.trail.join('\n') + s.last.body);
      assert.equal(JSON.parse((await me(env, s.cookie)).body).sub, 'alice');
    } finally {
      await env.stop();
    }
  });

  test('an unreachable provider at start-up stops start-up with a message naming it', async () => {
    await assert.rejects(
      startServer({
        waitForToken: false,
        config: {
          server: { external_url: 'http://127.0.0.1:1', session_secret: 'x'.repeat(40) },
          oidc: { issuer_url: 'http://127.0.0.1:9', client_id: 'c', client_secret: 's' },
        },
      }),
      (err) => {
        assert.match(err.message, /server exited early/);
        assert.match(err.message, /oidc: cannot use the identity provider http:\/\/127\.0\.0\.1:9/);
        return true;
      },
    );
  });

  test('a provider that goes down fails sign-ins with a clear page, not the server', async () => {
    const env = await startSignInServer();
    try {
      const jar = new CookieJar();
      // Sign in at the provider, but stop before the browser returns.
      const { signInOverHttp } = await import('../lib/idp.mjs');
      const s = await signInOverHttp(`${env.url}/login`, {
        username: 'alice',
        password: 'alice-pw',
        jar,
        stopAt: (next) => next.startsWith(`${env.url}/callback`),
      });
      assert.ok(s.location, s.trail.join('\n'));
      await env.idp.stop();
      const r = await jarRequest(jar, s.location);
      assert.equal(r.status, 502, r.body);
      assert.match(r.body, /Sign-in failed/);
      assert.equal((await request(`${env.url}/healthz`)).status, 200, 'the server carries on');
      const lines = await auditLines(env);
      assert.ok(lines.some((l) => l.action === 'user.login' && l.outcome === 'failure'), JSON.stringify(lines));
    } finally {
      await env.server.cleanup();
    }
  });
});
