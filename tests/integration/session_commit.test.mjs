// Workers are committed to live Shiny clients (issue 11, symptoms 1 and 2).
// A session's worker is its for good only once the app's WebSocket connects.
// Requests that never open one (curl, crawlers, link previews) cost a worker
// for [proxy] session_commit_grace at most, keep at most
// max_uncommitted_workers, and give their place to a new session when the
// server is full: five cookieless GETs on a server of three workers leave a
// browser its session. A worker whose WebSocket closed goes after the same
// grace (a reload within it finds it again). After a redeploy the old
// bundle's draining workers never count toward max_workers_per_app, and go
// as soon as their browsers have.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  appRuntime,
  cleanupWithoutLeftovers,
  deployFixture,
  liveWorkers,
  openSessionWebSocket,
  request,
  sessionIdOf,
  sleep,
  startServer,
  waitFor,
} from '../lib/harness.mjs';

const GRACE_S = 4;


// The runtime's worker serving session `sid` (live workers list their sessions).
async function workerOfSession(server, app, sid) {
  const runtime = await appRuntime(server, app);
  return liveWorkers(runtime).find((w) => (w.sessions ?? []).some((s) => s.id === sid));
}

async function workerById(server, app, id) {
  return (await appRuntime(server, app)).workers.find((w) => w.id === id);
}

// What a browser does: the page (the loading page while the worker starts),
// the ready poll, the page again, then Shiny's WebSocket, which gets Shiny's
// first message. Returns {sid, cookie, ws}.
async function browserSession(server, app, { cookie } = {}) {
  const html = { accept: 'text/html' };
  const first = await request(`${server.url}/app/${app}/`, { headers: { ...html, ...(cookie ? { cookie } : {}) } });
  assert.equal(first.status, 200, `browser's first GET: ${first.status} ${first.body.slice(0, 200)}${server.logTail()}`);
  const sid = sessionIdOf(first) ?? cookie?.split('=')[1];
  assert.ok(sid, 'the browser got no session');
  const jar = `blockyard_route=${sid}`;
  await waitFor(
    async () => {
      const r = await request(`${server.url}/app/${app}/__blockyard/ready`, { headers: { cookie: jar } });
      const state = JSON.parse(r.body);
      assert.ok(!state.failed && !state.restart, `ready endpoint: ${r.body}${server.logTail()}`);
      return state.ready;
    },
    { timeoutMs: 90_000, what: "the browser's worker to be ready" },
  );
  const page = await request(`${server.url}/app/${app}/`, { headers: { ...html, cookie: jar } });
  assert.equal(page.status, 200);
  assert.match(page.body, /blockyard hello/, 'the app page');
  const ws = await openSessionWebSocket(server, app, sid);
  await ws.nextMessage((m) => typeof m === 'string' && m.includes('config'), 30_000);
  return { sid, cookie: jar, ws };
}

