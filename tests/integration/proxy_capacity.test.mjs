// Capacity: a burst of new sessions gets one worker each, started at most
// [proxy] max_concurrent_starts at a time (the rest wait in the spawn queue);
// at [proxy] max_workers, with every session live (its WebSocket open: a
// worker whose WebSocket never connected would give its place,
// session_commit.test.mjs), the next new session is refused with the
// original's 503 "server at capacity". Pre-warming: with pre_warmed_sessions = 1 a warm
// worker waits for the next session, which gets the app's page straight away
// (not the loading page) far faster than a cold start measured in the same
// run, and the pool is refilled afterwards.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  appRuntime,
  cleanupWithoutLeftovers,
  deployFixture,
  liveWorkers,
  openSessionWebSocket,
  parseSetCookies,
  request,
  startServer,
  waitFor,
} from '../lib/harness.mjs';

const SESSIONS = 20;
const MAX_STARTS = 2;

// Start/end events of worker start-ups in the server log, in log order.
function startEvents(logs, since) {
  const events = [];
  for (const line of logs.slice(since).split('\n')) {
    let m = /worker (\S+) starting for app/.exec(line);
    if (m) events.push({ id: m[1], delta: +1 });
    m = /worker (\S+) (ready on|failed to start)/.exec(line);
    if (m) events.push({ id: m[1], delta: -1 });
  }
  return events;
}

function peakConcurrentStarts(events) {
  const starting = new Set();
  let peak = 0;
  for (const e of events) {
    if (e.delta > 0) starting.add(e.id);
    else starting.delete(e.id);
    peak = Math.max(peak, starting.size);
  }
  return peak;
}

const JSON_ACCEPT = { accept: 'application/json' };

