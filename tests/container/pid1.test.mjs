// The containerized deployment, simulated without a Docker engine: blockyard
// runs as PID 1 of a fresh PID namespace (unshare --pid --fork --mount-proc),
// under the outer seccomp profile applied the way Docker applies it, with
// Docker's default capabilities (seccomp-docker-exec). It must start, deploy
// a real Shiny app with `by`, serve it through its proxy from a bwrap worker,
// refuse in-place updates with 501, and leave nothing behind on SIGTERM.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe as suite, test } from 'node:test';

import {
  byAs,
  copyFixtureApp,
  describeProcesses,
  describeRun,
  freePort,
  listProcesses,
  makeTempDir,
  pickWorkerPortRange,
  processKind,
  request,
  toToml,
  waitFor,
} from '../lib/harness.mjs';
import { BLOCKYARD_BIN, BY_BIN, DOCKER_DEFAULT_PROFILE, LOADER_BIN, OUTER_PROFILE } from './lib.mjs';

// The harness's `by` helpers read BY_BIN from the environment at import time
// only when set by CTest; point them at the binary this suite resolved.
process.env.BY_BIN ??= BY_BIN;

function childrenOf(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function statusField(pid, field) {
  const text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return new RegExp(`^${field}:\\s*(.*)$`, 'm').exec(text)?.[1];
}

// Every process below `root` (host pids), with kinds.
function descendants(root) {
  const procs = listProcesses();
  const out = [];
  const want = new Set([root]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of procs) {
      if (!want.has(p.pid) && want.has(p.ppid)) {
        want.add(p.pid);
        out.push({ ...p, kind: processKind(p) });
        grew = true;
      }
    }
  }
  return out.filter((p) => p.state !== 'Z');
}

