// Resumable Shiny WebSockets in a real browser (docs/websocket-resume.md):
// the proxy injects its client script into the app page, holds the worker's
// WebSocket when the browser's connection is aborted, and re-attaches the
// browser to the same Shiny session with nothing lost or repeated; past
// ws_cache_ttl the page says the session ended; a clean close ends the R
// session at once.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';

import { launchChromium } from '../lib/browser.mjs';
import { deployFixture, runProcesses, sleep, startServer } from '../lib/harness.mjs';

const APP_READY_MS = 90_000;
const TTL_SECONDS = 6;
const ENDED_TEXT = 'Your session has ended';

// Aborts every browser-side TCP connection to the server (the WebSocket
// among them); the kernel resets them, as a network failure would.
function killBrowserConnections(port) {
  const out = execFileSync('ss', ['-K', '-t', 'dst', '127.0.0.1', 'dport', '=', `:${port}`], {
    encoding: 'utf8',
  });
  return out.split('\n').filter((l) => /ESTAB|CLOSE|SYN/.test(l)).length;
}

function rWorkers(server) {
  return runProcesses(server).filter((p) => p.kind === 'R').length;
}

describe('resumable WebSockets through the proxy', { timeout: 900_000 }, () => {
  let server;
  let browser;
  const contexts = [];

  before(async () => {
    server = await startServer({ config: { proxy: { ws_cache_ttl: `${TTL_SECONDS}s` } } });
    await deployFixture(server, 'counter', 'counter');
    browser = await launchChromium();
  });

  after(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close().catch(() => {});
    await server?.cleanup();
  });

  async function openApp() {
    const context = await browser.newContext();
    contexts.push(context);
    const page = await context.newPage();
    const sockets = [];
    page.on('websocket', (ws) => {
      const entry = { url: ws.url(), closed: false };
      ws.on('close', () => (entry.closed = true));
      sockets.push(entry);
    });
    const response = await page.goto(`${server.url}/app/counter/`, { waitUntil: 'domcontentloaded', timeout: APP_READY_MS });
    assert.equal(response?.status(), 200);
    await waitText(page, '#count', 'count 0');
    await page.waitForFunction(() => (window.blockyardTicks ?? []).length >= 2, null, { timeout: 30_000 });
    return { context, page, sockets };
  }

  async function waitText(page, selector, text, timeout = APP_READY_MS) {
    try {
      await page.waitForFunction(
        ([sel, want]) => (document.querySelector(sel)?.textContent ?? '').includes(want),
        [selector, text],
        { timeout, polling: 100 },
      );
    } catch (err) {
      const shown = await page.textContent('body').catch(() => '(page gone)');
      throw new Error(`${selector} never showed "${text}": ${err.message}\npage: ${shown?.slice(0, 400)}${server.logTail()}`);
    }
  }

  const ticks = (page) => page.evaluate(() => window.blockyardTicks.slice());
  const stats = async (page) => {
    const m = /pid (\d+) started (\d+) ended (\d+)/.exec((await page.textContent('#stats')) ?? '');
    return m ? { pid: Number(m[1]), started: Number(m[2]), ended: Number(m[3]) } : null;
  };

  test('an aborted connection resumes the same Shiny session with every message exactly once', async (t) => {
    const { page, sockets } = await openApp();
    const html = await page.content();
    assert.match(html, /data-blockyard="resilient-socket"/, 'the page did not get the client script');
    assert.ok(sockets[0]?.url.includes('blockyard_resume=new'), `first socket: ${sockets[0]?.url}`);

    for (let i = 1; i <= 3; i++) {
      await page.click('#inc');
      await waitText(page, '#count', `count ${i}`, 10_000);
    }
    const before = await stats(page);
    assert.deepEqual({ started: before.started, ended: before.ended }, { started: 1, ended: 0 });
    const workersBefore = rWorkers(server);
    const ticksBefore = await ticks(page);

    // Cut the browser off for 3 s: every connection it makes is aborted
    // (resumes that get through in between are cut again). The worker ticks on.
    let killed = 0;
    const cutUntil = Date.now() + 3_000;
    while (Date.now() < cutUntil) {
      killed += killBrowserConnections(server.port);
      await sleep(150);
    }
    t.diagnostic(`aborted ${killed} connection(s) from tick ${ticksBefore.at(-1)} on`);
    assert.ok(killed >= 1, 'ss -K found no connection to abort');

    assert.ok(sockets.length >= 2, `the page opened no second WebSocket: ${JSON.stringify(sockets)}`);
    assert.match(sockets.at(-1).url, /blockyard_resume=[A-Za-z0-9]+&last=\d+/);
    assert.ok(sockets[0].closed, 'the first WebSocket was not aborted');
    await page.waitForFunction(() => !document.getElementById('blockyard-reconnecting'), null, {
      timeout: TTL_SECONDS * 1000,
    });

    // Ticks sent during the gap arrive, then new ones keep coming.
    const gapTick = ticksBefore.at(-1) + 3;
    await page.waitForFunction((n) => window.blockyardTicks.at(-1) >= n + 2, gapTick, { timeout: 15_000 });
    const seen = await ticks(page);
    const expected = Array.from({ length: seen.at(-1) - seen[0] + 1 }, (_, i) => seen[0] + i);
    assert.deepEqual(seen, expected, 'ticks lost or repeated across the resume');
    assert.equal(seen[0], 1, 'the first tick was not recorded');
    // The proxy kept what the worker sent while the browser was away.
    const replays = [...server.logs.matchAll(/resumed \(replaying (\d+) message/g)].map((m) => Number(m[1]));
    t.diagnostic(`resumes: ${replays.length}, messages replayed: ${JSON.stringify(replays)}`);
    assert.ok(replays.some((n) => n > 0), `no resume replayed anything: ${JSON.stringify(replays)}`);

    // Same session: the counter goes on from 3, no second session started.
    await page.click('#inc');
    await waitText(page, '#count', 'count 4', 10_000);
    const afterResume = await stats(page);
    assert.equal(afterResume.pid, before.pid);
    assert.deepEqual({ started: afterResume.started, ended: afterResume.ended }, { started: 1, ended: 0 });
    assert.equal(rWorkers(server), workersBefore, 'a new worker was started for the resume');
    assert.equal(await page.locator('#blockyard-session-ended').count(), 0);
    assert.equal(await page.locator('#shiny-disconnected-overlay').count(), 0, "Shiny's grey screen showed");
  });

  test('a browser that stays away longer than ws_cache_ttl is told its session ended', async (t) => {
    const { page } = await openApp();
    const first = await stats(page);
    // Resume attempts fail as on a dead network until the proxy's TTL passed.
    let blocked = true;
    let refusedAttempts = 0;
    await page.routeWebSocket(/blockyard_resume=(?!new)/, (ws) => {
      if (blocked) {
        refusedAttempts++;
        ws.close();
      } else {
        ws.connectToServer();
      }
    });
    assert.ok(killBrowserConnections(server.port) >= 1, 'ss -K found no connection to abort');
    await sleep((TTL_SECONDS + 1) * 1000);
    blocked = false;
    t.diagnostic(`${refusedAttempts} resume attempt(s) blocked`);
    assert.ok(refusedAttempts >= 1, 'the page never tried to resume');

    const overlay = page.locator('#blockyard-session-ended');
    await overlay.waitFor({ state: 'visible', timeout: 20_000 });
    assert.match(await overlay.textContent(), new RegExp(ENDED_TEXT));

    // The held backend socket was closed: the R session ended. (Same worker:
    // the route cookie still pins this browser to it.)
    const page2 = await page.context().newPage();
    await page2.goto(`${server.url}/app/counter/`, { waitUntil: 'domcontentloaded', timeout: APP_READY_MS });
    await waitText(page2, '#stats', `pid ${first.pid} `);
    await waitText(page2, '#stats', `ended ${first.ended + 1}`, 10_000);
    await page2.close();
  });

  test('a clean close (navigating away) ends the R session at once', async () => {
    const { page } = await openApp();
    const first = await stats(page);
    assert.equal(first.ended, 0);
    await page.goto('about:blank');
    await page.goto(`${server.url}/app/counter/`, { waitUntil: 'domcontentloaded', timeout: APP_READY_MS });
    await waitText(page, '#stats', `pid ${first.pid} started ${first.started + 1} ended ${first.ended + 1}`, 5_000);
    // Not a resume: the new page starts from a fresh counter.
    await waitText(page, '#count', 'count 0', 10_000);
  });
});
