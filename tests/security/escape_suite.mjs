// The security suite, shared by the host run (sandbox_escape.test.mjs) and
// the real-container runs (tests/container/runtime_security.test.mjs): apps
// whose R code attacks its own sandbox from inside a real bwrap worker, and reports each attempt's outcome (fixture
// tests/fixtures/security/probe). Every attempt must FAIL, and each test
// asserts the failure itself (the errno or its message), not merely that no
// success was reported: an attempt that could not run at all fails the test.
//
// Set-up, as an operator following docs/native-mode.md would have it:
// - the data directory lives outside /tmp (workers get a private /tmp, so a
//   data dir there would be hidden for free) and has mode 0755, like
//   `install -d -m 0755 /var/lib/blockyard`; whatever the server creates
//   inside it is the server's responsibility;
// - [process] seccomp_profile points at the inner filter the build compiles
//   (<build>/seccomp.bpf, or $BLOCKYARD_SECCOMP_BPF);
// - the server runs as root, so workers get their own host UIDs.
//
// The fork and memory tests are bounded so they cannot hurt the machine even
// when limits are missing: at most 2000 sleeping processes for 8 s (each also
// killed by alarm()), at most 2 GiB of memory.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  BLOCKYARD_BIN,
  FIXTURES_DIR,
  assertNoLeftovers,
  byAs,
  describeProcesses,
  describeRun,
  listProcesses,
  request,
  residentBytes,
  sleep,
  tryParseJson,
  waitFor,
  workerProcesses,
} from '../lib/harness.mjs';

const PROBE_FIXTURE = path.join(FIXTURES_DIR, 'security', 'probe');
const HELLO_FIXTURE = path.join(FIXTURES_DIR, 'apps', 'hello');

const EPERM = 1;
const ENOENT = 2;
const ESRCH = 3;
const EAGAIN = 11;
const EACCES = 13;
const EINVAL = 22; // uid 0 is not mapped in the worker's user namespace
const ENOSPC = 28; // user namespaces disabled inside (max_user_namespaces = 0)
const EROFS = 30;

const ZERO_CAPS = '0000000000000000';

// The pid of host process `pid` in the pid namespace just above the
// sandboxes: NSpid lists it from the host's namespace down to its own.
function outerPid(pid) {
  const nspid = statusFields(pid).NSpid?.split(/\s+/).map(Number) ?? [pid];
  return nspid.length >= 3 ? nspid[nspid.length - 2] : nspid[0];
}

// Fields of /proc/<pid>/status as {name: value}.
function statusFields(pid) {
  const out = {};
  for (const line of fs.readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')) {
    const m = /^(\w+):\s*(.*)$/.exec(line);
    if (m) out[m[1]] = m[2];
  }
  return out;
}

const random = () => Math.random().toString(36).slice(2, 10);

// Sleep processes on the host whose argument is `1000.<tag>`.
function lingering(tag) {
  return listProcesses().filter((p) => p.state !== 'Z' && p.argv.some((a) => a === `1000.${tag}`));
}

function killAll(list) {
  for (const p of list) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}

// "Cookie:" header value replaying every cookie of a response.
function cookieHeader(res) {
  return res.cookies.map((c) => c.split(';')[0]).join('; ');
}

