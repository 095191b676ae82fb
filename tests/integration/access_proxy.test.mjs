// The data plane enforces sign-in and per-app access (control-plane spec
// §2.6): anonymous visitors of a non-public app are sent to sign in (HTTP
// and WebSocket upgrade alike), signed-in users without access get 404, the
// app receives X-Shiny-User / X-Shiny-Access / X-Shiny-Groups for the
// caller, a routing cookie never crosses users, a pre-warmed worker goes to
// one user only, and sign-out or deactivation closes the user's open app
// WebSockets within seconds. Real provider (oidc-provider), real R workers.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  appRuntime,
  byAs,
  deployFixture,
  describeRun,
  liveWorkers,
  openWebSocket,
  parseSetCookies,
  request,
  tryParseJson,
  waitFor,
} from '../lib/harness.mjs';
import { signIn, startSignInServer } from '../lib/signin.mjs';

const CLOSE_WITHIN_MS = 10_000;

describe('access control on /app/', { timeout: 900_000 }, () => {
  let env;
  const cookies = {};

  const headersAs = async (user, app = 'echo', extra = {}) => {
    const r = await request(`${env.url}/app/${app}/headers`, {
      headers: { cookie: [cookies[user], extra.cookie].filter(Boolean).join('; ') || undefined },
    });
    return { ...r, seen: tryParseJson(r.body) };
  };
  const grant = async (principal, role = 'viewer', kind = 'user', app = 'echo') => {
    const r = await env.server.api('POST', `/api/v1/apps/${app}/access`, { body: { principal, kind, role } });
    assert.equal(r.status, 204, r.body);
  };
  const setType = async (type, app = 'echo') => {
    const r = await env.server.api('PATCH', `/api/v1/apps/${app}`, { body: { access_type: type } });
    assert.equal(r.status, 200, r.body);
  };

  before(async () => {
    env = await startSignInServer();
    await deployFixture(env.server, 'echo', 'echo');
    for (const user of ['admin', 'alice', 'bob', 'carol', 'dave']) {
      const s = await signIn(env, user);
      assert.ok(s.cookie, `${user} could not sign in: ${s.trail.join('\n')}`);
      cookies[user] = s.cookie;
    }
  });
  after(() => env?.stop());

  test('an anonymous visitor of an acl app is sent to sign in and comes back to the same URL', async () => {
    const r = await request(`${env.url}/app/echo/headers?x=1`);
    assert.equal(r.status, 302, r.body);
    assert.equal(r.headers.location, '/login?return_url=/app/echo/headers%3Fx%3D1');
    assert.equal(parseSetCookies(r.cookies).blockyard_route, undefined, 'no worker for an anonymous visitor');
    // Following it signs in and lands on the app URL.
    const s = await signIn(env, 'admin', { startPath: r.headers.location });
    assert.equal(s.location, `${env.url}/app/echo/headers?x=1`, s.trail.join('\n'));
    const ws = await openWebSocket(`${env.url.replace('http', 'ws')}/app/echo/websocket/`);
    assert.equal(ws.status, 302, `an anonymous WebSocket upgrade: ${ws.rawHead}`);
  });

  test('signed in without access is 404, like an app that does not exist', async () => {
    const r = await headersAs('dave');
    assert.equal(r.status, 404, r.body);
    // The same answer as for an app that does not exist.
    assert.deepEqual(JSON.parse(r.body), { error: 'not_found', message: 'app not found' });
  });

  test('the owner (admin here) gets the app with its identity headers', async () => {
    const r = await headersAs('admin');
    assert.equal(r.status, 200, r.body + env.server.logTail());
    assert.equal(r.seen.HTTP_X_SHINY_USER, 'Ada Admin');
    assert.equal(r.seen.HTTP_X_SHINY_ACCESS, 'owner');
    assert.equal(r.seen.HTTP_X_SHINY_GROUPS, 'admins');
  });

  test('a user grant admits that user as viewer or collaborator, and no one else', async () => {
    await grant('alice', 'viewer');
    const viewer = await headersAs('alice');
    assert.equal(viewer.status, 200, viewer.body);
    assert.equal(viewer.seen.HTTP_X_SHINY_USER, 'Alice Publisher');
    assert.equal(viewer.seen.HTTP_X_SHINY_ACCESS, 'viewer');
    assert.equal((await headersAs('bob')).status, 404);
    await grant('alice', 'collaborator');
    const collaborator = await headersAs('alice');
    assert.equal(collaborator.seen.HTTP_X_SHINY_ACCESS, 'collaborator');
  });

  test('a group grant admits members of the group and no one else', async () => {
    await grant('analysts', 'viewer', 'group');
    const carol = await headersAs('carol');
    assert.equal(carol.status, 200, carol.body);
    assert.equal(carol.seen.HTTP_X_SHINY_USER, 'Carol Analyst');
    assert.equal(carol.seen.HTTP_X_SHINY_ACCESS, 'viewer');
    assert.equal(carol.seen.HTTP_X_SHINY_GROUPS, 'analysts');
    assert.equal((await headersAs('bob')).status, 404, 'bob is in marketing');
    assert.equal((await headersAs('dave')).status, 404);
    const revoke = await env.server.api('DELETE', '/api/v1/apps/echo/access/group/analysts');
    assert.equal(revoke.status, 204);
    assert.equal((await headersAs('carol')).status, 404, 'revoked on the next request');
  });

  test('logged_in admits every signed-in user; public admits anonymous visitors too', async () => {
    await setType('logged_in');
    try {
      const dave = await headersAs('dave');
      assert.equal(dave.status, 200, dave.body);
      assert.equal(dave.seen.HTTP_X_SHINY_ACCESS, 'viewer');
      assert.equal((await request(`${env.url}/app/echo/headers`)).status, 302);
      await setType('public');
      const anon = await request(`${env.url}/app/echo/headers`);
      assert.equal(anon.status, 200, anon.body);
      const seen = tryParseJson(anon.body);
      assert.equal(seen.HTTP_X_SHINY_ACCESS, 'anonymous');
      assert.equal(seen.HTTP_X_SHINY_USER, undefined);
      // A spoofed identity is still stripped.
      const spoofed = await request(`${env.url}/app/echo/headers`, { headers: { 'X-Shiny-User': 'Ada Admin' } });
      assert.equal(tryParseJson(spoofed.body).HTTP_X_SHINY_USER, undefined);
    } finally {
      await setType('acl');
    }
  });

  test('a blockyard_route cookie of another user never reaches that user\'s worker', async () => {
    await grant('bob', 'viewer');
    const bobs = await headersAs('bob');
    assert.equal(bobs.status, 200, bobs.body);
    const route = parseSetCookies(bobs.cookies).blockyard_route?.value;
    assert.ok(route, JSON.stringify(bobs.cookies));
    // Alice presents bob's routing cookie with her own sign-in.
    const stolen = await headersAs('alice', 'echo', { cookie: `blockyard_route=${route}` });
    assert.equal(stolen.status, 200, stolen.body);
    assert.equal(stolen.seen.HTTP_X_SHINY_USER, 'Alice Publisher');
    const fresh = parseSetCookies(stolen.cookies).blockyard_route?.value;
    assert.ok(fresh && fresh !== route, `alice was not given a session of her own: ${JSON.stringify(stolen.cookies)}`);
    // And an anonymous request with it gets nothing either.
    const anon = await request(`${env.url}/app/echo/headers`, { headers: { cookie: `blockyard_route=${route}` } });
    assert.equal(anon.status, 302);
  });

  test('a pre-warmed worker goes to the first user who claims it, never to a second', async () => {
    const patch = await env.server.api('PATCH', '/api/v1/apps/echo', { body: { pre_warmed_sessions: 1 } });
    assert.equal(patch.status, 200, patch.body);
    try {
      const idle = (rt) => liveWorkers(rt).filter((w) => (w.sessions ?? []).length === 0 && w.status === 'active');
      await waitFor(async () => idle(await appRuntime(env.server, 'echo')).length >= 1, {
        timeoutMs: 120_000,
        what: 'a pre-warmed echo worker',
      });
      const warm = idle(await appRuntime(env.server, 'echo'))[0].id;
      const a = await headersAs('alice');
      const b = await headersAs('admin');
      const routeA = parseSetCookies(a.cookies).blockyard_route.value;
      const routeB = parseSetCookies(b.cookies).blockyard_route.value;
      const rt = await appRuntime(env.server, 'echo');
      const owner = (route) => rt.workers.find((w) => (w.sessions ?? []).some((s) => s.id === route))?.id;
      assert.equal(owner(routeA), warm, `alice did not get the pre-warmed worker: ${JSON.stringify(rt.workers)}`);
      assert.notEqual(owner(routeB), warm, 'the second user shares the pre-warmed worker');
      assert.ok(owner(routeB), JSON.stringify(rt.workers));
    } finally {
      await env.server.api('PATCH', '/api/v1/apps/echo', { body: { pre_warmed_sessions: 0 } });
    }
  });

  test('a signed-in user\'s app WebSocket or form post from another origin is refused; from ours it works', async () => {
    // A page of a sibling origin (another port or subdomain of the same
    // site) gets the SameSite=Lax cookie sent along: it must not drive the
    // user's R session with the user's identity.
    await grant('carol', 'viewer');
    const ws = `${env.url.replace('http', 'ws')}/app/echo/websocket/`;
    for (const headers of [
      { Origin: 'http://127.0.0.1:1' },
      { Origin: 'http://localhost:1', 'Sec-Fetch-Site': 'same-site' },
      {},
    ]) {
      const cross = await openWebSocket(ws, { headers: { cookie: cookies.carol, ...headers } });
      assert.equal(cross.status, 403, `${JSON.stringify(headers)}: ${cross.rawHead}`);
    }
    const post = await request(`${env.url}/app/echo/headers`, {
      method: 'POST',
      headers: { cookie: cookies.carol, origin: 'http://127.0.0.1:1', 'content-type': 'application/x-www-form-urlencoded' },
      body: 'a=1',
    });
    assert.equal(post.status, 403, post.body);
    // Our own origin.
    const own = await openWebSocket(ws, { headers: { cookie: cookies.carol, Origin: env.url } });
    assert.equal(own.status, 101, own.rawHead);
    own.destroy();
    // Without a signed-in identity there is nothing to borrow: an anonymous
    // visitor of a public app may come from anywhere.
    await setType('public');
    try {
      const anon = await openWebSocket(ws, { headers: { Origin: 'http://127.0.0.1:1' } });
      assert.equal(anon.status, 101, anon.rawHead);
      anon.destroy();
    } finally {
      await setType('acl');
      await env.server.api('DELETE', '/api/v1/apps/echo/access/user/carol');
    }
  });

  async function openAppSocket(user) {
    const page = await headersAs(user);
    assert.equal(page.status, 200, page.body);
    const route = parseSetCookies(page.cookies).blockyard_route?.value;
    const ws = await openWebSocket(`${env.url.replace('http', 'ws')}/app/echo/websocket/`, {
      headers: { cookie: `${cookies[user]}; blockyard_route=${route}`, Origin: env.url },
    });
    assert.equal(ws.status, 101, ws.rawHead + env.server.logTail());
    ws.sendText(JSON.stringify({ method: 'init', data: {} }));
    const msg = await ws.nextMessage((m) => typeof m === 'string' && m.includes('"headers"'), 60_000);
    assert.equal(JSON.parse(msg).custom.headers.HTTP_X_SHINY_USER, page.seen.HTTP_X_SHINY_USER);
    return ws;
  }

  async function closedWithin(ws, ms, what) {
    const started = Date.now();
    const result = await Promise.race([ws.closed, new Promise((r) => setTimeout(() => r('timeout'), ms))]);
    assert.notEqual(result, 'timeout', `${what}: the app WebSocket was still open after ${ms} ms${env.server.logTail()}`);
    return Date.now() - started;
  }

  test('signing out closes the user\'s open app WebSocket within seconds', async () => {
    const ws = await openAppSocket('bob');
    const out = await request(`${env.url}/logout`, { headers: { cookie: cookies.bob } });
    assert.equal(out.status, 302);
    const ms = await closedWithin(ws, CLOSE_WITHIN_MS, 'sign-out');
    console.log(`app WebSocket closed ${ms} ms after sign-out`);
    assert.equal((await headersAs('bob')).status, 302, 'the dead cookie is anonymous now');
  });

  test('deactivating a user closes their open app WebSocket within seconds', async () => {
    await grant('dave', 'viewer');
    const ws = await openAppSocket('dave');
    const off = await env.server.api('PATCH', '/api/v1/users/dave', { body: { active: false } });
    assert.equal(off.status, 200, off.body);
    const ms = await closedWithin(ws, CLOSE_WITHIN_MS, 'deactivation');
    console.log(`app WebSocket closed ${ms} ms after deactivation`);
    assert.equal((await headersAs('dave')).status, 302);
  });

  test('by access show|grant|revoke|set-type drive the same grants', async () => {
    const run = async (args) => {
      const r = await byAs(env.server, args);
      assert.equal(r.code, 0, describeRun(args, r));
      return r;
    };
    await run(['access', 'grant', 'echo', 'analysts', '--group', '--role', 'collaborator']);
    const shown = await run(['access', 'show', 'echo']);
    assert.match(shown.stdout, /^Access type: acl$/m);
    assert.match(shown.stdout, /^PRINCIPAL\s+KIND\s+ROLE\s+GRANTED BY$/m);
    assert.match(shown.stdout, /^analysts\s+group\s+collaborator\s+admin$/m);
    assert.match(shown.stdout, /^alice \(Alice Publisher\)\s+user\s+collaborator\s+admin$/m);
    const carol = await headersAs('carol');
    assert.equal(carol.seen?.HTTP_X_SHINY_ACCESS, 'collaborator', carol.body);
    const json = JSON.parse((await run(['access', 'show', 'echo', '--json'])).stdout);
    assert.equal(json.access_type, 'acl');
    assert.ok(json.acl.some((g) => g.principal === 'analysts' && g.kind === 'group'));
    await run(['access', 'revoke', 'echo', 'analysts', '--group']);
    assert.equal((await headersAs('carol')).status, 404);
    await run(['access', 'revoke', 'echo', 'alice']);
    assert.equal((await headersAs('alice')).status, 404);
    await run(['access', 'set-type', 'echo', 'logged_in']);
    assert.equal((await headersAs('alice')).status, 200);
    const bad = await byAs(env.server, ['access', 'set-type', 'echo', 'everyone']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /must be acl, logged_in or public/);
    const missing = await byAs(env.server, ['access', 'revoke', 'echo', 'nobody']);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /grant not found/);
  });

  test('by users list|update', async () => {
    const list = await byAs(env.server, ['users', 'list']);
    assert.equal(list.code, 0, describeRun(['users', 'list'], list));
    assert.match(list.stdout, /^SUB\s+NAME\s+EMAIL\s+ROLE\s+ACTIVE$/m);
    assert.match(list.stdout, /^alice\s+Alice Publisher\s+alice@example\.org\s+viewer\s+yes$/m);
    assert.match(list.stdout, /^dave\s+Dave Outsider\s+dave@example\.org\s+viewer\s+no$/m);
    const up = await byAs(env.server, ['users', 'update', 'alice', '--role', 'publisher']);
    assert.equal(up.code, 0, describeRun(['users', 'update'], up));
    assert.match(up.stdout, /Updated user alice\./);
    const json = JSON.parse((await byAs(env.server, ['users', 'list', '--json'])).stdout);
    assert.equal(json.find((u) => u.sub === 'alice').role, 'publisher');
    const none = await byAs(env.server, ['users', 'update', 'alice']);
    assert.match(none.stderr, /no flags specified/);
    const self = await byAs(env.server, ['users', 'update', 'admin', '--active', 'false']);
    assert.match(self.stderr, /cannot modify your own account/);
  });
});
