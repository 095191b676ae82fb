// What people (not programs) see: "/" is a landing page; every error a
// browser meets is an HTML page worded for an app user, while API clients
// and scripts get the JSON error they can parse; and a worker's log starts
// with the app's own output, not Shiny's "Shiny Server ... is required".

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  byAs,
  deployFixture,
  describeRun,
  openSessionWebSocket,
  request,
  sessionIdOf,
  startServer,
  waitFor,
} from '../lib/harness.mjs';

const BROWSER = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };
const PROGRAM = { accept: 'application/json' };
// Wording meant for developers that no page for app users may show.
const DEVELOPER_WORDS = /active bundle|at capacity|worker|internal_error|not_found|service_unavailable|\{"error"/;

function assertPage(res, status, heading, what) {
  assert.equal(res.status, status, `${what}: ${res.status} ${res.body.slice(0, 300)}`);
  assert.match(res.headers['content-type'] ?? '', /^text\/html/, `${what}: content type`);
  assert.match(res.body, /^<!DOCTYPE html>/, `${what}: not a page`);
  assert.match(res.body, new RegExp(`<h1>${heading}</h1>`), `${what}: heading`);
  assert.doesNotMatch(res.body, DEVELOPER_WORDS, `${what}: developer wording in the page`);
}

function assertJsonError(res, status, code, message, what) {
  assert.equal(res.status, status, `${what}: ${res.status} ${res.body.slice(0, 300)}`);
  assert.match(res.headers['content-type'] ?? '', /application\/json/, `${what}: content type`);
  const body = JSON.parse(res.body);
  assert.equal(body.error, code, what);
  assert.equal(body.message, message, what);
}

describe('pages for people, JSON for programs', { timeout: 600_000 }, () => {
  let server;

  before(async () => {
    server = await startServer({ config: { proxy: { max_workers: 1 } } });
    await deployFixture(server, 'hello', 'hello');
  });

  after(async () => {
    await server?.cleanup();
  });

  test('"/" is a landing page', async () => {
    for (const headers of [BROWSER, {}]) {
      const res = await request(`${server.url}/`, { headers });
      assert.equal(res.status, 200, `${JSON.stringify(headers)}: ${res.status} ${res.body}`);
      assert.match(res.headers['content-type'] ?? '', /^text\/html/);
      assert.match(res.body, /This server runs Shiny apps/);
      assert.match(res.body, /\/app\/&lt;name&gt;\//);
    }
  });

  test('an unknown path: a page for browsers, JSON for programs and under /api/', async () => {
    assertPage(await request(`${server.url}/no/such/page`, { headers: BROWSER }), 404, 'Page not found', '/no/such/page');
    assertJsonError(await request(`${server.url}/no/such/page`, { headers: PROGRAM }), 404, 'not_found', 'not found', 'program');
    assertJsonError(await request(`${server.url}/api/v1/nope`, { headers: BROWSER }), 404, 'not_found', 'not found', '/api/');
  });

  test('an unknown app', async () => {
    assertPage(await request(`${server.url}/app/no-such-app/`, { headers: BROWSER }), 404, 'App not found', 'unknown app');
    assertJsonError(await request(`${server.url}/app/no-such-app/`, { headers: PROGRAM }), 404, 'not_found', 'app not found', 'unknown app');
    assertPage(await request(`${server.url}/app/Not_An_App`, { headers: BROWSER }), 404, 'App not found', 'malformed name');
  });

  test('an app that was never published, and a disabled one', async () => {
    const created = await server.api('POST', '/api/v1/apps', { body: { name: 'empty' } });
    assert.equal(created.status, 201, created.body);
    assertPage(await request(`${server.url}/app/empty/`, { headers: BROWSER }), 503, 'This app is not ready yet', 'no bundle');
    assertJsonError(
      await request(`${server.url}/app/empty/`, { headers: PROGRAM }),
      503,
      'service_unavailable',
      'app has no active bundle',
      'no bundle',
    );

    assert.equal((await server.api('POST', '/api/v1/apps/empty/disable')).status, 200);
    assertPage(await request(`${server.url}/app/empty/`, { headers: BROWSER }), 503, 'This app is switched off', 'disabled');
    assertJsonError(await request(`${server.url}/app/empty/`, { headers: PROGRAM }), 503, 'service_unavailable', 'app is disabled', 'disabled');
  });

  test('a full server: a page that says to come back, with Retry-After', async () => {
    // max_workers = 1: the first session takes the only worker, and holds it
    // once its WebSocket connects (a worker no client connected to would
    // give its place to the next session).
    const first = await request(`${server.url}/app/hello/`, { headers: PROGRAM, timeoutMs: 120_000 });
    assert.equal(first.status, 200, `first session: ${first.status}${server.logTail()}`);
    const route = sessionIdOf(first);
    assert.ok(route, 'the first session got no cookie');
    const ws = await openSessionWebSocket(server, 'hello', route);
    try {
      const page = await request(`${server.url}/app/hello/`, { headers: BROWSER });
      assertPage(page, 503, 'The server is busy', 'capacity');
      assert.equal(page.headers['retry-after'], '30');
      const json = await request(`${server.url}/app/hello/`, { headers: PROGRAM });
      assertJsonError(json, 503, 'service_unavailable', 'server at capacity', 'capacity');
    } finally {
      ws.destroy();
    }
  });

  test("a worker's log has no Shiny Server warning", async () => {
    const args = ['logs', 'hello'];
    const logs = await waitFor(
      async () => {
        const r = await byAs(server, args);
        return r.code === 0 && /Listening on/.test(r.stdout) ? r : false;
      },
      { timeoutMs: 60_000, what: 'the worker log to show "Listening on"' },
    );
    assert.doesNotMatch(logs.stdout, /Shiny Server v[\d.]+ or later is required/, describeRun(args, logs));
  });
});