describe('worker capacity and pre-warming', { timeout: 900_000 }, () => {
  let server;
  const routes = [];
  const sockets = [];

  before(async () => {
    server = await startServer({
      config: {
        proxy: {
          max_workers: SESSIONS,
          max_concurrent_starts: MAX_STARTS,
          idle_worker_timeout: '10m',
          // The burst's sessions open their WebSockets only in the second test.
          session_commit_grace: '10m',
          max_uncommitted_workers: SESSIONS,
          worker_start_timeout: '120s',
          // The burst below is one client; keep the /app limit out of the way.
          app_rate_limit_per_minute: 0,
        },
      },
    });
    await deployFixture(server, 'echo', 'burst');
  });

  after(() => cleanupWithoutLeftovers(server, { timeoutMs: 30_000 }));

  test(`${SESSIONS} concurrent new sessions get ${SESSIONS} workers, at most ${MAX_STARTS} starting at once`, async () => {
    const logStart = server.logs.length;
    const responses = await Promise.all(
      Array.from({ length: SESSIONS }, () =>
        request(`${server.url}/app/burst/headers`, { headers: JSON_ACCEPT, timeoutMs: 300_000 }),
      ),
    );
    const cookies = new Set();
    for (const [i, r] of responses.entries()) {
      assert.equal(r.status, 200, `session ${i}: ${r.status} ${r.body.slice(0, 200)}${server.logTail()}`);
      const route = parseSetCookies(r.cookies).blockyard_route;
      assert.ok(route?.value, `session ${i} got no routing cookie`);
      cookies.add(route.value);
      routes.push(route.value);
    }
    assert.equal(cookies.size, SESSIONS, 'every request started its own session');

    const workers = liveWorkers(await appRuntime(server, 'burst'));
    assert.equal(workers.length, SESSIONS, `live workers: ${JSON.stringify(workers.map((w) => w.status))}`);
    const sessionsOfWorkers = workers.map((w) => w.sessions.length);
    assert.deepEqual(
      sessionsOfWorkers.filter((n) => n !== 1),
      [],
      `each worker serves exactly one session: ${sessionsOfWorkers}`,
    );
    const bound = new Set(workers.flatMap((w) => w.sessions.map((s) => s.id)));
    assert.deepEqual([...cookies].filter((c) => !bound.has(c)), [], 'every cookie names a live session');

    const events = startEvents(server.logs, logStart);
    assert.equal(events.filter((e) => e.delta > 0).length, SESSIONS, `start events:${server.logTail(80)}`);
    const peak = peakConcurrentStarts(events);
    assert.ok(peak <= MAX_STARTS, `${peak} workers were starting at once (limit ${MAX_STARTS})`);
    assert.ok(peak >= 1);
    assert.match(server.logs.slice(logStart), /queued: \d+ workers already starting/, 'the burst never queued');
  });

  test('at max_workers, every session live, a new session gets 503 "server at capacity"', async () => {
    // Each session proves to be a live client: its WebSocket connects.
    for (const route of routes) {
      sockets.push(await openSessionWebSocket(server, 'burst', route));
    }
    assert.equal(liveWorkers(await appRuntime(server, 'burst')).length, SESSIONS, 'the WebSockets started no worker');
    const refused = await request(`${server.url}/app/burst/headers`, { headers: JSON_ACCEPT });
    assert.equal(refused.status, 503, `${refused.status} ${refused.body}`);
    assert.match(refused.body, /server at capacity/);
    assert.equal(parseSetCookies(refused.cookies).blockyard_route, undefined, 'a refused session gets no cookie');
  });

  test('a pre-warmed worker serves a new session at once and is replaced', async () => {
    // Make room: the burst's workers go with their app.
    for (const ws of sockets) ws.destroy();
    const disabled = await server.api('POST', '/api/v1/apps/burst/disable');
    assert.equal(disabled.status, 200, disabled.body);
    await waitFor(async () => liveWorkers(await appRuntime(server, 'burst')).length === 0, {
      timeoutMs: 60_000,
      what: 'the burst workers to stop',
    });

    await deployFixture(server, 'echo', 'warm');
    // A cold start, measured here on this machine: a new session of an app
    // with no worker, waiting for R (a non-browser client waits).
    const coldStart = Date.now();
    const cold = await request(`${server.url}/app/warm/`, { headers: JSON_ACCEPT });
    const coldMs = Date.now() - coldStart;
    assert.equal(cold.status, 200, `cold start: ${cold.status}${server.logTail()}`);
    assert.match(cold.body, /blockyard echo/);

    const patched = await server.api('PATCH', '/api/v1/apps/warm', { body: { pre_warmed_sessions: 1 } });
    assert.equal(patched.status, 200, patched.body);
    const idleWarm = (runtime) =>
      liveWorkers(runtime).filter((w) => w.sessions.length === 0 && w.status === 'active');
    await waitFor(async () => idleWarm(await appRuntime(server, 'warm')).length === 1, {
      timeoutMs: 120_000,
      what: 'a ready pre-warmed worker',
    });

    // A browser's first visit: without a warm worker this is the loading page.
    const warmStart = Date.now();
    const warm = await request(`${server.url}/app/warm/`, { headers: { accept: 'text/html' } });
    const warmMs = Date.now() - warmStart;
    assert.equal(warm.status, 200);
    assert.match(warm.body, /blockyard echo/, 'the app page itself, not the loading page');
    assert.doesNotMatch(warm.body, /Starting /, 'got the loading page');
    assert.ok(parseSetCookies(warm.cookies).blockyard_route?.value, 'the warm session got a cookie');
    assert.ok(warmMs < coldMs / 3, `warm session took ${warmMs} ms, cold start ${coldMs} ms`);

    // The claimed worker now serves that session; a new warm one follows.
    await waitFor(
      async () => {
        const runtime = await appRuntime(server, 'warm');
        return idleWarm(runtime).length === 1 && liveWorkers(runtime).length === 3;
      },
      { timeoutMs: 120_000, what: 'the warm pool to be refilled (cold + claimed + new warm worker)' },
    );
  });
});