describe('workers are committed to live Shiny clients', { timeout: 600_000 }, () => {
  let server;

  before(async () => {
    server = await startServer({
      config: {
        proxy: {
          max_workers: 3,
          session_commit_grace: `${GRACE_S}s`,
          max_uncommitted_workers: 2,
          idle_worker_timeout: '10m',
        },
      },
    });
    await deployFixture(server, 'hello', 'hello');
  });

  after(() => cleanupWithoutLeftovers(server));

  test(`a worker whose WebSocket never connected is stopped after session_commit_grace (${GRACE_S}s)`, async () => {
    const r = await request(`${server.url}/app/hello/`);
    assert.equal(r.status, 200, `${r.status}${server.logTail()}`);
    const worker = await workerOfSession(server, 'hello', sessionIdOf(r));
    assert.ok(worker, 'the curl session has a worker');
    const ended = await waitFor(
      async () => {
        const w = await workerById(server, 'hello', worker.id);
        return w && !liveWorkers({ workers: [w] }).length && w;
      },
      { timeoutMs: 30_000, intervalMs: 500, what: "the curl session's worker to stop" },
    );
    assert.match(ended.end_reason ?? '', new RegExp(`no WebSocket connected within ${GRACE_S} s`), JSON.stringify(ended));
  });

  test('five cookieless GETs with max_workers = 3 leave a browser its session', async () => {
    for (let i = 0; i < 5; i++) {
      const r = await request(`${server.url}/app/hello/`);
      assert.equal(r.status, 200, `curl ${i}: ${r.status} ${r.body.slice(0, 200)}${server.logTail()}`);
      assert.ok(sessionIdOf(r), `curl ${i} got no session`);
      const live = liveWorkers(await appRuntime(server, 'hello'));
      assert.ok(live.length <= 3, `${live.length} workers`);
    }
    const browser = await browserSession(server, 'hello');
    try {
      const mine = await workerOfSession(server, 'hello', browser.sid);
      assert.ok(mine, "the browser's session has a live worker");
      // Once the curls' requests are over, at most max_uncommitted_workers
      // of their workers stay, and only for the grace.
      await waitFor(async () => liveWorkers(await appRuntime(server, 'hello')).length <= 3, {
        what: 'at most 3 workers',
      });
      await waitFor(
        async () => {
          const live = liveWorkers(await appRuntime(server, 'hello'));
          return live.length === 1 && live[0].id === mine.id;
        },
        { timeoutMs: 30_000, intervalMs: 500, what: "only the browser's worker to stay" },
      );
      const reasons = (await appRuntime(server, 'hello')).workers.map((w) => w.end_reason).filter(Boolean);
      // Whichever came first: a new session took the place of the oldest, or
      // the sweep stopped those beyond max_uncommitted_workers; then the grace.
      assert.ok(
        reasons.some((r) => /its place went to a new session|more than 2 workers without a WebSocket/.test(r)),
        `the curls' workers gave way before their grace: ${JSON.stringify(reasons)}`,
      );
    } finally {
      await browser.ws.close(1000);
    }
  });

  test('a live session keeps its worker; once its WebSocket closed the worker goes after the grace', async () => {
    const browser = await browserSession(server, 'hello');
    const worker = await workerOfSession(server, 'hello', browser.sid);
    assert.ok(worker);
    await sleep((GRACE_S + 2) * 1000);
    assert.ok(await workerOfSession(server, 'hello', browser.sid), 'an open WebSocket keeps the worker, however quiet');

    // A reload: the WebSocket closes and a new one opens with the same cookie.
    await browser.ws.close(1001);
    await sleep(1000);
    const again = await openSessionWebSocket(server, 'hello', browser.sid);
    await again.nextMessage((m) => typeof m === 'string' && m.includes('config'), 30_000);
    assert.equal((await workerOfSession(server, 'hello', browser.sid))?.id, worker.id, 'the reload found its worker');

    await again.close(1001); // the tab closed
    const closedAt = Date.now();
    const ended = await waitFor(
      async () => {
        const w = await workerById(server, 'hello', worker.id);
        return w && !liveWorkers({ workers: [w] }).length && w;
      },
      { timeoutMs: 30_000, intervalMs: 250, what: 'the closed session’s worker to stop' },
    );
    assert.ok(Date.now() - closedAt < 5 * 60_000);
    assert.match(ended.end_reason ?? '', new RegExp(`its session's WebSocket closed over ${GRACE_S} s`), JSON.stringify(ended));
    const next = await request(`${server.url}/app/hello/`, { headers: { cookie: browser.cookie } });
    assert.equal(next.status, 200);
    assert.ok(sessionIdOf(next) && sessionIdOf(next) !== browser.sid, 'the old cookie leads to a new session');
  });
});

describe('draining old bundles never block the new one', { timeout: 600_000 }, () => {
  let server;

  before(async () => {
    server = await startServer({ config: { proxy: { max_workers: 10, idle_worker_timeout: '10m' } } });
    await deployFixture(server, 'hello', 'hello');
    const patched = await server.api('PATCH', '/api/v1/apps/hello', { body: { max_workers_per_app: 2 } });
    assert.equal(patched.status, 200, patched.body);
  });

  after(() => cleanupWithoutLeftovers(server));

  test('after a redeploy with max_workers_per_app = 2, new sessions start beside two draining workers, which go with their browsers', async () => {
    const old = [await browserSession(server, 'hello'), await browserSession(server, 'hello')];
    const oldWorkers = [];
    for (const b of old) oldWorkers.push((await workerOfSession(server, 'hello', b.sid)).id);
    await deployFixture(server, 'hello', 'hello');
    await waitFor(
      async () => {
        const live = liveWorkers(await appRuntime(server, 'hello'));
        return oldWorkers.every((id) => live.find((w) => w.id === id)?.status === 'draining');
      },
      { what: 'the old workers to drain' },
    );

    // Both draining workers still serve their open sessions.
    const fresh = await browserSession(server, 'hello');
    try {
      const second = await request(`${server.url}/app/hello/`);
      assert.equal(second.status, 200, `second new session: ${second.status} ${second.body.slice(0, 200)}${server.logTail()}`);
      for (const b of old) assert.ok(b.ws.isOpen(), 'a draining worker keeps its live session');

      // Their browsers leave: the draining workers go at once, not after minutes.
      for (const b of old) await b.ws.close(1001);
      const ended = await waitFor(
        async () => {
          const workers = (await appRuntime(server, 'hello')).workers;
          const mine = oldWorkers.map((id) => workers.find((w) => w.id === id));
          return mine.every((w) => w && !liveWorkers({ workers: [w] }).length) && mine;
        },
        { timeoutMs: 15_000, intervalMs: 250, what: 'the draining workers to stop once their browsers left' },
      );
      for (const w of ended) assert.match(w.end_reason ?? '', /its bundle was replaced/, JSON.stringify(w));
    } finally {
      await fresh.ws.close(1000);
    }
  });
});
