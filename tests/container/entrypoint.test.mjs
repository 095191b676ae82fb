// The image's entrypoint shim (docker/entrypoint.sh) and its hooks, run
// directly: a failing extras hook stops the start and says which hook and
// which exit code; a passing hook runs before the server logs anything; the
// server is the very process the shim started (exec, so it becomes PID 1 in
// the container). Also the R-versions policy: no rig call that needs the
// network when the wanted versions are already installed.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe as suite, test } from 'node:test';

import { freePort, pickWorkerPortRange, request, toToml, waitFor } from '../lib/harness.mjs';
import { BLOCKYARD_BIN, DOCKER_DIR, describe, run } from './lib.mjs';

const SHIM = path.join(DOCKER_DIR, 'entrypoint.sh');
const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'blockyard-entrypoint-'));
after(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));

function writeScript(name, body, mode = 0o755) {
  const file = path.join(tmpRoot, name);
  fs.writeFileSync(file, `#!/bin/sh\n${body}\n`, { mode });
  fs.chmodSync(file, mode);
  return file;
}

async function serverConfig() {
  const dir = fs.mkdtempSync(path.join(tmpRoot, 'data-'));
  const port = await freePort();
  const workers = await pickWorkerPortRange();
  const config = path.join(dir, 'blockyard.toml');
  fs.writeFileSync(
    config,
    toToml({
      server: { bind: `127.0.0.1:${port}`, backend: 'process', admin_token_file: path.join(dir, 'admin-token') },
      storage: { bundle_server_path: path.join(dir, 'bundles') },
      database: { path: path.join(dir, 'blockyard.db') },
      process: { port_range_start: workers.start, port_range_end: workers.end },
    }),
  );
  return { dir, port, config };
}

const shimEnv = (extras) => ({ ...process.env, BLOCKYARD_R_VERSIONS_SCRIPT: '', BLOCKYARD_EXTRAS_SCRIPT: extras });

