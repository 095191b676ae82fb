// The real-container half of the container suite: podman (with runc) runs the
// image `make image` builds (scripts/build-image.sh), and a started container
// looks to the suites like a server from tests/lib/harness.mjs (url, token,
// pid, dataDir, api(), stop(), logTail()), so the same tests run against it.
//
// Everything a test creates carries the label blockyard-test=<suite>, and
// removeLabelled() removes it (containers, volumes, networks); images other
// than the cached Debian base are removed by whoever built them.

import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';

import { freePort, request, sleep, tryParseJson, waitFor } from '../lib/harness.mjs';
import { SOURCE_DIR, describe, run } from './lib.mjs';

// The image under test: built by the ctest fixture container.image.build
// (tests/CMakeLists.txt), removed by container.image.remove.
export const TEST_IMAGE = process.env.BLOCKYARD_TEST_IMAGE ?? 'localhost/blockyard-process:ctest';
export const BASE_IMAGE = process.env.BASE_IMAGE ?? 'localhost/blockyard-debian-base:bookworm';
export const OUTER_PROFILE_PATH = path.join(SOURCE_DIR, 'profiles', 'seccomp-outer.json');

// runc, not crun (crun refuses hosts with a hybrid cgroup layout), and limits
// within the host's hard limits (podman's defaults exceed them here).
export const PODMAN = ['podman', '--runtime', process.env.PODMAN_RUNTIME ?? 'runc'];
export const ULIMITS = ['--ulimit', 'nofile=4096:4096', '--ulimit', 'nproc=4096:4096'];

// The runtime options of each documented configuration (docs/containerized-mode.md).
export const FLAGS = {
  // What the seed document and the original compose file give: the outer
  // seccomp profile and nothing else.
  seed: ['--security-opt', `seccomp=${OUTER_PROFILE_PATH}`],
  // The supported configuration: /proc unmasked, in a user namespace of its
  // own with 65536 IDs (the workers' UIDs 60000+ and GID 65534 must exist).
  userns: [
    '--security-opt', `seccomp=${OUTER_PROFILE_PATH}`,
    '--security-opt', 'unmask=/proc/*',
    '--userns=auto:size=65536',
  ],
};

export async function podman(args, opts = {}) {
  return run([...PODMAN, ...args], { timeoutMs: 120_000, ...opts });
}

// Runs podman and throws with its output unless it exits 0; resolves stdout.
export async function podmanOk(args, opts = {}) {
  const r = await podman(args, opts);
  if (r.code !== 0) throw new Error(`podman ${args.join(' ')} failed${describe(r)}`);
  return r.stdout.trim();
}

export async function imageExists(name) {
  return (await podman(['image', 'exists', name])).code === 0;
}

// Removes every container, volume and network labelled blockyard-test=<suite>
// (or any suite, with no argument). Never throws.
export async function removeLabelled(suite) {
  const filter = `label=blockyard-test${suite ? `=${suite}` : ''}`;
  const ids = (await podman(['ps', '-aq', '--filter', filter])).stdout.split('\n').filter(Boolean);
  if (ids.length) await podman(['rm', '-f', '-t', '0', '-v', ...ids]);
  const vols = (await podman(['volume', 'ls', '-q', '--filter', filter])).stdout.split('\n').filter(Boolean);
  if (vols.length) await podman(['volume', 'rm', '-f', ...vols]);
  const nets = (await podman(['network', 'ls', '-q', '--filter', filter])).stdout.split('\n').filter(Boolean);
  if (nets.length) await podman(['network', 'rm', '-f', ...nets]);
}

// A named volume for /data, labelled for removal.
export async function createVolume(suite) {
  const name = `blockyard-test-${suite}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  await podmanOk(['volume', 'create', '--label', `blockyard-test=${suite}`, name]);
  return name;
}

export async function volumePath(volume) {
  return podmanOk(['volume', 'inspect', '--format', '{{.Mountpoint}}', volume]);
}

// Host pid of a running container's PID 1 (0 when it is not running).
export async function containerPid(name) {
  const r = await podman(['inspect', '--format', '{{.State.Pid}}', name]);
  return r.code === 0 ? Number(r.stdout.trim()) : 0;
}

// Starts the image as the server ("docker run -d" with `flags`) and waits for
// /healthz through the published port. Resolves a harness-like server.
//   flags   runtime options (FLAGS.userns, ...)
//   env     BLOCKYARD_* overrides, as -e
//   volume  named volume for /data (a new one when absent)
//   mounts  extra -v arguments
export async function startContainer({
  suite,
  flags,
  env = {},
  volume,
  mounts = [],
  image = TEST_IMAGE,
  startTimeoutMs = 120_000,
  waitForHealth = true,
} = {}) {
  const name = `blockyard-test-${suite}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const port = await freePort();
  const dataVolume = volume ?? (await createVolume(suite));
  const args = [
    'run', '-d', '--name', name, '--label', `blockyard-test=${suite}`, ...ULIMITS, ...flags,
    '-p', `127.0.0.1:${port}:8080`, '-v', `${dataVolume}:/data`,
    ...mounts.flatMap((m) => ['-v', m]),
    ...Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]),
    image,
  ];
  await podmanOk(args);
  const server = await containerServer({ name, port, volume: dataVolume });
  if (waitForHealth) await server.waitUntilHealthy(startTimeoutMs);
  return server;
}

