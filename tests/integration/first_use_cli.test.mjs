// What a new publisher meets first with `by`, against the real server:
// deleting asks first (and scripts say --yes), renaming keeps the old URL
// alive, a former name is not silently deployed to, a failed first deploy
// leaves no empty app, shiny's example directories ("01_hello") deploy under
// a valid name, an https:// URL against this plain-HTTP server fails at once
// with a hint, and the server reads ./blockyard.toml without --config.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  BLOCKYARD_BIN,
  BY_BIN,
  FIXTURES_DIR,
  byAs,
  copyFixtureApp,
  describeRun,
  freePort,
  makeTempDir,
  request,
  tryParseJson,
  waitFor,
  startServer,
  by,
} from '../lib/harness.mjs';

// Runs `by` on a pseudo-terminal (util-linux `script`), typing `input`.
function byOnTerminal(server, args, input) {
  return new Promise((resolve) => {
    const command = [BY_BIN, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
    const child = spawn('script', ['-q', '-e', '-c', command, '/dev/null'], {
      env: { ...process.env, BLOCKYARD_URL: server.url, BLOCKYARD_TOKEN: server.token },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d.toString('utf8')));
    child.stderr.on('data', (d) => (output += d.toString('utf8')));
    // Answer once the question is on the terminal.
    const answer = setInterval(() => {
      if (/\[y\/N\]/.test(output)) {
        clearInterval(answer);
        child.stdin.write(input);
      }
    }, 50);
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (code) => {
      clearInterval(answer);
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe('by, as a new publisher meets it', { timeout: 900_000 }, () => {
  let server;

  before(async () => {
    server = await startServer();
  });

  after(async () => {
    await server?.cleanup();
  });

  async function byOk(args, opts) {
    const r = await byAs(server, args, opts);
    assert.equal(r.code, 0, `unexpected failure${describeRun(args, r)}${server.logTail()}`);
    return r;
  }

  async function appNames() {
    const r = await byOk(['list', '--json']);
    return (tryParseJson(r.stdout)?.apps ?? []).map((a) => a.name).sort();
  }

  async function deploy(dir, extra = []) {
    return byAs(server, ['deploy', dir, '--yes', '--wait', ...extra], { timeoutMs: 300_000 });
  }

  test('a shiny example directory (01_hello) deploys as "hello", with a warning saying so', async () => {
    const parent = await makeTempDir('examples');
    const dir = path.join(parent, '01_hello');
    await fsp.cp(path.join(FIXTURES_DIR, 'shiny-examples', '01_hello'), dir, { recursive: true });
    const r = await deploy(dir);
    assert.equal(r.code, 0, `deploy of 01_hello failed${describeRun(['deploy', dir], r)}${server.logTail()}`);
    assert.match(r.stderr, /directory name "01_hello" is not a valid app name.*deploying as "hello"/);
    assert.deepEqual(await appNames(), ['hello']);
    const page = await request(`${server.url}/app/hello/`, { timeoutMs: 120_000 });
    assert.equal(page.status, 200, `GET /app/hello/: ${page.status}${server.logTail()}`);

    const bad = await byAs(server, ['deploy', dir, '--yes', '--name', '01_hello']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /invalid app name "01_hello": .*try --name hello/, describeRun(['deploy'], bad));
  });

  test('by delete asks on a terminal, refuses without one unless --yes', async () => {
    const args = ['delete', 'hello'];
    const refused = await byAs(server, args);
    assert.equal(refused.code, 1, describeRun(args, refused));
    assert.match(refused.stderr, /needs confirmation; pass --yes/);
    assert.deepEqual(await appNames(), ['hello'], 'a refused delete deleted the app');

    const declined = await byOnTerminal(server, args, 'n\n');
    assert.match(declined.output, /Delete app hello, stop its workers and remove its bundles\? \[y\/N\]/);
    assert.match(declined.output, /Aborted\./);
    assert.equal(declined.code, 0, declined.output);
    assert.deepEqual(await appNames(), ['hello'], 'answering "n" deleted the app');

    const accepted = await byOnTerminal(server, args, 'y\n');
    assert.match(accepted.output, /Deleted hello\./, accepted.output);
    assert.deepEqual(await appNames(), []);
  });

  test('by rename: the new name serves, the old URL keeps working, deploying to the old name is refused', async () => {
    const first = await deploy(await copyFixtureApp('hello'), ['--name', 'sales']);
    assert.equal(first.code, 0, `deploy failed${describeRun(['deploy'], first)}${server.logTail()}`);
    const renamed = await byOk(['rename', 'sales', 'revenue']);
    assert.match(renamed.stdout, /Renamed sales to revenue\./);
    assert.deepEqual(await appNames(), ['revenue']);
    const info = tryParseJson((await byOk(['get', 'revenue', '--json'])).stdout);
    const bundles = tryParseJson((await byOk(['bundles', 'revenue', '--json'])).stdout).bundles;

    const viaOld = await request(`${server.url}/app/sales/`, { timeoutMs: 120_000 });
    assert.equal(viaOld.status, 200, `the old URL must keep working during the alias phase: ${viaOld.status}`);

    const dir = await copyFixtureApp('counter');
    const args = ['deploy', dir, '--yes', '--name', 'sales'];
    const former = await byAs(server, args);
    assert.equal(former.code, 1, `deploying to a former name must fail${describeRun(args, former)}`);
    assert.match(former.stderr, /"sales" is a former name of app "revenue" \(renamed\); deploy to it with --name revenue/);
    const after = tryParseJson((await byOk(['bundles', 'revenue', '--json'])).stdout).bundles;
    assert.equal(after.length, bundles.length, 'a bundle was uploaded to the renamed app');
    const same = tryParseJson((await byOk(['get', 'revenue', '--json'])).stdout);
    assert.equal(same.active_bundle, info.active_bundle);

    const invalid = await byAs(server, ['rename', 'revenue', 'Q3 Revenue']);
    assert.equal(invalid.code, 1);
    assert.match(invalid.stderr, /invalid app name "Q3 Revenue".*try q3-revenue/);
  });

  test('a first deploy the server rejects leaves no app behind; a later failed deploy keeps the app', async () => {
    const dir = await copyFixtureApp('no-entrypoint');
    const args = ['deploy', dir, '--yes', '--name', 'broken'];
    const r = await byAs(server, args);
    assert.equal(r.code, 1, describeRun(args, r));
    assert.match(r.stderr, /Removed app broken, which this deploy created\./, describeRun(args, r));
    assert.ok(!(await appNames()).includes('broken'), 'the failed first deploy left app "broken" behind');

    // An existing app is never removed by a failed deploy.
    const again = await byAs(server, ['deploy', dir, '--yes', '--name', 'revenue']);
    assert.equal(again.code, 1);
    assert.doesNotMatch(again.stderr, /Removed app/);
    assert.ok((await appNames()).includes('revenue'));
  });

  test('an https:// URL against this plain-HTTP server fails at once and says to use http://', async () => {
    const url = server.url.replace('http://', 'https://');
    const started = Date.now();
    const r = await by(['list'], { env: { BLOCKYARD_URL: url, BLOCKYARD_TOKEN: server.token }, timeoutMs: 60_000 });
    const took = Date.now() - started;
    assert.equal(r.code, 1, describeRun(['list'], r));
    assert.ok(took < 10_000, `by took ${took} ms to fail (the header timeout is 30 s)`);
    assert.match(r.stderr, new RegExp(`use ${server.url.replace(/[.]/g, '\\.')}`), describeRun(['list'], r));
  });
});

describe('blockyard without --config', { timeout: 120_000 }, () => {
  test('reads ./blockyard.toml from its working directory', async () => {
    const dir = await makeTempDir('cwd-config');
    const port = await freePort();
    await fsp.writeFile(
      path.join(dir, 'blockyard.toml'),
      [
        '[server]',
        `bind = "127.0.0.1:${port}"`,
        'skip_preflight = true',
        `admin_token_file = "${path.join(dir, 'token')}"`,
        '[database]',
        `path = "${path.join(dir, 'db.sqlite')}"`,
        '[storage]',
        `bundle_server_path = "${path.join(dir, 'bundles')}"`,
        '',
      ].join('\n'),
    );
    const env = { ...process.env };
    for (const k of Object.keys(env)) if (k.startsWith('BLOCKYARD_')) delete env[k];
    const child = spawn(BLOCKYARD_BIN, [], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let logs = '';
    child.stdout.on('data', (d) => (logs += d));
    child.stderr.on('data', (d) => (logs += d));
    const exited = new Promise((resolve) => child.on('exit', resolve));
    try {
      await waitFor(async () => (await request(`http://127.0.0.1:${port}/healthz`, { timeoutMs: 2_000 })).status === 200, {
        timeoutMs: 30_000,
        what: `the server to listen on the port of ./blockyard.toml\n${logs}`,
      });
      assert.match(logs, /no --config given: reading \.\/blockyard\.toml/);
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  });
});