// Starts blockyard as PID 1 under `profile`; resolves once /healthz is 200.
async function startContained(profile) {
  const dataDir = await makeTempDir('pid1');
  const port = await freePort();
  const workers = await pickWorkerPortRange();
  const tokenFile = path.join(dataDir, 'admin-token');
  const configPath = path.join(dataDir, 'blockyard.toml');
  fs.writeFileSync(
    configPath,
    toToml({
      server: { bind: `127.0.0.1:${port}`, backend: 'process', admin_token_file: tokenFile, log_level: 'debug' },
      storage: { bundle_server_path: path.join(dataDir, 'bundles') },
      database: { path: path.join(dataDir, 'blockyard.db') },
      process: { port_range_start: workers.start, port_range_end: workers.end },
      proxy: { worker_start_timeout: '90s' },
    }),
  );
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('BLOCKYARD_')) delete env[k];
  const child = spawn(
    'unshare',
    ['--pid', '--fork', '--mount-proc', LOADER_BIN, '--profile', profile, '--', BLOCKYARD_BIN, '--config', configPath],
    { cwd: dataDir, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let logs = '';
  child.stdout.on('data', (d) => (logs += d));
  child.stderr.on('data', (d) => (logs += d));
  let exitInfo = null;
  const exited = new Promise((resolve) =>
    child.on('exit', (code, signal) => {
      exitInfo = { code, signal };
      resolve(exitInfo);
    }),
  );
  const server = {
    url: `http://127.0.0.1:${port}`,
    dataDir,
    workerPorts: workers,
    get logs() {
      return logs;
    },
    logTail: (n = 60) => `\n----- blockyard log -----\n${logs.split('\n').slice(-n).join('\n')}\n-----`,
    exited,
    get exitInfo() {
      return exitInfo;
    },
    unsharePid: child.pid,
    // The server's host pid: unshare's only child.
    get pid() {
      return childrenOf(child.pid)[0];
    },
    async kill() {
      if (exitInfo) return;
      const pid = server.pid;
      if (pid) process.kill(pid, 'SIGKILL');
      child.kill('SIGKILL');
      await exited;
    },
  };
  await waitFor(
    async () => {
      if (exitInfo) throw Object.assign(new Error(`server exited: ${JSON.stringify(exitInfo)}${server.logTail()}`), { fatal: true });
      return (await request(`${server.url}/healthz`, { timeoutMs: 2000 })).status === 200;
    },
    { timeoutMs: 60_000, what: `PID-1 blockyard /healthz${server.logTail()}` },
  ).catch(async (err) => {
    await server.kill();
    throw err;
  });
  server.token = await waitFor(() => fs.existsSync(tokenFile) && fs.readFileSync(tokenFile, 'utf8').trim(), {
    what: 'admin token file',
  });
  return server;
}

suite('blockyard as PID 1 under the outer seccomp profile', { timeout: 900_000 }, () => {
  let server;
  before(async () => {
    server = await startContained(OUTER_PROFILE);
  });
  after(async () => {
    await server?.kill();
  });

  test('the server is PID 1 of its namespace, with Docker default capabilities and the filter', () => {
    const pid = server.pid;
    assert.ok(pid, 'no server process under unshare');
    assert.equal(fs.realpathSync(`/proc/${pid}/exe`), fs.realpathSync(BLOCKYARD_BIN));
    assert.equal(statusField(pid, 'NSpid').split(/\s+/).at(-1), '1');
    assert.equal(statusField(pid, 'CapBnd'), '00000000a80425fb');
    assert.equal(statusField(pid, 'Seccomp'), '2');
  });

  // Docker's default capability set has no CAP_SYS_ADMIN: the backend cannot
  // stage the bundle in a private mount namespace, so bwrap binds it from the
  // data directory, which the worker GID may search.
  test('by deploy builds the hello app and the proxy serves it from a bwrap worker', async () => {
    const dir = await copyFixtureApp('hello');
    const args = ['deploy', dir, '--name', 'hello', '--yes', '--wait'];
    const r = await byAs(server, args, { timeoutMs: 300_000 });
    assert.equal(r.code, 0, `${describeRun(args, r)}${server.logTail()}`);

    // A non-browser client: the proxy holds the request until the worker is ready.
    const page = await request(`${server.url}/app/hello/`, { timeoutMs: 120_000 });
    assert.equal(page.status, 200, `status ${page.status} ${page.body.slice(0, 300)}${server.logTail()}`);
    assert.match(page.body, /blockyard hello/);
    assert.match(page.body, /shiny/i);
    const workers = descendants(server.pid);
    assert.ok(workers.some((p) => p.kind === 'bwrap'), `no bwrap below PID 1:\n${describeProcesses(workers)}`);
    assert.ok(workers.some((p) => p.kind === 'R'), `no R below PID 1:\n${describeProcesses(workers)}`);
  });

  test('POST /api/v1/admin/update and /rollback answer 501 naming the container runtime', async (t) => {
    for (const verb of ['update', 'rollback']) {
      const res = await request(`${server.url}/api/v1/admin/${verb}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${server.token}`, accept: 'application/json' },
      });
      if (res.status === 404) {
        t.todo(`server has no /api/v1/admin/${verb} route yet (PID-1 code proposed in issue 5)`);
        return;
      }
      assert.equal(res.status, 501, `${verb}: ${res.status} ${res.body}`);
      const body = JSON.parse(res.body);
      assert.equal(body.error, 'not_implemented');
      assert.match(body.message, /container runtime/);
    }
  });

  test('by admin update and by admin rollback print the message and exit non-zero', async (t) => {
    for (const verb of ['update', 'rollback']) {
      const args = ['admin', verb, '--yes'];
      const r = await byAs(server, args);
      assert.notEqual(r.code, 0, describeRun(args, r));
      if (/HTTP 404|not found/i.test(r.stderr)) {
        t.todo(`server has no /api/v1/admin/${verb} route yet`);
        return;
      }
      assert.match(r.stderr, /container runtime/, describeRun(args, r));
    }
  });

  test('SIGTERM to PID 1: clean exit, no bwrap or R left', async () => {
    const before = descendants(server.pid).filter((p) => p.kind !== 'other');
    process.kill(server.pid, 'SIGTERM');
    const timer = setTimeout(() => server.kill(), 60_000);
    const { code, signal } = await server.exited;
    clearTimeout(timer);
    assert.equal(code, 0, `exit ${code} signal ${signal}${server.logTail()}`);
    const alive = new Set(listProcesses().map((p) => `${p.pid}/${p.startTime}`));
    const left = before.filter((p) => alive.has(`${p.pid}/${p.startTime}`));
    assert.deepEqual(left, [], `left behind:\n${describeProcesses(left)}`);
  });
});

suite('blockyard under the unmodified Docker default profile', { timeout: 300_000 }, () => {
  test('a worker cannot be spawned and the app is not served', async () => {
    let server;
    try {
      server = await startContained(DOCKER_DEFAULT_PROFILE);
    } catch (err) {
      // Preflight refuses to start, naming what to pass: nothing is served.
      assert.match(err.message, /--security-opt seccomp=/);
      return;
    }
    try {
      const dir = await copyFixtureApp('hello');
      await byAs(server, ['deploy', dir, '--name', 'hello', '--yes', '--wait'], { timeoutMs: 300_000 });
      const page = await request(`${server.url}/app/hello/`, { timeoutMs: 120_000 });
      assert.notEqual(page.status, 200, `served under the default profile?${server.logTail()}`);
      // bwrap's own words ("No permissions to create new namespace") stay in
      // the worker's log; the server log records the failed start.
      assert.match(server.logs, /failed to start/, server.logTail());
    } finally {
      await server.kill();
    }
  });

  test('bwrap cannot create the sandbox and the server says what to pass', async () => {
    let server;
    try {
      server = await startContained(DOCKER_DEFAULT_PROFILE);
    } catch (err) {
      // Refusing to start is a fine answer too, if it says why.
      assert.match(err.message, /--security-opt seccomp=/);
      return;
    }
    try {
      await waitFor(() => /security-opt seccomp=/.test(server.logs), { timeoutMs: 10_000, what: 'preflight message' });
    } finally {
      await server.kill();
    }
  });
});
