// An app's status comes from what its workers did: an app whose R code fails
// at start is "failing" with the reason (not "running"); the reason and R's
// own output reach `by logs`; a start that takes longer than
// worker_start_timeout and a worker killed with SIGKILL (what the OOM killer
// sends) are explained in the same places; `by logs -f` says how the worker
// ended and exits non-zero when it died. The loading page changes its
// heading on a failure and shows an anonymous visitor one plain sentence,
// never R's output.

import assert from 'node:assert/strict';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { launchChromium } from '../lib/browser.mjs';
import { byAs, deployFixture, describeRun, findByName, request, startServer, tryParseJson, waitFor } from '../lib/harness.mjs';

const PROGRAM = { accept: 'application/json' };
const START_TIMEOUT_S = 10;

// Replaces the fixture's app.R with `code` before deploying.
const withAppR = (code) => async (dir) => fsp.writeFile(path.join(dir, 'app.R'), code);

describe('app status and failure explanations', { timeout: 900_000 }, () => {
  let server;

  before(async () => {
    server = await startServer({ config: { proxy: { worker_start_timeout: `${START_TIMEOUT_S}s` } } });
    await deployFixture(server, 'hello', 'broken', {
      prepare: withAppR('cat("reading the configuration\\n")\nstop("boom: DATABASE_URL is not set")\n'),
    });
    await deployFixture(server, 'hello', 'slow', { prepare: withAppR('Sys.sleep(600)\n') });
    await deployFixture(server, 'hello', 'killed', {
      // Serves, then dies by SIGKILL a few seconds later, as the OOM killer does it.
      prepare: withAppR(
        'library(shiny)\nlater::later(function() tools::pskill(Sys.getpid(), 9L), 4)\n' +
          'shinyApp(fluidPage("alive"), function(input, output) {})\n',
      ),
    });
  });

  after(async () => {
    await server?.cleanup();
  });

  async function appInfo(name) {
    const args = ['list', '--json'];
    const r = await byAs(server, args);
    assert.equal(r.code, 0, describeRun(args, r));
    return findByName(tryParseJson(r.stdout), name);
  }

  test('an app that fails at start is "failing" with its reason, and by logs shows R output and the reason', async () => {
    const res = await request(`${server.url}/app/broken/`, { headers: PROGRAM, timeoutMs: 120_000 });
    assert.equal(res.status, 503, `${res.status} ${res.body}`);

    const app = await waitFor(async () => {
      const a = await appInfo('broken');
      return a?.status === 'failing' ? a : false;
    }, { timeoutMs: 30_000, what: 'by list to show broken as failing' });
    assert.match(app.status_reason, /^R exited with code 1 during start-up$/);

    const get = await byAs(server, ['get', 'broken']);
    assert.match(get.stdout, /Status:\s+failing \(R exited with code 1 during start-up\)/, describeRun(['get', 'broken'], get));

    const logs = await byAs(server, ['logs', 'broken']);
    assert.equal(logs.code, 0, describeRun(['logs', 'broken'], logs));
    assert.match(logs.stdout, /boom: DATABASE_URL is not set/);
    assert.match(logs.stdout, /\[blockyard\] worker failed to start: R exited with code 1 during start-up/);
  });

  test('a start that exceeds worker_start_timeout says so', async () => {
    const res = await request(`${server.url}/app/slow/`, { headers: PROGRAM, timeoutMs: 120_000 });
    assert.equal(res.status, 503, `${res.status} ${res.body}`);
    const app = await waitFor(async () => {
      const a = await appInfo('slow');
      return a?.status === 'failing' ? a : false;
    }, { timeoutMs: 30_000, what: 'slow to be failing' });
    assert.equal(app.status_reason, `the app did not start within ${START_TIMEOUT_S} s (proxy.worker_start_timeout)`);
    const logs = await byAs(server, ['logs', 'slow']);
    assert.match(logs.stdout, /worker failed to start: the app did not start within/, describeRun(['logs', 'slow'], logs));
  });

  test('a worker killed by SIGKILL: by logs -f says so and exits 1; the app is failing', async () => {
    const res = await request(`${server.url}/app/killed/`, { headers: PROGRAM, timeoutMs: 120_000 });
    assert.equal(res.status, 200, `${res.status} ${res.body}${server.logTail()}`);
    const args = ['logs', 'killed', '-f'];
    const follow = await byAs(server, args, { timeoutMs: 60_000 });
    assert.equal(follow.code, 1, `by logs -f must fail when the worker dies${describeRun(args, follow)}`);
    assert.match(follow.stderr, /Error: worker \S+ exited: R was killed \(exit code 137: SIGKILL, most likely out of memory\)/, describeRun(args, follow));
    const app = await appInfo('killed');
    assert.equal(app.status, 'failing');
    assert.match(app.status_reason, /exit code 137/);
  });

  test('the loading page: the heading says the app could not start, and a visitor sees no R output', async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.goto(`${server.url}/app/broken/`, { waitUntil: 'domcontentloaded' });
      await page.waitForFunction(() => /could not start/.test(document.getElementById('heading')?.textContent ?? ''), null, {
        timeout: 60_000,
      });
      const heading = await page.textContent('#heading');
      assert.equal(heading, 'broken could not start');
      const text = await page.textContent('body');
      assert.match(text, /The app stopped with an error while starting\./);
      assert.doesNotMatch(text, /Starting broken/);
      assert.doesNotMatch(text, /boom|DATABASE_URL|exited with code/, 'an anonymous visitor must not see R output or internals');
    } finally {
      await browser.close();
    }
  });
});
