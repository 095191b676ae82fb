// Header hygiene on the data plane: identity and forwarding headers a client
// sends never reach the app (the echo fixture reports what it received, over
// plain HTTP and over the Shiny WebSocket); the proxy writes its own; every
// response carries the security headers; the routing cookie has the right
// scope and flags.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  cleanupWithoutLeftovers,
  deployFixture,
  openWebSocket,
  parseSetCookies,
  request,
  startServer,
  tryParseJson,
} from '../lib/harness.mjs';

// Every header a client might use to pose as someone else or to fake its
// origin, in the casings a client might send.
const SPOOFED = {
  'X-Shiny-User': 'mallory',
  'x-shiny-access': 'owner',
  'X-SHINY-GROUPS': 'admins',
  'X-Blockyard-Anything': 'spoofed',
  'X-Blockyard-Vault-Token': 'spoofed-vault',
  'X-Blockyard-Session-Token': 'spoofed-session',
  'X-Forwarded-For': '203.0.113.7',
  'X-Forwarded-Host': 'evil.example',
  'X-Forwarded-Proto': 'https',
  'X-Forwarded-Port': '443',
  'X-Real-IP': '203.0.113.8',
  Forwarded: 'for=203.0.113.9;host=evil.example;proto=https',
};

// The Rook names (HTTP_*) under which the app would see a spoofed header,
// except those the proxy writes itself (checked separately).
const MUST_BE_ABSENT = [
  'HTTP_X_SHINY_USER',
  'HTTP_X_SHINY_GROUPS',
  'HTTP_X_BLOCKYARD_ANYTHING',
  'HTTP_X_BLOCKYARD_VAULT_TOKEN',
  'HTTP_X_BLOCKYARD_SESSION_TOKEN',
  'HTTP_X_FORWARDED_PORT',
  'HTTP_X_REAL_IP',
  'HTTP_FORWARDED',
];

function assertNoSpoofedValue(headers, where) {
  const dump = JSON.stringify(headers, null, 1);
  for (const name of MUST_BE_ABSENT) {
    assert.equal(headers[name], undefined, `${where}: the app received ${name}:\n${dump}`);
  }
  // Only values that cannot occur by chance (a cookie UUID may hold "443").
  const distinctive = Object.values(SPOOFED).filter((v) => v !== 'https' && v !== '443');
  for (const value of distinctive) {
    for (const [name, got] of Object.entries(headers)) {
      assert.ok(!String(got).includes(value), `${where}: spoofed value "${value}" reached the app as ${name}:\n${dump}`);
    }
  }
}