suite('entrypoint shim', () => {
  test('a failing extras hook stops the start, naming the hook and its exit code', async () => {
    const marker = path.join(tmpRoot, 'server-started');
    const hook = writeScript('failing-extras.sh', 'echo "installing libfoo"\nexit 7');
    // If the shim went on, this "server" would leave a marker.
    const r = await run(['sh', SHIM, 'sh', '-c', `touch ${marker}`], { env: shimEnv(hook) });
    assert.equal(r.code, 7, describe(r));
    assert.match(r.stderr, new RegExp(`${hook.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} failed with exit code 7`), describe(r));
    assert.match(r.stderr, /not starting blockyard/, describe(r));
    assert.match(r.stdout, /installing libfoo/, 'the hook output reaches the container log');
    assert.ok(!fs.existsSync(marker), 'the server command ran although the hook failed');
  });

  test('a failing R-versions hook also stops the start', async () => {
    const hook = writeScript('failing-r.sh', 'exit 3');
    const r = await run(['sh', SHIM, 'true'], {
      env: { ...process.env, BLOCKYARD_R_VERSIONS_SCRIPT: hook, BLOCKYARD_EXTRAS_SCRIPT: '' },
    });
    assert.equal(r.code, 3, describe(r));
    assert.match(r.stderr, /R versions hook .* failed with exit code 3/, describe(r));
  });

  test('a hook without the execute bit still runs (with sh)', async () => {
    const marker = path.join(tmpRoot, 'noexec-ran');
    const hook = writeScript('noexec-extras.sh', `touch ${marker}`, 0o644);
    const r = await run(['sh', SHIM, 'true'], { env: shimEnv(hook) });
    assert.equal(r.code, 0, describe(r));
    assert.ok(fs.existsSync(marker), describe(r));
  });

  test('the shipped extras.sh is a no-op that succeeds', async () => {
    const r = await run(['sh', SHIM, 'echo', 'started'], { env: shimEnv(path.join(DOCKER_DIR, 'extras.sh')) });
    assert.equal(r.code, 0, describe(r));
    assert.equal(r.stdout.trim(), 'started', describe(r));
  });

  test('a passing hook finishes before the server logs, and the server is the process the shim started', async () => {
    const marker = path.join(tmpRoot, 'extras-done');
    const hook = writeScript('marker-extras.sh', `sleep 0.3\ntouch ${marker}`);
    const { port, config } = await serverConfig();
    const child = spawn('sh', [SHIM, BLOCKYARD_BIN, '--config', config], {
      env: shimEnv(hook),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let markerAtFirstServerLine;
    const onData = (d) => {
      output += d;
      // The shim's own lines start with "blockyard-entrypoint:"; anything
      // else after the hook is the server's.
      if (markerAtFirstServerLine === undefined) {
        const serverLine = output.split('\n').find((l) => l.trim() && !l.startsWith('blockyard-entrypoint:'));
        if (serverLine) markerAtFirstServerLine = fs.existsSync(marker);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    try {
      await waitFor(async () => (await request(`http://127.0.0.1:${port}/healthz`, { timeoutMs: 2000 })).status === 200, {
        timeoutMs: 30_000,
        what: `server behind the shim on port ${port}\n${output}`,
      });
      assert.equal(markerAtFirstServerLine, true, `the server logged before the hook finished:\n${output}`);
      // exec: the shell's pid now runs blockyard with the shim's arguments.
      assert.equal(fs.realpathSync(`/proc/${child.pid}/exe`), fs.realpathSync(BLOCKYARD_BIN));
      const argv = fs.readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
      assert.deepEqual(argv.slice(1), ['--config', config]);
    } finally {
      child.kill('SIGTERM');
    }
    const { code } = await exited;
    assert.equal(code, 0, `blockyard exited ${code} after SIGTERM:\n${output}`);
  });
});

suite('R-versions policy (docker/r-versions.sh) with a recording rig', () => {
  // rig itself needs the network; a stand-in records what the policy asks of it.
  function fakeRig() {
    const dir = fs.mkdtempSync(path.join(tmpRoot, 'rig-'));
    fs.mkdirSync(path.join(dir, 'bin'));
    const log = path.join(dir, 'calls');
    fs.writeFileSync(path.join(dir, 'bin', 'rig'), `#!/bin/sh\necho "$*" >> ${log}\n`, { mode: 0o755 });
    const installed = (v) => {
      fs.mkdirSync(path.join(dir, 'R', v, 'bin'), { recursive: true });
      fs.writeFileSync(path.join(dir, 'R', v, 'bin', 'R'), '#!/bin/sh\n', { mode: 0o755 });
    };
    const calls = () => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim().split('\n') : []);
    const env = (extra = {}) => ({ ...process.env, PATH: `${dir}/bin:${process.env.PATH}`, R_ROOT: path.join(dir, 'R'), ...extra });
    return { installed, calls, env };
  }
  const script = path.join(DOCKER_DIR, 'r-versions.sh');

  test('nothing to add: only `rig default` (local) runs, newest version by number', async () => {
    const rig = fakeRig();
    rig.installed('4.9.1');
    rig.installed('4.10.0');
    const r = await run(['sh', script], { env: rig.env() });
    assert.equal(r.code, 0, describe(r));
    assert.deepEqual(rig.calls(), ['default 4.10.0']);
  });

  test('a missing pinned version is added; R_DEFAULT is honoured', async () => {
    const rig = fakeRig();
    rig.installed('4.4.1');
    const r = await run(['sh', script], { env: rig.env({ R_VERSIONS: 'release 4.3.3', R_DEFAULT: '4.4.1' }) });
    assert.equal(r.code, 0, describe(r));
    assert.deepEqual(rig.calls(), ['add 4.3.3', 'default 4.4.1']);
  });

  test('without rig (the Debian image): links the distribution R where process.r_path points', async () => {
    const links = fs.mkdtempSync(path.join(tmpRoot, 'links-'));
    const env = { ...process.env, PATH: '/usr/bin:/bin', R_LINK_DIR: links };
    const r = await run(['sh', script], { env });
    assert.equal(r.code, 0, describe(r));
    assert.equal(fs.readlinkSync(path.join(links, 'R')), '/usr/bin/R');
    assert.equal(fs.readlinkSync(path.join(links, 'Rscript')), '/usr/bin/Rscript');
    // At the next container start there is nothing left to do.
    const again = await run(['sh', script], { env });
    assert.equal(again.code, 0, describe(again));
    // Pinned versions need rig: a clear refusal, not a silent default.
    const pinned = await run(['sh', script], { env: { ...env, R_VERSIONS: 'release 4.3.3' } });
    assert.equal(pinned.code, 1, describe(pinned));
    assert.match(pinned.stderr, /need rig, which this image does not have/);
  });

  test('no R at all: installs the release, and fails clearly if that produced nothing', async () => {
    const rig = fakeRig();
    const r = await run(['sh', script], { env: rig.env() });
    assert.deepEqual(rig.calls(), ['add release']);
    assert.notEqual(r.code, 0, describe(r));
    assert.match(r.stderr, /no R installed/, describe(r));
  });
});
