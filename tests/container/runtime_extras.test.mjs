// The extras hook (/etc/blockyard/extras.sh) bind-mounted into a real
// container: a failing hook stops the container before the server starts and
// the log names it; a passing hook installs a Debian package before the
// server starts, and a worker can use it.

import assert from 'node:assert/strict';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { byAs, describeRun, request } from '../lib/harness.mjs';
import { BY_BIN, describe as describeResult } from './lib.mjs';
import { FLAGS, removeLabelled, runOnce, startContainer, writeTempFile } from './podman.mjs';

process.env.BY_BIN ??= BY_BIN;
const SUITE = 'extras';

describe('extras hook in the container', { timeout: 900_000 }, () => {
  let tmp;
  let server;

  before(async () => {
    await removeLabelled(SUITE);
    tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'blockyard-extras-'));
    await fsp.chmod(tmp, 0o755);
  });

  after(async () => {
    await server?.cleanup();
    await removeLabelled(SUITE);
    await fsp.rm(tmp, { recursive: true, force: true });
  });

  test('a failing hook: the container exits with its code, the log names it, the server never listens', async () => {
    const hook = await writeTempFile(tmp, 'failing-extras.sh', '#!/bin/sh\necho "installing libfoo"\nexit 9\n');
    const r = await runOnce({ suite: SUITE, flags: FLAGS.userns, mounts: [`${hook}:/etc/blockyard/extras.sh:ro`] });
    const log = `${r.stdout}${r.stderr}`;
    assert.equal(r.code, 9, describeResult(r));
    assert.match(log, /extras hook \/etc\/blockyard\/extras\.sh failed with exit code 9; not starting blockyard/);
    assert.match(log, /installing libfoo/);
    assert.doesNotMatch(log, /listening on http|"level"/, 'blockyard ran although the hook failed');
  });

  test('a passing hook installs a Debian package before the server starts; a worker uses it', async () => {
    const hook = await writeTempFile(
      tmp,
      'extras.sh',
      [
        '#!/bin/sh',
        'set -e',
        'apt-get update -qq',
        'apt-get install -y -qq --no-install-recommends hello',
        'rm -rf /var/lib/apt/lists/*',
        'echo "extras: hello installed"',
      ].join('\n'),
    );
    server = await startContainer({
      suite: SUITE,
      flags: FLAGS.userns,
      mounts: [`${hook}:/etc/blockyard/extras.sh:ro`],
      startTimeoutMs: 300_000,
    });
    const log = await server.refreshLogs();
    const installed = log.indexOf('extras: hello installed');
    const listening = log.search(/blockyard \S+ listening on http/);
    assert.ok(installed >= 0, `the hook's output is not in the log${server.logTail()}`);
    assert.ok(listening > installed, `the server started before the hook finished${server.logTail()}`);

    const app = path.join(tmp, 'uses-hello');
    await fsp.mkdir(app);
    await fsp.writeFile(
      path.join(app, 'app.R'),
      [
        'library(shiny)',
        '# Runs in the worker sandbox when it sources app.R.',
        'greeting <- paste(system2("hello", stdout = TRUE), collapse = " ")',
        'ui <- fluidPage(tags$pre(id = "greeting", greeting))',
        'shinyApp(ui, function(input, output) {})',
      ].join('\n'),
    );
    const args = ['deploy', app, '--name', 'uses-hello', '--yes', '--wait'];
    const r = await byAs(server, args, { timeoutMs: 300_000 });
    assert.equal(r.code, 0, describeRun(args, r));
    const page = await request(`${server.url}/app/uses-hello/`, { timeoutMs: 120_000 });
    assert.equal(page.status, 200, `${page.status} ${page.body.slice(0, 300)}`);
    assert.match(page.body, /<pre id="greeting">Hello, world!<\/pre>/);
  });
});
