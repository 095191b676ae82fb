// Scale to zero: with [proxy] idle_worker_timeout = "3s", a worker whose
// session made only plain HTTP requests is stopped once it has been idle that
// long (its bwrap and R processes go away and the runtime API shows no live
// worker); the old cookie then leads to a fresh session. A worker with an
// open WebSocket is busy, however long that socket stays quiet.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  appRuntime,
  assertNoLeftovers,
  cleanupWithoutLeftovers,
  deployFixture,
  describeProcesses,
  liveWorkers,
  openWebSocket,
  parseSetCookies,
  request,
  runProcesses,
  sleep,
  startServer,
  stillAlive,
  waitFor,
  workerProcesses,
} from '../lib/harness.mjs';

const IDLE_TIMEOUT_S = 3;

describe('idle workers are stopped', { timeout: 600_000 }, () => {
  let server;

  before(async () => {
    server = await startServer({ config: { proxy: { idle_worker_timeout: `${IDLE_TIMEOUT_S}s` } } });
    await deployFixture(server, 'echo', 'echo');
  });

  after(() => cleanupWithoutLeftovers(server));

  // A new session over plain HTTP; resolves its cookie and the worker
  // processes that appeared for it.
  async function newHttpSession() {
    const before = new Set(workerProcesses(server).map((p) => p.pid));
    const r = await request(`${server.url}/app/echo/headers`);
    assert.equal(r.status, 200, `status ${r.status} body ${r.body.slice(0, 300)}${server.logTail()}`);
    const route = parseSetCookies(r.cookies).blockyard_route;
    assert.ok(route?.value, `no blockyard_route cookie: ${JSON.stringify(r.cookies)}`);
    const procs = workerProcesses(server).filter((p) => !before.has(p.pid));
    assert.ok(
      procs.some((p) => p.kind === 'R') && procs.some((p) => p.kind === 'bwrap'),
      `the new session started no bwrap/R worker:\n${describeProcesses(runProcesses(server))}`,
    );
    return { cookie: `blockyard_route=${route.value}`, value: route.value, procs };
  }

  test('a worker used only over HTTP is stopped after idle_worker_timeout; its cookie then gets a new session', async () => {
    const session = await newHttpSession();
    const servedAt = Date.now();

    // Not stopped at once: it serves the session's next requests.
    const again = await request(`${server.url}/app/echo/headers`, { headers: { cookie: session.cookie } });
    assert.equal(again.status, 200, `second request: ${again.status}${server.logTail()}`);
    assert.equal(parseSetCookies(again.cookies).blockyard_route, undefined, 'the live session got a new cookie');
    const [live] = liveWorkers(await appRuntime(server, 'echo'));
    assert.ok(live, 'runtime should show the live worker');
    // Sampled from the worker's cgroup or /proc: an R process holding shiny
    // uses tens of MB, and its tree has at least bwrap's child and R.
    assert.ok(live.stats, `no stats for a live worker: ${JSON.stringify(live)}`);
    assert.ok(live.stats.memory_usage_bytes > 20 * 1024 * 1024, `memory: ${JSON.stringify(live.stats)}`);
    assert.ok(live.stats.processes >= 1, `processes: ${JSON.stringify(live.stats)}`);

    await waitFor(() => stillAlive(session.procs).length === 0, {
      timeoutMs: 60_000,
      intervalMs: 250,
      what: `the idle worker's processes to exit:\n${describeProcesses(session.procs)}`,
    });
    const stoppedAfterMs = Date.now() - servedAt;
    assert.ok(
      stoppedAfterMs >= (IDLE_TIMEOUT_S - 1) * 1000,
      `worker stopped ${stoppedAfterMs} ms after its last request, before idle_worker_timeout (${IDLE_TIMEOUT_S}s)`,
    );
    assert.equal(workerProcesses(server).length, 0, `worker processes remain:\n${describeProcesses(workerProcesses(server))}`);

    const runtime = await waitFor(
      async () => {
        const rt = await appRuntime(server, 'echo');
        return liveWorkers(rt).length === 0 ? rt : false;
      },
      { timeoutMs: 15_000, what: 'the runtime API to show no live worker' },
    );
    assert.equal(runtime.active_sessions, 0, `active sessions after the idle stop: ${JSON.stringify(runtime)}`);

    // The old cookie no longer pins a worker: a fresh session and worker.
    const fresh = await request(`${server.url}/app/echo/headers`, { headers: { cookie: session.cookie } });
    assert.equal(fresh.status, 200, `request with the old cookie: ${fresh.status} ${fresh.body.slice(0, 300)}${server.logTail()}`);
    const reissued = parseSetCookies(fresh.cookies).blockyard_route;
    assert.ok(reissued?.value, `no new cookie for the stale session: ${JSON.stringify(fresh.cookies)}`);
    assert.notEqual(reissued.value, session.value, 'the stale session id was reused');
    const procs = workerProcesses(server);
    assert.ok(procs.some((p) => p.kind === 'R'), `no new R worker:\n${describeProcesses(runProcesses(server))}`);
    assert.equal(liveWorkers(await appRuntime(server, 'echo')).length, 1, 'runtime should show the new worker');

    // Leave no worker for the next test.
    await waitFor(() => workerProcesses(server).length === 0, {
      timeoutMs: 60_000,
      what: `the second idle worker to stop:\n${describeProcesses(procs)}`,
    });
  });

  test('a worker with an open WebSocket is not stopped, however quiet; it is once the socket closes', async () => {
    const session = await newHttpSession();
    const ws = await openWebSocket(`${server.url.replace('http', 'ws')}/app/echo/websocket/`, {
      headers: { cookie: session.cookie, Origin: server.url },
    });
    try {
      assert.equal(ws.status, 101, `upgrade refused:\n${ws.rawHead}${server.logTail()}`);
      ws.sendText(JSON.stringify({ method: 'init', data: {} }));
      await ws.nextMessage((m) => typeof m === 'string' && m.includes('"config"'), 60_000);

      // Quiet for well past the timeout (several sweeps).
      await sleep((IDLE_TIMEOUT_S * 3 + 2) * 1000);
      assert.ok(ws.isOpen(), `the proxy closed the WebSocket: ${JSON.stringify(await Promise.race([ws.closed, sleep(10).then(() => null)]))}`);
      assert.deepEqual(
        stillAlive(session.procs).map((p) => p.pid).sort(),
        session.procs.map((p) => p.pid).sort(),
        `worker processes of a session with an open WebSocket were stopped${server.logTail()}`,
      );
      const runtime = await appRuntime(server, 'echo');
      assert.equal(liveWorkers(runtime).length, 1, `runtime: ${JSON.stringify(runtime)}`);

      // The socket still works end to end.
      ws.sendText(JSON.stringify({ method: 'update', data: { probe: 1 } }));
      assert.ok(ws.isOpen(), 'the WebSocket closed after a message');
    } finally {
      await ws.close(1000);
    }

    // Closed: now the worker becomes idle and goes away.
    await waitFor(() => stillAlive(session.procs).length === 0, {
      timeoutMs: 60_000,
      intervalMs: 250,
      what: `the worker to stop after its WebSocket closed:\n${describeProcesses(session.procs)}`,
    });
  });

  test('SIGTERM leaves no worker behind', async () => {
    const snapshot = runProcesses(server);
    await server.stop();
    await assertNoLeftovers(server, snapshot);
  });
});