async function containerServer({ name, port, volume }) {
  const url = `http://127.0.0.1:${port}`;
  const dataDir = await volumePath(volume);
  let exitInfo = null;
  const server = {
    name,
    url,
    port,
    volume,
    dataDir, // the volume on the host, readable as root
    configPath: '/etc/blockyard/blockyard.toml',
    workerPorts: { start: 10000, end: 10999 }, // the image's defaults
    token: undefined,
    pid: await containerPid(name),
    get exitInfo() {
      return exitInfo;
    },
    async logs() {
      const r = await podman(['logs', name]);
      return `${r.stdout}${r.stderr}`;
    },
    async logText() {
      return server.logs();
    },
    // Synchronous tail for assertion messages: the last log read.
    lastLogs: '',
    logTail(lines = 60) {
      return `\n----- container ${name} log (last ${lines} lines) -----\n${server.lastLogs.split('\n').slice(-lines).join('\n')}\n-----`;
    },
    async refreshLogs() {
      server.lastLogs = await server.logs();
      return server.lastLogs;
    },
    async state() {
      const r = await podman(['inspect', '--format', '{{.State.Status}} {{.State.ExitCode}}', name]);
      const [status, code] = r.stdout.trim().split(' ');
      return { status, code: Number(code) };
    },
    async exec(argv, opts) {
      return podman(['exec', name, ...argv], opts);
    },
    async api(method, apiPath, { body, headers = {}, token = server.token } = {}) {
      const h = { accept: 'application/json', ...headers };
      if (token) h.authorization = `Bearer ${token}`;
      let payload = body;
      if (body !== undefined && typeof body !== 'string') {
        payload = JSON.stringify(body);
        h['content-type'] = 'application/json';
      }
      const res = await request(`${url}${apiPath}`, { method, headers: h, body: payload });
      return { ...res, json: tryParseJson(res.body) };
    },
    async waitUntilHealthy(timeoutMs) {
      try {
        await waitFor(
          async () => {
            const st = await server.state();
            if (st.status === 'exited') {
              throw Object.assign(new Error(`container exited with code ${st.code}`), { fatal: true });
            }
            return (await request(`${url}/healthz`, { timeoutMs: 2_000 })).status === 200;
          },
          { timeoutMs, intervalMs: 250, what: `GET ${url}/healthz = 200` },
        );
        server.token = await waitFor(
          async () => {
            const r = await server.exec(['cat', '/data/admin-token']);
            return r.code === 0 && r.stdout.trim();
          },
          { timeoutMs: 10_000, what: 'admin token in the container' },
        );
        server.pid = await containerPid(name);
      } catch (err) {
        await server.refreshLogs();
        err.message += server.logTail(80);
        throw err;
      }
    },
    // `podman stop` (SIGTERM, then SIGKILL after `graceSeconds`); resolves
    // {code, seconds}. Throws unless the exit code is 0.
    async stop({ graceSeconds = 60 } = {}) {
      if (exitInfo) return exitInfo;
      const t0 = Date.now();
      await podmanOk(['stop', '-t', String(graceSeconds), name], { timeoutMs: (graceSeconds + 30) * 1000 });
      const st = await server.state();
      exitInfo = { code: st.code, signal: null, seconds: (Date.now() - t0) / 1000 };
      await server.refreshLogs();
      if (st.code !== 0) throw new Error(`container exited with code ${st.code} after podman stop${server.logTail()}`);
      return exitInfo;
    },
    // Stops (if running) and removes the container; keeps the volume.
    async remove() {
      clearInterval(server.logPoller);
      await podman(['rm', '-f', '-t', '0', name]);
    },
    async cleanup() {
      if (!exitInfo) {
        try {
          await server.stop({ graceSeconds: 30 });
        } catch {
          /* reported by the test that owns the assertion */
        }
      }
      await server.remove();
    },
  };
  // Keep a recent copy of the log for the synchronous logTail().
  server.logPoller = setInterval(() => server.refreshLogs().catch(() => {}), 3_000);
  server.logPoller.unref();
  return server;
}

// Runs the image to completion (no -d) and resolves {code, stdout, stderr}.
export async function runOnce({ suite, flags = [], args = [], entrypoint, mounts = [], env = {}, image = TEST_IMAGE, timeoutMs = 180_000 }) {
  return podman(
    [
      'run', '--rm', '--label', `blockyard-test=${suite}`, ...ULIMITS, ...flags,
      ...(entrypoint ? ['--entrypoint', entrypoint] : []),
      ...mounts.flatMap((m) => ['-v', m]),
      ...Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]),
      image, ...args,
    ],
    { timeoutMs },
  );
}

// Waits until the container `name` has exited; resolves its exit code.
export async function waitForExit(name, timeoutMs = 180_000) {
  const r = await podman(['wait', name], { timeoutMs });
  return Number(r.stdout.trim());
}

// Host processes whose pid namespace is the container's (PID 1's children
// and below), each with its host uid: [{pid, uid, comm, nspid}].
export function containerProcesses(rootPid) {
  const out = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = fs.readFileSync(`/proc/${entry}/status`, 'utf8');
      const field = (f) => new RegExp(`^${f}:\\s*(.*)$`, 'm').exec(status)?.[1] ?? '';
      out.push({
        pid: Number(entry),
        ppid: Number(field('PPid')),
        uid: Number(field('Uid').split(/\s+/)[0]),
        comm: field('Name'),
        nspid: field('NSpid').split(/\s+/).map(Number),
      });
    } catch {
      /* gone */
    }
  }
  const byParent = new Map();
  for (const p of out) byParent.set(p.ppid, [...(byParent.get(p.ppid) ?? []), p]);
  const result = [];
  const walk = (pid) => {
    for (const c of byParent.get(pid) ?? []) {
      result.push(c);
      walk(c.pid);
    }
  };
  walk(rootPid);
  return result;
}

export async function writeTempFile(dir, name, content, mode = 0o644) {
  const file = path.join(dir, name);
  await fsp.writeFile(file, content, { mode });
  await fsp.chmod(file, mode);
  return file;
}

export { sleep };