describe('proxy headers', { timeout: 600_000 }, () => {
  let server;
  let cookie; // blockyard_route=<id> of the session the HTTP tests made

  before(async () => {
    server = await startServer();
    await deployFixture(server, 'echo', 'echo');
  });

  after(() => cleanupWithoutLeftovers(server));

  test('client-supplied identity and forwarding headers never reach the app over HTTP', async () => {
    const r = await request(`${server.url}/app/echo/headers`, { headers: SPOOFED });
    assert.equal(r.status, 200, `status ${r.status} body ${r.body.slice(0, 300)}${server.logTail()}`);
    const seen = tryParseJson(r.body);
    assert.ok(seen && typeof seen === 'object', `the echo app did not answer JSON: ${r.body.slice(0, 300)}`);
    assertNoSpoofedValue(seen, 'HTTP');

    // What the proxy writes instead.
    assert.equal(seen.HTTP_X_FORWARDED_FOR, '127.0.0.1', `X-Forwarded-For: ${JSON.stringify(seen)}`);
    assert.equal(seen.HTTP_X_SHINY_ACCESS, 'anonymous', `X-Shiny-Access: ${JSON.stringify(seen)}`);
    assert.equal(seen.HTTP_X_FORWARDED_PROTO, 'http', `X-Forwarded-Proto: ${JSON.stringify(seen)}`);
    assert.equal(seen.HTTP_X_FORWARDED_HOST, `127.0.0.1:${server.port}`, `X-Forwarded-Host: ${JSON.stringify(seen)}`);

    const route = parseSetCookies(r.cookies).blockyard_route;
    assert.ok(route?.value, `no blockyard_route cookie: ${JSON.stringify(r.cookies)}`);
    cookie = `blockyard_route=${route.value}`;
  });

  test('repeated spoofed headers are all removed, in an existing session too', async () => {
    assert.ok(cookie, 'needs the session of the previous test');
    const r = await request(`${server.url}/app/echo/headers`, {
      headers: {
        cookie,
        'X-Shiny-User': ['mallory', 'eve'],
        'X-Forwarded-For': ['203.0.113.7', '198.51.100.1'],
        'x-real-ip': ['203.0.113.8', '203.0.113.9'],
      },
    });
    assert.equal(r.status, 200, `status ${r.status}${server.logTail()}`);
    const seen = tryParseJson(r.body);
    assert.equal(seen?.HTTP_X_SHINY_USER, undefined, `X-Shiny-User reached the app: ${r.body}`);
    assert.equal(seen?.HTTP_X_REAL_IP, undefined, `X-Real-IP reached the app: ${r.body}`);
    assert.equal(seen?.HTTP_X_FORWARDED_FOR, '127.0.0.1', `X-Forwarded-For: ${r.body}`);
    assert.doesNotMatch(r.body, /mallory|eve|203\.0\.113|198\.51\.100/, `a spoofed value reached the app: ${r.body}`);
  });

  test('the Shiny page itself shows only proxy-written identity headers', async () => {
    const r = await request(`${server.url}/app/echo/`, { headers: { ...SPOOFED, cookie } });
    assert.equal(r.status, 200, `status ${r.status}${server.logTail()}`);
    const pre = /<pre id="headers">([\s\S]*?)<\/pre>/.exec(r.body)?.[1];
    assert.ok(pre !== undefined, `not the echo page: ${r.body.slice(0, 500)}`);
    assert.match(pre, /^HTTP_X_SHINY_ACCESS: anonymous$/m, `headers shown by the app:\n${pre}`);
    assert.match(pre, /^HTTP_X_FORWARDED_FOR: 127\.0\.0\.1$/m, `headers shown by the app:\n${pre}`);
    assert.doesNotMatch(pre, /mallory|spoofed|evil\.example|203\.0\.113|HTTP_X_REAL_IP|HTTP_FORWARDED:/, `headers shown by the app:\n${pre}`);
  });

  test('client-supplied identity headers never reach the app over the WebSocket', async () => {
    assert.ok(cookie, 'needs the session of the first test');
    const ws = await openWebSocket(`${server.url.replace('http', 'ws')}/app/echo/websocket/`, {
      headers: { ...SPOOFED, cookie, Origin: server.url },
    });
    try {
      assert.equal(ws.status, 101, `upgrade refused:\n${ws.rawHead}${server.logTail()}`);
      ws.sendText(JSON.stringify({ method: 'init', data: {} }));
      const msg = await ws.nextMessage((m) => typeof m === 'string' && m.includes('"headers"'), 60_000);
      const seen = JSON.parse(msg)?.custom?.headers;
      assert.ok(seen && typeof seen === 'object', `unexpected custom message: ${msg.slice(0, 500)}`);
      assertNoSpoofedValue(seen, 'WebSocket');
      assert.equal(seen.HTTP_X_SHINY_ACCESS, 'anonymous', `X-Shiny-Access over WebSocket: ${msg}`);
    } finally {
      await ws.close();
    }
  });

  test('proxied responses carry the security and version headers', async () => {
    for (const path of ['/app/echo/headers', '/app/echo/']) {
      const r = await request(`${server.url}${path}`, { headers: { cookie } });
      assert.equal(r.status, 200, `${path}: status ${r.status}`);
      assert.equal(r.headers['x-content-type-options'], 'nosniff', `${path}: ${JSON.stringify(r.headers)}`);
      assert.match(r.headers['x-frame-options'] ?? '', /^(DENY|SAMEORIGIN)$/i, `${path}: ${JSON.stringify(r.headers)}`);
      assert.ok((r.headers['x-blockyard-version'] ?? '').length > 0, `${path}: no X-Blockyard-Version: ${JSON.stringify(r.headers)}`);
    }
    // Answers the proxy makes itself carry them too.
    for (const path of ['/app/no-such-app/', '/app/echo']) {
      const r = await request(`${server.url}${path}`);
      assert.equal(r.headers['x-content-type-options'], 'nosniff', `${path} (${r.status}): ${JSON.stringify(r.headers)}`);
      assert.ok((r.headers['x-blockyard-version'] ?? '').length > 0, `${path} (${r.status}): ${JSON.stringify(r.headers)}`);
    }
  });

  test('the routing cookie is HttpOnly, SameSite=Lax, scoped to /app/<name>/, not Secure over http', async () => {
    const r = await request(`${server.url}/app/echo/headers`);
    assert.equal(r.status, 200, `status ${r.status}${server.logTail()}`);
    const lines = r.cookies.filter((l) => l.startsWith('blockyard_route='));
    assert.equal(lines.length, 1, `expected one blockyard_route Set-Cookie: ${JSON.stringify(r.cookies)}`);
    const route = parseSetCookies(lines).blockyard_route;
    assert.match(route.value, /^[0-9a-f-]{36}$/, `cookie value is not a UUID: ${lines[0]}`);
    assert.equal(route.attrs.path, '/app/echo/', `cookie path: ${lines[0]}`);
    assert.equal(route.attrs.httponly, true, `not HttpOnly: ${lines[0]}`);
    assert.equal(String(route.attrs.samesite).toLowerCase(), 'lax', `SameSite: ${lines[0]}`);
    assert.equal(route.attrs.secure, undefined, `Secure on a plain-http server: ${lines[0]}`);
    assert.equal(route.attrs.domain, undefined, `cookie has a Domain: ${lines[0]}`);

    // An existing session does not get its cookie again.
    const again = await request(`${server.url}/app/echo/headers`, { headers: { cookie: `blockyard_route=${route.value}` } });
    assert.equal(again.status, 200);
    assert.equal(parseSetCookies(again.cookies).blockyard_route, undefined, `cookie re-issued: ${JSON.stringify(again.cookies)}`);
  });
});
