// A real browser (Debian's Chromium via playwright-core) against the real
// server: the loading page hands over to the Shiny app, R computes output over
// the proxied WebSocket, each browser session gets its own worker and keeps it
// across reloads, and nothing survives the server's SIGTERM.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { launchChromium } from '../lib/browser.mjs';
import {
  assertNoLeftovers,
  deployFixture,
  describeProcesses,
  runProcesses,
  startServer,
} from '../lib/harness.mjs';

const APP_READY_MS = 90_000; // cold start: bwrap spawn + R + shiny load

// "n squared is 25 (pid 12, worker 104621.547597-461950926)" → parts.
function parseResult(text) {
  const m = /n squared is (\S+) \(pid (\d+), worker ([^)]+)\)/.exec(text ?? '');
  return m ? { square: m[1], pid: Number(m[2]), worker: m[3] } : null;
}

describe('browser sessions through the proxy', { timeout: 900_000 }, () => {
  let server;
  let browser;
  const contexts = [];
  let firstWorker; // {pid, worker} of the first context's session

  before(async () => {
    server = await startServer();
    await deployFixture(server, 'hello', 'hello');
    browser = await launchChromium();
  });

  after(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close().catch(() => {});
    await server?.cleanup();
  });

  // Opens /app/hello/ in a new context; records the first document the server
  // sent and every WebSocket the page opened.
  async function openSession() {
    const context = await browser.newContext();
    contexts.push(context);
    const page = await context.newPage();
    const sockets = [];
    page.on('websocket', (ws) => sockets.push(ws.url()));
    const documents = [];
    const readyPolls = [];
    page.on('request', (req) => {
      if (req.url().includes('/app/hello/__blockyard/ready')) readyPolls.push(req.url());
    });
    page.on('response', (res) => {
      if (res.request().resourceType() !== 'document') return;
      const entry = { url: res.url(), status: res.status(), body: '' };
      entry.loaded = res.text().then((b) => (entry.body = b), () => {});
      documents.push(entry);
    });
    const response = await page.goto(`${server.url}/app/hello/`, { waitUntil: 'domcontentloaded', timeout: APP_READY_MS });
    assert.ok(response, 'no response for /app/hello/');
    assert.equal(response.status(), 200, `first document status ${response.status()}${server.logTail()}`);
    return { context, page, sockets, documents, readyPolls };
  }

  async function resultFor(page, square) {
    try {
      await page.waitForFunction(
        (want) => (document.querySelector('#result')?.textContent ?? '').includes(`n squared is ${want} `),
        square,
        { timeout: APP_READY_MS, polling: 200 },
      );
    } catch (err) {
      const shown = await page.textContent('body').catch(() => '(page gone)');
      throw new Error(
        `#result never showed "n squared is ${square}": ${err.message}\npage text: ${shown?.slice(0, 500)}${server.logTail()}`,
      );
    }
    const parsed = parseResult(await page.textContent('#result'));
    assert.ok(parsed, `unexpected #result text: ${await page.textContent('#result')}`);
    return parsed;
  }

  test('a new browser session gets the app (via the loading page) and R output over the WebSocket', async (t) => {
    const workersBefore = runProcesses(server).filter((p) => p.kind === 'R');
    const { page, sockets, documents, readyPolls } = await openSession();
    const first = await resultFor(page, 25);
    firstWorker = first;

    if (workersBefore.length === 0) {
      // No worker existed, so the first HTML request must have been answered
      // by the loading page, which polls readiness and then reloads.
      await Promise.all(documents.map((d) => d.loaded));
      assert.ok(documents.length >= 2, `expected loading page then app, got ${documents.length} document(s)`);
      assert.ok(
        readyPolls.length >= 1,
        `the first document never polled __blockyard/ready: ${documents[0].body.slice(0, 300)}`,
      );
      assert.doesNotMatch(documents[0].body, /id="result"/, 'the first document was already the app');
      t.diagnostic(`loading page served, ${readyPolls.length} readiness poll(s), then ${documents.length - 1} reload(s)`);
    } else {
      t.diagnostic(`a worker already ran (${workersBefore.length} R process(es)); loading page not required`);
    }
    t.diagnostic(`first session: ${JSON.stringify(first)}`);

    const appSocket = `ws://127.0.0.1:${server.port}/app/hello/`;
    assert.ok(
      sockets.some((u) => u.startsWith(appSocket)),
      `no WebSocket opened under ${appSocket}; saw: ${JSON.stringify(sockets)}`,
    );

    await page.fill('#n', '7');
    const changed = await resultFor(page, 49);
    assert.equal(changed.worker, first.worker, 'the input change was answered by a different worker');
    assert.equal(changed.pid, first.pid);
  });

  test('reloading keeps the session on the same worker', async () => {
    assert.ok(firstWorker, 'needs the session of the previous test');
    const page = contexts[0].pages()[0];
    await page.reload({ waitUntil: 'domcontentloaded', timeout: APP_READY_MS });
    const again = await resultFor(page, 25);
    assert.equal(again.worker, firstWorker.worker, `reload moved the session to another worker (${again.worker} vs ${firstWorker.worker})`);
    assert.equal(again.pid, firstWorker.pid);
  });

  test('a second browser session is served by a different worker process', async (t) => {
    assert.ok(firstWorker, 'needs the session of the first test');
    const { page } = await openSession();
    const second = await resultFor(page, 25);
    assert.notEqual(second.worker, firstWorker.worker, 'two browser sessions share one worker');
    t.diagnostic(`second session: ${JSON.stringify(second)}`);

    const rWorkers = runProcesses(server).filter((p) => p.kind === 'R');
    assert.ok(rWorkers.length >= 2, `two sessions but ${rWorkers.length} R process(es):\n${describeProcesses(runProcesses(server))}`);

    // The first session is still alive and still computes on its own worker.
    const firstPage = contexts[0].pages()[0];
    await firstPage.fill('#n', '3');
    const stillFirst = await resultFor(firstPage, 9);
    assert.equal(stillFirst.worker, firstWorker.worker);
  });

  test('SIGTERM with open browser sessions exits 0 and leaves no bwrap or R process', async () => {
    const snapshot = runProcesses(server);
    assert.ok(snapshot.some((p) => p.kind === 'R'), `expected R workers before shutdown:\n${describeProcesses(snapshot)}`);
    const info = await server.stop();
    assert.equal(info.code, 0);
    await assertNoLeftovers(server, snapshot);
  });
});
