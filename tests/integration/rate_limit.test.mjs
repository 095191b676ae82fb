// Per-client-IP rate limits count what costs the server: API calls (120 a
// minute under /api/v1) and new app sessions (each starts an R worker), but
// never a session's own requests (its assets, WebSocket, reloads, downloads)
// nor cheap answers (an unknown app, health probes). A refused request gets
// 429 with Retry-After: a page for a browser, a JSON error for a program. The
// client is the TCP peer unless the peer is in server.trusted_proxies; then
// it is the X-Forwarded-For client, so the clients behind one proxy have
// their own budgets (this test plays such a proxy from loopback).

import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';

import { deployFixture, request, startServer } from '../lib/harness.mjs';

const API_LIMIT = 120;
const SESSION_LIMIT = 3; // small: every session it admits starts an R worker

describe('per-IP rate limits', { timeout: 300_000 }, () => {
  let server;

  before(async () => {
    server = await startServer({
      config: {
        server: { trusted_proxies: ['127.0.0.1/32'] },
        // The defaults, stated: the harness may relax them for other suites.
        proxy: { api_rate_limit_per_minute: API_LIMIT, app_rate_limit_per_minute: SESSION_LIMIT },
      },
    });
    await deployFixture(server, 'hello', 'hello');
  });

  after(async () => {
    await server?.cleanup();
  });

  const asClient = (ip) => ({ 'x-forwarded-for': ip });

  // Sends `n` requests one after another; resolves the statuses.
  async function burst(n, send) {
    const statuses = [];
    for (let i = 0; i < n; i++) statuses.push((await send()).status);
    return statuses;
  }

  function assertRefusal(res, what) {
    assert.equal(res.status, 429, `${what}: ${res.status} ${res.body}`);
    assert.match(res.headers['content-type'] ?? '', /application\/json/, what);
    const body = JSON.parse(res.body);
    assert.equal(body.error, 'too_many_requests', what);
    assert.ok(body.message, `${what}: no message`);
    const retry = Number(res.headers['retry-after']);
    assert.ok(Number.isInteger(retry) && retry >= 1 && retry <= 120, `${what}: Retry-After ${res.headers['retry-after']}`);
  }

  test(`/api/v1: ${API_LIMIT} a minute per client, then 429; other clients and health probes unaffected`, async () => {
    const client = '198.51.100.1';
    const statuses = await burst(API_LIMIT, () => server.api('GET', '/api/v1/apps', { headers: asClient(client) }));
    assert.deepEqual(
      statuses.filter((s) => s !== 200),
      [],
      `the first ${API_LIMIT} requests must pass`,
    );
    assertRefusal(await server.api('GET', '/api/v1/apps', { headers: asClient(client) }), 'request over the limit');
    // Refused requests are not authenticated first: no token, still 429.
    assertRefusal(await request(`${server.url}/api/v1/apps`, { headers: asClient(client) }), 'anonymous request');

    const other = await server.api('GET', '/api/v1/apps', { headers: asClient('198.51.100.2') });
    assert.equal(other.status, 200, 'another client behind the same proxy has its own budget');
    const direct = await server.api('GET', '/api/v1/apps');
    assert.equal(direct.status, 200, 'the proxy itself (no X-Forwarded-For) has its own budget');
    for (const probe of ['/healthz', '/readyz']) {
      const res = await request(`${server.url}${probe}`, { headers: asClient(client) });
      assert.notEqual(res.status, 429, `${probe} must not be rate limited`);
    }
  });

  test(`/app: ${SESSION_LIMIT} new sessions a minute per client; a session's own requests never count`, async () => {
    const client = '198.51.100.3';
    const headers = { ...asClient(client), accept: 'application/json' };
    // Cheap answers are not counted: an unknown app, a malformed name.
    for (let i = 0; i < 50; i++) {
      assert.equal((await request(`${server.url}/app/no-such-app/`, { headers })).status, 404);
    }
    const cookies = [];
    for (let i = 0; i < SESSION_LIMIT; i++) {
      const res = await request(`${server.url}/app/hello/`, { headers, timeoutMs: 120_000 });
      assert.equal(res.status, 200, `new session ${i + 1}: ${res.status} ${res.body.slice(0, 200)}${server.logTail()}`);
      cookies.push(res.cookies[0].split(';')[0]);
    }
    assertRefusal(await request(`${server.url}/app/hello/`, { headers }), 'a new session over the limit');
    const page = await request(`${server.url}/app/hello/`, { headers: { ...asClient(client), accept: 'text/html' } });
    assert.equal(page.status, 429);
    assert.match(page.headers['content-type'] ?? '', /^text\/html/);
    assert.match(page.body, /<h1>Too many requests<\/h1>/);
    assert.ok(Number(page.headers['retry-after']) >= 1);

    // The open sessions go on: many requests each, none refused.
    for (const cookie of cookies) {
      for (let i = 0; i < 40; i++) {
        const path = i % 2 ? '/app/hello/' : '/app/hello/shared/shiny.min.js';
        const res = await request(`${server.url}${path}`, { headers: { ...headers, cookie } });
        assert.equal(res.status, 200, `${path} with a session cookie: ${res.status}`);
      }
    }
    const other = await request(`${server.url}/app/hello/`, { headers: { ...asClient('198.51.100.4'), accept: 'application/json' }, timeoutMs: 120_000 });
    assert.equal(other.status, 200, 'another client has its own budget');
    // The session budget is separate from the API's.
    const api = await server.api('GET', '/api/v1/apps', { headers: asClient(client) });
    assert.equal(api.status, 200);
  });

  test('a client cannot pick its own address: forwarding headers from an untrusted peer are ignored', async () => {
    // Only 127.0.0.1/32 is trusted; connect from another loopback address.
    const first = await new Promise((resolve, reject) => {
      const req = http.get(
        `${server.url}/api/v1/apps`,
        { agent: false, localAddress: '127.0.0.2', headers: asClient('198.51.100.1') },
        (res) => {
          let body = '';
          res.on('data', (c) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode, body }));
        },
      );
      req.on('error', reject);
    });
    // 198.51.100.1 is over its API budget, but this peer is not a trusted proxy,
    // so the header is ignored and the request counts for 127.0.0.2 (401: no token).
    assert.equal(first.status, 401, `${first.status} ${first.body}`);
  });
});