// Defines the suite against the server `start()` resolves (a harness server,
// or a container from tests/container/podman.mjs). Options:
//   inside(hostPath)  the path a worker would use for a file of the server's
//                     data directory (a container sees its volume at /data)
//   procfs            "fresh" (default) or "none": with [process]
//                     worker_procfs = "none" the worker has no /proc, so what
//                     it would read there is read from the host instead
//   chmodDataDir      make the data dir 0755 like `install -d` (host only)
export function escapeSuite(title, { start, inside = (p) => p, procfs = 'fresh', chmodDataDir = true }) {
describe(title, { timeout: 900_000 }, () => {
  let root; // 0755 parent of every temp dir of this suite, outside /tmp
  let savedTmpdir;
  let helperBinary;
  let server;
  let probe; // the JSON report of app sec-b's /probe
  const probeQuery = {};

  // Copies the probe fixture with the helper binary and `extra` files into a
  // fresh dir and deploys it as `name`.
  async function deployProbe(name, extra = {}) {
    const dir = path.join(await fsp.mkdtemp(path.join(root, `app-${name}-`)), name);
    await fsp.cp(PROBE_FIXTURE, dir, { recursive: true });
    await fsp.copyFile(helperBinary, path.join(dir, 'helper'));
    for (const [file, content] of Object.entries(extra)) await fsp.writeFile(path.join(dir, file), content);
    await deployDir(dir, name);
  }

  async function deployDir(dir, name) {
    const args = ['deploy', dir, '--name', name, '--yes', '--wait'];
    const r = await byAs(server, args, { timeoutMs: 300_000 });
    assert.equal(r.code, 0, `deploy of ${name} failed${describeRun(args, r)}${server.logTail()}`);
  }

  async function getJson(app, route, { query = {}, headers = {}, timeoutMs = 180_000 } = {}) {
    const qs = new URLSearchParams(query).toString();
    const url = `${server.url}/app/${app}/${route}${qs ? `?${qs}` : ''}`;
    const res = await request(url, { headers, timeoutMs });
    const json = tryParseJson(res.body);
    assert.equal(res.status, 200, `GET ${url}: ${res.status} ${res.body.slice(0, 500)}${server.logTail()}`);
    assert.ok(json, `GET ${url}: not JSON: ${res.body.slice(0, 500)}`);
    return { res, json };
  }

  // Asserts the attempt `name` failed with one of `errnos` (helper results)
  // or an error message matching `message` (R results).
  function assertBlocked(result, name, { errnos, message }) {
    const shown = JSON.stringify(result);
    assert.ok(result && typeof result === 'object', `${name}: no result in the probe report`);
    assert.notEqual(result.ok, true, `${name}: the attempt SUCCEEDED inside the sandbox: ${shown}`);
    assert.equal(result.ok, false, `${name}: the attempt did not run, so its failure is unproven: ${shown}`);
    if (errnos) {
      assert.ok(errnos.includes(result.errno), `${name}: failed with errno ${result.errno} (${result.error}), expected one of ${errnos}: ${shown}`);
    }
    if (message) assert.match(result.error, message, `${name}: unexpected failure: ${shown}`);
  }

  before(async () => {
    root = await fsp.mkdtemp('/var/tmp/blockyard-security-');
    await fsp.chmod(root, 0o755);
    savedTmpdir = process.env.TMPDIR;
    process.env.TMPDIR = root; // startServer's data dir and by's homes go here

    helperBinary = path.join(root, 'helper');
    execFileSync('gcc', ['-static', '-O1', '-o', helperBinary, path.join(PROBE_FIXTURE, 'helper.c')]);

    server = await start();
    // As `install -d -m 0755 /var/lib/blockyard` leaves it (see the header).
    if (chmodDataDir) await fsp.chmod(server.dataDir, 0o755);
  });

  after(async () => {
    await server?.cleanup();
    if (savedTmpdir === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = savedTmpdir;
    if (root) await fsp.rm(root, { recursive: true, force: true });
  });

  test('deploy the attacker (sec-b), its victim (sec-a) and a bystander (sec-hello)', async () => {
    const secret = `victim-secret-${random()}`;
    await deployProbe('sec-a', { 'victim-secret.txt': secret });
    await deployProbe('sec-b');
    const hello = path.join(await fsp.mkdtemp(path.join(root, 'app-hello-')), 'hello');
    await fsp.cp(HELLO_FIXTURE, hello, { recursive: true });
    await deployDir(hello, 'sec-hello');

    // Where the server unpacked sec-a, on the host.
    const found = [];
    const walk = (dir, depth) => {
      if (depth > 4) return;
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) walk(p, depth + 1);
        else if (e.name === 'victim-secret.txt' && fs.readFileSync(p, 'utf8') === secret) found.push(p);
      }
    };
    walk(server.dataDir, 0);
    assert.ok(found.length > 0, `sec-a's unpacked bundle not found under ${server.dataDir}`);
    probeQuery.other_bundle_file = inside(found[0]);
    probeQuery.other_bundle_dir = path.dirname(inside(found[0]));
    probeQuery.bundles_root = inside(path.join(server.dataDir, 'bundles'));
    probeQuery.data_dir = inside(server.dataDir);
    probeQuery.database = inside(path.join(server.dataDir, 'blockyard.db'));
    probeQuery.token_file = inside(server.tokenFile ?? path.join(server.dataDir, 'admin-token'));
    // A pid that names the server somewhere (on the host); in a container its
    // own number there is 1, which inside a sandbox is the sandbox's init.
    probeQuery.server_pid = String(server.pid);
    assert.ok(fs.existsSync(path.join(server.dataDir, 'blockyard.db')), `no database in ${server.dataDir}`);
  });

  test('sec-a writes a marker into its /tmp, then sec-b runs every attempt', async () => {
    const name = `secmarker-${random()}`;
    const { json: marker } = await getJson('sec-a', 'marker', { query: { name } });
    assert.equal(marker.exists, true, `sec-a could not write its marker: ${JSON.stringify(marker)}`);
    probeQuery.other_tmp_file = marker.path;

    // sec-a's R process, seen from the host, before sec-b has any worker.
    const victims = workerProcesses(server).filter((p) => p.kind === 'R');
    assert.ok(victims.length > 0, `no R worker of sec-a on the host:\n${describeProcesses(workerProcesses(server))}`);
    // The victim's pid one level up from the sandboxes (the container's
    // namespace, or the host's), where an attacker would find it.
    probeQuery.other_pid = String(outerPid(victims[0].pid));

    ({ json: probe } = await getJson('sec-b', 'probe', { query: probeQuery }));
    if (procfs === 'none') {
      // No /proc inside: take the attacker's status from the host.
      const attacker = workerProcesses(server).filter((p) => p.kind === 'R' && !victims.some((v) => v.pid === p.pid));
      assert.equal(attacker.length, 1, `sec-b's R worker on the host:\n${describeProcesses(attacker)}`);
      probe.capabilities = statusFields(attacker[0].pid);
    }
    assert.ok(probe.sandbox, `probe report without sandbox info: ${JSON.stringify(probe).slice(0, 500)}`);
    // The whole report, for whoever reads the log of a failed run.
    console.log(`# probe report of sec-b:\n${JSON.stringify(probe, null, 1)}`);
  });

  // One test per attempt, grouped by what it tries, so a report names every
  // hole at once. [title, result (from the probe report), expectation].
  const DENIED = { errnos: [EACCES, ENOENT] };
  const R_DENIED = { message: /Permission denied|No such file or directory/ };
  const ATTEMPTS = {
    "another worker's bundle": [
      ['list its bundle directory on the host', (r) => r.other_bundle_list, DENIED],
      ['list bundle_server_path', (r) => r.bundles_root_list, DENIED],
      ['open(2) a file of its bundle', (r) => r.other_bundle_read.syscall, DENIED],
      ['readBin() a file of its bundle', (r) => r.other_bundle_read.r, R_DENIED],
    ],
    "another worker's /tmp (private)": [
      ['open(2) its /tmp marker', (r) => r.other_tmp_read.syscall, { errnos: [ENOENT] }],
      ['readBin() its /tmp marker', (r) => r.other_tmp_read.r, { message: /No such file or directory/ }],
    ],
    "the server's data directory": [
      ['list the data directory', (r) => r.data_dir_list, DENIED],
      ['open(2) the SQLite database', (r) => r.database_read.syscall, DENIED],
      ['readBin() the SQLite database', (r) => r.database_read.r, R_DENIED],
      ['open(2) the admin token file', (r) => r.token_read.syscall, DENIED],
      ['readBin() the admin token file', (r) => r.token_read.r, R_DENIED],
    ],
    'processes outside the sandbox': [
      ["read /proc/<server pid>/cmdline", (r) => r.server_proc_read, { message: /No such file or directory/ }],
      ['kill(server pid, 0)', (r) => r.kill_server, { errnos: [ESRCH] }],
      ['kill(server pid, SIGTERM)', (r) => r.kill_server_term, { errnos: [ESRCH] }],
      ['sh: kill -0 <server pid>', (r) => r.kill_server_shell, { message: /No such process/ }],
      ["kill(another worker's host pid, 0)", (r) => r.kill_other_worker, { errnos: [ESRCH] }],
    ],
    ptrace: [
      ['PTRACE_ATTACH to a child of its own', (r) => r.ptrace_child, { errnos: [EPERM] }],
      ['PTRACE_ATTACH to the sandbox pid 1', (r) => r.ptrace_init, { errnos: [EPERM] }],
    ],
    capabilities: [
      ['setuid(0)', (r) => r.setuid_root, { errnos: [EPERM, EINVAL] }],
      ['capset(every capability)', (r) => r.capset_all, { errnos: [EPERM] }],
      ['prctl(PR_CAP_AMBIENT_RAISE, CAP_SYS_ADMIN)', (r) => r.ambient_raise, { errnos: [EPERM] }],
    ],
    'namespaces and mounts': [
      ['unshare(CLONE_NEWUSER)', (r) => r.unshare_user, { errnos: [EPERM, ENOSPC] }],
      ['clone(CLONE_NEWUSER)', (r) => r.clone_user, { errnos: [EPERM, ENOSPC] }],
      ['unshare(CLONE_NEWNS)', (r) => r.unshare_mount, { errnos: [EPERM] }],
      ['mount(tmpfs)', (r) => r.mount_tmpfs, { errnos: [EPERM] }],
    ],
    'writing its own bundle': [
      ['create a new file in the bundle', (r) => r.bundle_create, { errnos: [EROFS] }],
      // Root-owned 0644 files: the permission check may answer before the mount's.
      ['open app.R for writing', (r) => r.bundle_modify, { errnos: [EROFS, EACCES] }],
      ['writeLines() into the bundle', (r) => r.bundle_write_r, { message: /Read-only file system/ }],
    ],
  };

  for (const [group, attempts] of Object.entries(ATTEMPTS)) {
    describe(`fails: ${group}`, () => {
      for (const [title, pick, expected] of attempts) {
        test(title, () => {
          assert.ok(probe, 'no probe report (the probe test failed)');
          assertBlocked(pick(probe), title, expected);
        });
      }
    });
  }

  describe('sees only its own sandbox', () => {
    test('/proc lists only the sandbox\'s processes, not the server', () => {
      assert.ok(probe, 'no probe report (the probe test failed)');
      if (procfs === 'none') {
        assert.deepEqual(probe.processes, [], 'worker_procfs = "none", yet the worker lists processes in /proc');
        return;
      }
      const procs = probe.processes;
      const shown = procs.map((p) => `  ${p.pid} ${p.cmdline}`).join('\n');
      assert.ok(procs.length > 0 && procs.length <= 15, `the sandbox sees ${procs.length} processes:\n${shown}`);
      assert.ok(procs.some((p) => p.pid === probe.sandbox.pid), `the worker does not see itself:\n${shown}`);
      assert.ok(
        !procs.some((p) => p.cmdline.includes(server.configPath) || p.cmdline.includes(BLOCKYARD_BIN)),
        `the server is visible from the sandbox:\n${shown}`,
      );
      assert.ok(procs.every((p) => p.pid < 1000), `host-looking pids are visible in the sandbox:\n${shown}`);
      assert.equal(server.exitInfo, null, 'the server died');
    });

    test('the worker holds no capability and is not root', () => {
      assert.ok(probe, 'no probe report (the probe test failed)');
      const caps = probe.capabilities;
      for (const set of ['CapInh', 'CapPrm', 'CapEff', 'CapAmb']) {
        assert.equal(caps[set], ZERO_CAPS, `${set} of the worker: ${JSON.stringify(caps)}`);
      }
      assert.notEqual(probe.sandbox.uid, 0, 'the worker runs as uid 0 inside its sandbox');
    });

    test('the worker runs under no_new_privs and a seccomp filter', () => {
      assert.ok(probe, 'no probe report (the probe test failed)');
      const status = probe.capabilities;
      assert.equal(status.NoNewPrivs, '1', `NoNewPrivs of the worker: ${JSON.stringify(status)}`);
      assert.equal(status.Seccomp, '2', `Seccomp mode of the worker (2 = filter): ${JSON.stringify(status)}`);
    });

    test('nothing the worker tried to write reached the host', () => {
      const written = execFileSync('find', [server.dataDir, '-name', 'written-by-*'], { encoding: 'utf8' }).trim();
      assert.equal(written, '', `files written by the worker appeared on the host:\n${written}`);
    });
  });

  test('no process outlives its worker after by delete', async () => {
    await deployProbe('sec-linger');
    const tag = `${Date.now() % 1_000_000}${Math.floor(Math.random() * 1000)}`;
    await getJson('sec-linger', 'linger', { query: { tag } });
    const started = await waitFor(() => (lingering(tag).length >= 2 ? lingering(tag) : false), {
      timeoutMs: 15_000,
      what: `the two background "sleep 1000.${tag}" of sec-linger`,
    });
    const args = ['delete', 'sec-linger', '--yes'];
    const del = await byAs(server, args);
    assert.equal(del.code, 0, `by delete failed${describeRun(args, del)}${server.logTail()}`);
    try {
      await waitFor(() => lingering(tag).length === 0, { timeoutMs: 20_000, what: 'the sleeps to be gone' });
    } catch {
      const left = lingering(tag);
      killAll(left);
      assert.fail(
        `processes started by sec-linger survived by delete:\n${describeProcesses(left)}\n(started: ${started.map((p) => p.pid)})${server.logTail()}`,
      );
    }
  });

  test('a bounded fork bomb is stopped by the pids limit while other workers keep serving', async () => {
    await deployProbe('sec-forks');
    // Warm the bystander so its answer does not depend on a worker start.
    const warm = await request(`${server.url}/app/sec-hello/`, { timeoutMs: 180_000 });
    assert.equal(warm.status, 200, `sec-hello: ${warm.status}`);

    const page = await request(`${server.url}/app/sec-forks/`, { timeoutMs: 180_000 });
    assert.equal(page.status, 200, `sec-forks page: ${page.status}${server.logTail()}`);
    const bomb = getJson('sec-forks', 'forks', {
      query: { max: '2000', hold: '8' },
      headers: { cookie: cookieHeader(page) },
    });
    bomb.catch(() => {}); // awaited below
    await sleep(4_000); // the loop is at its limit now, holding its children
    const t0 = Date.now();
    const during = await request(`${server.url}/app/sec-hello/`, { timeoutMs: 60_000 });
    const elapsed = Date.now() - t0;
    const { json: forks } = await bomb;
    assert.equal(during.status, 200, `sec-hello during the fork bomb: ${during.status} ${during.body.slice(0, 300)}`);
    assert.match(during.body, /blockyard hello/);
    assert.ok(elapsed < 20_000, `sec-hello took ${elapsed} ms to answer during the fork bomb`);
    assertBlocked(forks, `fork 2000 processes (forked ${forks.forked})`, { errnos: [EAGAIN] });
    assert.ok(forks.forked < 2000, `fork loop not limited: ${JSON.stringify(forks)}`);
  });

  test('a memory balloon stays inside memory_limit 256m while other workers keep serving', async () => {
    await deployProbe('sec-balloon');
    const patch = await server.api('PATCH', '/api/v1/apps/sec-balloon', { body: { memory_limit: '256m' } });
    assert.equal(patch.status, 200, `PATCH memory_limit: ${patch.status} ${patch.body}`);

    const earlier = new Set(workerProcesses(server).map((p) => p.pid));
    const page = await request(`${server.url}/app/sec-balloon/`, { timeoutMs: 180_000 });
    assert.equal(page.status, 200, `sec-balloon page: ${page.status}${server.logTail()}`);
    const mine = workerProcesses(server).filter((p) => p.kind === 'R' && !earlier.has(p.pid));
    assert.ok(mine.length > 0, `no new R worker for sec-balloon:\n${describeProcesses(workerProcesses(server))}`);

    let peak = 0;
    const sampler = setInterval(() => {
      for (const p of mine) peak = Math.max(peak, residentBytes(p.pid) ?? 0);
    }, 20);
    let res;
    let failure;
    try {
      res = await request(`${server.url}/app/sec-balloon/balloon?mib=2048&step=64`, {
        headers: { cookie: cookieHeader(page) },
        timeoutMs: 180_000,
      });
    } catch (err) {
      failure = err; // the worker was killed mid-response: also a contained outcome
    } finally {
      clearInterval(sampler);
    }
    const peakMib = Math.round(peak / 2 ** 20);
    const json = res && tryParseJson(res.body);
    if (json && 'reached_mib' in json) {
      assert.ok(
        json.ok === false,
        `memory limit 256m NOT enforced: the worker allocated ${json.reached_mib} MiB (peak RSS ${peakMib} MiB)`,
      );
      assert.match(json.error, /cannot allocate/, `balloon failed oddly: ${JSON.stringify(json)}`);
      assert.ok(json.reached_mib <= 256 + 64, `the balloon reached ${json.reached_mib} MiB under a 256m limit`);
    } else {
      // Killed by the limit: the proxy answers an error, or the connection drops.
      const what = failure ? failure.message : `${res.status} ${res.body.slice(0, 200)}`;
      assert.ok(failure || res.status >= 500, `unexpected balloon answer: ${what}`);
    }
    assert.ok(peakMib <= 256 + 32, `the balloon worker's RSS reached ${peakMib} MiB under a 256m limit`);

    const hello = await request(`${server.url}/app/sec-hello/`, { timeoutMs: 60_000 });
    assert.equal(hello.status, 200, `sec-hello after the balloon: ${hello.status}`);
  });

  test('no process outlives the server after SIGTERM', async () => {
    const tag = `${Date.now() % 1_000_000}${Math.floor(Math.random() * 1000)}`;
    await getJson('sec-b', 'linger', { query: { tag } });
    await waitFor(() => lingering(tag).length >= 2, {
      timeoutMs: 15_000,
      what: `the two background "sleep 1000.${tag}" of sec-b`,
    });
    const snapshot = workerProcesses(server);
    await server.stop();
    try {
      await waitFor(() => lingering(tag).length === 0, { timeoutMs: 15_000, what: 'the sleeps to be gone' });
    } catch {
      const left = lingering(tag);
      killAll(left);
      assert.fail(`processes started by sec-b survived the server:\n${describeProcesses(left)}${server.logTail()}`);
    }
    await assertNoLeftovers(server, snapshot);
  });
});
}
