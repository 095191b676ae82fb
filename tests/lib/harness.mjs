// Shared harness for the end-to-end suites: starts the real `blockyard`
// server on a free port with throw-away data directories, runs the real `by`
// CLI against it, makes plain HTTP requests without connection reuse, and
// finds the sandboxed worker processes (bwrap, R) a run started so suites can
// prove nothing outlives the server.
//
// Every server started here is SIGKILLed when the test process exits, so a
// crashed suite cannot leave servers behind; suites still stop servers in
// after() hooks to assert a clean shutdown.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

export const SOURCE_DIR =
  process.env.BLOCKYARD_SOURCE_DIR ?? path.resolve(here, '..', '..');
export const BLOCKYARD_BIN =
  process.env.BLOCKYARD_BIN ?? path.join(SOURCE_DIR, 'build', 'bin', 'blockyard');
export const BY_BIN =
  process.env.BY_BIN ?? path.join(SOURCE_DIR, 'build', 'bin', 'by');
export const FIXTURES_DIR = path.join(SOURCE_DIR, 'tests', 'fixtures');

// ---------------------------------------------------------------- utilities

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Polls `fn` until it returns a truthy value (which is returned) or `timeoutMs`
// passes; then throws, naming `what` and the last value or error seen. An
// error with `fatal: true` thrown by `fn` ends the wait at once.
export async function waitFor(fn, { timeoutMs = 30_000, intervalMs = 200, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const value = await fn();
      if (value) return value;
      last = value;
    } catch (err) {
      if (err?.fatal) throw err; // no point in waiting any longer
      last = err;
    }
    if (Date.now() >= deadline) {
      const detail = last instanceof Error ? last.message : JSON.stringify(last);
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${detail})`);
    }
    await sleep(intervalMs);
  }
}

// Asks the kernel for a free TCP port on loopback (listen on 0, close).
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function portIsFree(port) {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

// A random block of 100 worker ports in 20000-29999 whose ends are free now.
// Random per run so concurrent runs on one machine rarely overlap.
export async function pickWorkerPortRange() {
  for (let attempt = 0; attempt < 50; attempt++) {
    const start = 20000 + Math.floor(Math.random() * 100) * 100;
    const end = start + 99;
    if ((await portIsFree(start)) && (await portIsFree(end))) return { start, end };
  }
  throw new Error('no free worker port range found in 20000-29999');
}

export async function makeTempDir(prefix) {
  return fsp.mkdtemp(path.join(os.tmpdir(), `blockyard-${prefix}-`));
}

// Copies tests/fixtures/apps/<name> to a fresh temp dir (hidden files
// included) so `by deploy` can write manifest.json without touching the
// source tree. Returns the copy's path.
export async function copyFixtureApp(name) {
  const src = path.join(FIXTURES_DIR, 'apps', name);
  const parent = await makeTempDir(`app-${name}`);
  const dest = path.join(parent, name);
  await fsp.cp(src, dest, { recursive: true });
  return dest;
}

// ---------------------------------------------------------------- TOML

function tomlValue(v) {
  if (typeof v === 'string') return JSON.stringify(v); // JSON string escapes are valid TOML basic strings
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map(tomlValue).join(', ')}]`;
  throw new Error(`cannot render ${JSON.stringify(v)} as TOML`);
}

// Renders {section: {key: value}} as TOML. Sections whose value is an array
// of objects become arrays of tables ([[section.key]] is not needed here).
export function toToml(config) {
  const out = [];
  for (const [section, keys] of Object.entries(config)) {
    if (keys === null || keys === undefined) continue;
    out.push(`[${section}]`);
    for (const [key, value] of Object.entries(keys)) {
      if (value === undefined || value === null) continue;
      out.push(`${key} = ${tomlValue(value)}`);
    }
    out.push('');
  }
  return out.join('\n');
}

function mergeConfig(base, overrides) {
  const merged = structuredClone(base);
  for (const [section, keys] of Object.entries(overrides ?? {})) {
    if (keys === null) {
      delete merged[section];
      continue;
    }
    merged[section] = { ...(merged[section] ?? {}), ...keys };
  }
  return merged;
}

// ---------------------------------------------------------------- HTTP

// One HTTP/1.1 request on a fresh connection. Never follows redirects.
// Resolves {status, headers, body (string), cookies (Set-Cookie array)}.
export function request(url, { method = 'GET', headers = {}, body, timeoutMs = 120_000 } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () =>
        resolve({
          status: res.statusCode,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          cookies: res.headers['set-cookie'] ?? [],
        }),
      );
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${url}: no response within ${timeoutMs} ms`)));
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

// Parses "name=value; Path=/; HttpOnly" lines into {name: {value, attrs}}.
export function parseSetCookies(lines) {
  const out = {};
  for (const line of lines) {
    const [pair, ...attrs] = line.split(';').map((s) => s.trim());
    const eq = pair.indexOf('=');
    if (eq < 0) continue;
    const attrMap = {};
    for (const a of attrs) {
      const i = a.indexOf('=');
      if (i < 0) attrMap[a.toLowerCase()] = true;
      else attrMap[a.slice(0, i).toLowerCase()] = a.slice(i + 1);
    }
    out[pair.slice(0, eq)] = { value: pair.slice(eq + 1), attrs: attrMap };
  }
  return out;
}

export function tryParseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------- server

const liveServers = new Set();
process.on('exit', () => {
  for (const child of liveServers) {
    try {
      child.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
});

function tailOf(text, lines) {
  const all = text.split('\n');
  return all.slice(Math.max(0, all.length - lines - 1)).join('\n');
}

// Starts `blockyard --config <tmp>/blockyard.toml` on a free loopback port.
// `config` overrides sections/keys of the default test config ({section:
// {key: value}}; a section set to null is removed). `env` adds environment
// variables. Resolves once GET /healthz answers 200 and the admin token file
// exists; rejects (with the server's log) if the server exits first or
// `startTimeoutMs` passes. `port` fixes the listening port (sign-in suites
// must tell their identity provider the callback URL beforehand).
// `dataDir` restarts on the data (database, bundles, token) of an earlier
// server, e.g. to check what survives a restart.
export async function startServer({ config = {}, env = {}, startTimeoutMs = 30_000, waitForToken = true, port: fixedPort, dataDir: reuse } = {}) {
  const dataDir = reuse ?? (await makeTempDir('data'));
  const port = fixedPort ?? (await freePort());
  const workerPorts = await pickWorkerPortRange();
  const tokenFile = path.join(dataDir, 'admin-token');
  const base = {
    server: {
      bind: `127.0.0.1:${port}`,
      backend: 'process',
      admin_token_file: tokenFile,
      log_level: 'debug',
      shutdown_timeout: '20s',
    },
    storage: { bundle_server_path: path.join(dataDir, 'bundles') },
    database: { path: path.join(dataDir, 'blockyard.db') },
    process: { port_range_start: workerPorts.start, port_range_end: workerPorts.end },
    // Suites poll the API and /app from one loopback address for minutes;
    // rate limits are the rate-limit suite's to set.
    proxy: {
      idle_worker_timeout: '30s',
      worker_start_timeout: '60s',
      api_rate_limit_per_minute: 0,
      app_rate_limit_per_minute: 0,
    },
  };
  const merged = mergeConfig(base, config);
  const configPath = path.join(dataDir, 'blockyard.toml');
  await fsp.writeFile(configPath, toToml(merged));

  const childEnv = { ...process.env, ...env };
  // Our own BLOCKYARD_* settings must not leak into the server under test.
  for (const k of Object.keys(childEnv)) {
    if (k.startsWith('BLOCKYARD_') && !(k in env)) delete childEnv[k];
  }
  const child = spawn(BLOCKYARD_BIN, ['--config', configPath], {
    cwd: dataDir,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  liveServers.add(child);

  let logs = '';
  child.stdout.on('data', (d) => (logs += d.toString('utf8')));
  child.stderr.on('data', (d) => (logs += d.toString('utf8')));
  const exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      liveServers.delete(child);
      // A leaked worker may still hold the pipes; stop reading so it cannot
      // keep this process alive (the leak check reports it instead).
      setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
      }, 1_000).unref();
      resolve({ code, signal });
    });
    child.on('error', (err) => {
      liveServers.delete(child);
      logs += `\n[harness] spawn error: ${err.message}\n`;
      resolve({ code: null, signal: null, error: err });
    });
  });
  let exitInfo = null;
  exited.then((info) => (exitInfo = info));

  const url = `http://127.0.0.1:${port}`;
  const server = {
    url,
    port,
    dataDir,
    configPath,
    tokenFile,
    workerPorts,
    pid: child.pid,
    token: undefined,
    get logs() {
      return logs;
    },
    get exitInfo() {
      return exitInfo;
    },
    // The last `lines` lines of the server's output, framed for messages.
    logTail(lines = 60) {
      return `\n----- blockyard log (last ${lines} lines) -----\n${tailOf(logs, lines)}\n----- end of log -----`;
    },
    // Bearer-authenticated API call; resolves the request() result plus
    // `json` (parsed body or undefined).
    async api(method, apiPath, { body, headers = {}, token = server.token } = {}) {
      const h = { accept: 'application/json', ...headers };
      if (token) h.authorization = `Bearer ${token}`;
      let payload = body;
      if (body !== undefined && typeof body !== 'string' && !Buffer.isBuffer(body)) {
        payload = JSON.stringify(body);
        h['content-type'] = 'application/json';
      }
      const res = await request(`${url}${apiPath}`, { method, headers: h, body: payload });
      return { ...res, json: tryParseJson(res.body) };
    },
    // SIGTERM, wait for exit; throws unless the exit code is 0. Idempotent.
    async stop({ timeoutMs = 60_000 } = {}) {
      if (exitInfo === null) {
        child.kill('SIGTERM');
        let timer;
        const timedOut = new Promise((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
        const result = await Promise.race([exited, timedOut]);
        clearTimeout(timer);
        if (result === 'timeout') {
          child.kill('SIGKILL');
          await exited;
          throw new Error(`blockyard did not exit within ${timeoutMs} ms of SIGTERM (killed)${server.logTail()}`);
        }
      }
      const info = await exited;
      if (info.code !== 0) {
        throw new Error(
          `blockyard exited with code ${info.code} signal ${info.signal} (expected 0 after SIGTERM)${server.logTail()}`,
        );
      }
      return info;
    },
    // For after() hooks: stop if running, never throw (the stop test asserts).
    async cleanup() {
      if (exitInfo === null) {
        try {
          await server.stop({ timeoutMs: 30_000 });
        } catch {
          /* reported by the test that owns the assertion */
        }
      }
      child.kill('SIGKILL');
    },
  };

  try {
    await waitFor(
      async () => {
        if (exitInfo) {
          throw Object.assign(new Error(`server exited early: code ${exitInfo.code} signal ${exitInfo.signal}`), {
            fatal: true,
          });
        }
        const res = await request(`${url}/healthz`, { timeoutMs: 2_000 });
        return res.status === 200;
      },
      { timeoutMs: startTimeoutMs, intervalMs: 100, what: `GET ${url}/healthz = 200` },
    );
    if (waitForToken) {
      server.token = await waitFor(
        async () => {
          const t = (await fsp.readFile(tokenFile, 'utf8')).trim();
          return t.length > 0 ? t : false;
        },
        { timeoutMs: 10_000, what: `admin token file ${tokenFile}` },
      );
    }
  } catch (err) {
    await server.cleanup();
    err.message += server.logTail(80);
    throw err;
  }
  return server;
}

// ---------------------------------------------------------------- by CLI

// Runs `by` with `args`. The CLI sees a private XDG_CONFIG_HOME/HOME
// (`configHome`, a fresh temp dir unless given), no inherited BLOCKYARD_*
// variables, stdin closed (so a prompt reads EOF), plus `env`. Resolves
// {code, stdout, stderr, configHome}; never rejects on a non-zero exit.
export async function by(args, { env = {}, configHome, timeoutMs = 300_000, cwd } = {}) {
  const home = configHome ?? (await makeTempDir('by-home'));
  const childEnv = { ...process.env };
  for (const k of Object.keys(childEnv)) if (k.startsWith('BLOCKYARD_')) delete childEnv[k];
  Object.assign(childEnv, { XDG_CONFIG_HOME: home, HOME: home }, env);
  return new Promise((resolve) => {
    const child = spawn(BY_BIN, args, { env: childEnv, cwd: cwd ?? home, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d) => (stderr += d.toString('utf8')));
    const timer = setTimeout(() => {
      stderr += `\n[harness] by ${args.join(' ')}: killed after ${timeoutMs} ms\n`;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ code: null, stdout, stderr: `${stderr}\n[harness] spawn error: ${err.message}`, configHome: home });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? `signal ${signal}`, stdout, stderr, configHome: home });
    });
  });
}

// `by` authenticated against `server` through BLOCKYARD_URL/BLOCKYARD_TOKEN.
export function byAs(server, args, opts = {}) {
  return by(args, {
    ...opts,
    env: { BLOCKYARD_URL: server.url, BLOCKYARD_TOKEN: server.token, ...(opts.env ?? {}) },
  });
}

// Renders a `by` result for assertion messages.
export function describeRun(args, r) {
  return `\n$ by ${args.join(' ')}\n[exit ${r.code}]\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`;
}

// ---------------------------------------------------------------- processes

function readProcFile(pid, name) {
  try {
    return fs.readFileSync(`/proc/${pid}/${name}`);
  } catch {
    return null;
  }
}

// Every live process: {pid, ppid, state, startTime, argv, environ}.
export function listProcesses() {
  const out = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    const stat = readProcFile(pid, 'stat');
    if (!stat) continue;
    const text = stat.toString('utf8');
    // comm may hold spaces or parens; the fields after the last ')' are fixed.
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
    const state = rest[0];
    const ppid = Number(rest[1]);
    const startTime = rest[19];
    const cmdline = readProcFile(pid, 'cmdline');
    const environ = readProcFile(pid, 'environ');
    const split = (buf) => (buf ? buf.toString('utf8').split('\0').filter(Boolean) : []);
    out.push({ pid, ppid, state, startTime, argv: split(cmdline), environ: split(environ) });
  }
  return out;
}

export function processKind(p) {
  const exe = path.basename(p.argv[0] ?? '');
  if (exe === 'bwrap') return 'bwrap';
  if (exe === 'R' || exe === 'Rscript' || /\/lib\/R\/bin\/exec\/R$/.test(p.argv[0] ?? '')) return 'R';
  return 'other';
}

// The processes that belong to `server`'s run: anything whose command line or
// environment names its data dir, whose SHINY_PORT is in its worker port
// range, or that descends from the server or from such a process. The test
// process itself and the server are excluded. Each gets a `kind` (bwrap, R,
// other).
export function runProcesses(server) {
  const procs = listProcesses();
  const byPid = new Map(procs.map((p) => [p.pid, p]));
  const { start, end } = server.workerPorts;
  const marks = (p) => {
    if (p.pid === process.pid || p.pid === server.pid) return false;
    if (p.argv.some((a) => a.includes(server.dataDir))) return true;
    for (const e of p.environ) {
      if (e.includes(server.dataDir)) return true;
      const m = /^SHINY_PORT=(\d+)$/.exec(e);
      if (m && Number(m[1]) >= start && Number(m[1]) <= end) return true;
    }
    return false;
  };
  const ours = new Set(procs.filter(marks).map((p) => p.pid));
  const serverAlive = server.exitInfo === null;
  const descends = (p) => {
    for (let q = p, hops = 0; q && hops < 64; q = byPid.get(q.ppid), hops++) {
      if (ours.has(q.pid)) return true;
      if (serverAlive && q.ppid === server.pid) return true;
    }
    return false;
  };
  return procs
    .filter((p) => p.pid !== process.pid && p.pid !== server.pid && p.state !== 'Z' && descends(p))
    .map((p) => ({ ...p, kind: processKind(p) }));
}

// Only the bwrap and R processes of `server`'s run.
export function workerProcesses(server) {
  return runProcesses(server).filter((p) => p.kind !== 'other');
}

// Which of `snapshot` (processes seen earlier) still run (same pid and start
// time, not a zombie).
export function stillAlive(snapshot) {
  const now = new Map(listProcesses().map((p) => [p.pid, p]));
  return snapshot.filter((p) => {
    const q = now.get(p.pid);
    return q && q.startTime === p.startTime && q.state !== 'Z';
  });
}

export function describeProcesses(list) {
  if (list.length === 0) return '(none)';
  return list.map((p) => `  pid ${p.pid} ppid ${p.ppid} [${p.kind ?? processKind(p)}] ${p.argv.join(' ').slice(0, 300)}`).join('\n');
}

// Asserts, with retries for up to `timeoutMs`, that neither `snapshot` nor a
// fresh scan shows a process of `server`'s run. Otherwise SIGKILLs the
// leftovers and throws listing them.
export async function assertNoLeftovers(server, snapshot = [], { timeoutMs = 10_000 } = {}) {
  let leftovers = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const seen = new Map();
    for (const p of stillAlive(snapshot)) seen.set(p.pid, { ...p, kind: p.kind ?? processKind(p) });
    for (const p of runProcesses(server)) seen.set(p.pid, p);
    leftovers = [...seen.values()];
    if (leftovers.length === 0) return;
    if (Date.now() >= deadline) break;
    await sleep(250);
  }
  // Report, then remove them so one failure does not poison later runs.
  for (const p of leftovers) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  throw new Error(
    `processes of this run survived the server (data dir ${server.dataDir}, worker ports ${server.workerPorts.start}-${server.workerPorts.end}):\n${describeProcesses(leftovers)}${server.logTail()}`,
  );
}

// An `after` hook's body: stops `server` (if it started) and asserts that no
// process of its run outlived it.
export async function cleanupWithoutLeftovers(server, options) {
  if (!server) return;
  const snapshot = runProcesses(server);
  await server.cleanup();
  await assertNoLeftovers(server, snapshot, options);
}

// Opens one data-plane session on `server` with a GET of `path`; returns its
// `blockyard_route=...` cookie header value. Throws unless the GET is a 200.
export async function openSession(server, path) {
  const r = await request(`${server.url}${path}`);
  if (r.status !== 200) throw new Error(`GET ${path}: status ${r.status}${server.logTail()}`);
  return `blockyard_route=${sessionIdOf(r)}`;
}

// The session id a data-plane response set (its blockyard_route cookie), or
// undefined when it set none.
export function sessionIdOf(response) {
  return parseSetCookies(response.cookies).blockyard_route?.value;
}

// Opens the Shiny WebSocket of session `sessionId` of `app` the way the app
// page does (same-origin, with the session's cookie) and asserts the 101.
// Returns the socket (see openWebSocket).
export async function openSessionWebSocket(server, app, sessionId) {
  const ws = await openWebSocket(`${server.url.replace('http', 'ws')}/app/${app}/websocket/`, {
    headers: { cookie: `blockyard_route=${sessionId}`, Origin: server.url },
  });
  if (ws.status !== 101) throw new Error(`Shiny's WebSocket refused:\n${ws.rawHead}${server.logTail()}`);
  return ws;
}

// Finds the object named `name` in an app list response, whatever its
// wrapping (bare array, {apps: [...]}, {items: [...]}).
export function findByName(listJson, name) {
  const arr = Array.isArray(listJson)
    ? listJson
    : (listJson?.apps ?? listJson?.items ?? listJson?.data ?? []);
  return arr.find((a) => a && a.name === name);
}

// The array inside a list response (bare array or the first array property).
export function listItems(json) {
  if (Array.isArray(json)) return json;
  if (json && typeof json === 'object') {
    for (const v of Object.values(json)) if (Array.isArray(v)) return v;
  }
  return [];
}

// ---------------------------------------------------------------- raw TCP

// Splits raw HTTP/1.x response bytes (latin1 text) into the responses they
// hold: {line, status} for each, read in sequence by their framing
// (Content-Length, chunked, or no body for 1xx/204/304). Where the framing
// cannot be followed, the rest is searched for further status lines, so a
// second response is never missed.
export function statusLines(text) {
  const out = [];
  let rest = text;
  while (rest.length > 0) {
    const m = /^HTTP\/1\.[01] (\d{3})[^\r\n]*/.exec(rest);
    const headEnd = rest.indexOf('\r\n\r\n');
    if (!m || headEnd < 0) break;
    const status = Number(m[1]);
    out.push({ line: m[0], status });
    const head = rest.slice(0, headEnd);
    rest = rest.slice(headEnd + 4);
    if (status < 200 || status === 204 || status === 304) continue;
    const cl = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    if (/\r\ntransfer-encoding:[^\r\n]*chunked/i.test(head)) {
      for (;;) {
        const lineEnd = rest.indexOf('\r\n');
        if (lineEnd < 0) return out;
        const size = parseInt(rest.slice(0, lineEnd), 16);
        if (Number.isNaN(size)) return out;
        rest = rest.slice(lineEnd + 2 + size + 2);
        if (size === 0) break;
      }
    } else if (cl) {
      rest = rest.slice(Number(cl[1]));
    } else {
      return out; // body until close
    }
  }
  for (const m of rest.matchAll(/HTTP\/1\.[01] (\d{3})[^\r\n]*/g)) out.push({ line: m[0], status: Number(m[1]) });
  return out;
}

// Opens a TCP connection to 127.0.0.1:`port`, writes `payload` (a string,
// Buffer, or an array of them written `gapMs` apart), then collects every
// byte the server sends until it closes the connection or `timeoutMs` passes
// (then the socket is destroyed). Resolves {text, closedByServer, responses}
// where responses = statusLines(text). Never rejects on resets: a reset
// counts as a close by the server.
export function rawExchange(port, payload, { timeoutMs = 10_000, gapMs = 0 } = {}) {
  const parts = Array.isArray(payload) ? payload : [payload];
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks = [];
    let settled = false;
    const finish = (closedByServer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(chunks).toString('latin1');
      resolve({ text, closedByServer, responses: statusLines(text) });
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.on('data', (d) => chunks.push(d));
    socket.on('end', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));
    socket.on('connect', async () => {
      for (let i = 0; i < parts.length; i++) {
        if (i > 0 && gapMs > 0) await sleep(gapMs);
        if (socket.destroyed) return;
        socket.write(parts[i]);
      }
    });
  });
}

// ---------------------------------------------------------------- WebSocket

// A minimal RFC 6455 client over node:net (Node 20 has no stable global
// WebSocket), enough for the data-plane tests: opening handshake with custom
// headers, masked text frames out, unmasked text/binary/close frames in
// (fragmented messages are reassembled), ping answered with pong.
//
// Resolves once the server answered the upgrade request:
//   {status, headers, rawHead, messages, closed (promise of {code, reason,
//    byServer}), isOpen(), sendText(s), nextMessage(pred, timeoutMs), close(code), destroy()}
// `status` is 101 on success; on any other status the socket is closed and
// rawHead holds the response head (messages stay empty).
export function openWebSocket(url, { headers = {}, timeoutMs = 60_000 } = {}) {
  const u = new URL(url);
  const key = Buffer.from(Array.from({ length: 16 }, () => Math.floor(Math.random() * 256))).toString('base64');
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(u.port), u.hostname);
    let buf = Buffer.alloc(0);
    let handshakeDone = false;
    let fragments = [];
    let fragmentOpcode = 0;
    const messages = [];
    const waiters = [];
    let open = false;
    let resolveClosed;
    const closed = new Promise((r) => (resolveClosed = r));
    let closeInfo = null;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`WebSocket ${url}: no upgrade response within ${timeoutMs} ms`));
    }, timeoutMs);

    const markClosed = (info) => {
      if (closeInfo) return;
      closeInfo = info;
      open = false;
      resolveClosed(info);
      for (const w of waiters.splice(0)) w.check();
    };
    const writeFrame = (opcode, payload) => {
      const mask = Buffer.from(Array.from({ length: 4 }, () => Math.floor(Math.random() * 256)));
      const len = payload.length;
      let head;
      if (len < 126) head = Buffer.from([0x80 | opcode, 0x80 | len]);
      else if (len < 65536) {
        head = Buffer.alloc(4);
        head[0] = 0x80 | opcode;
        head[1] = 0x80 | 126;
        head.writeUInt16BE(len, 2);
      } else {
        head = Buffer.alloc(10);
        head[0] = 0x80 | opcode;
        head[1] = 0x80 | 127;
        head.writeBigUInt64BE(BigInt(len), 2);
      }
      const masked = Buffer.alloc(len);
      for (let i = 0; i < len; i++) masked[i] = payload[i] ^ mask[i % 4];
      socket.write(Buffer.concat([head, mask, masked]));
    };
    const parseFrames = () => {
      for (;;) {
        if (buf.length < 2) return;
        const fin = (buf[0] & 0x80) !== 0;
        const opcode = buf[0] & 0x0f;
        const masked = (buf[1] & 0x80) !== 0;
        let len = buf[1] & 0x7f;
        let off = 2;
        if (len === 126) {
          if (buf.length < 4) return;
          len = buf.readUInt16BE(2);
          off = 4;
        } else if (len === 127) {
          if (buf.length < 10) return;
          len = Number(buf.readBigUInt64BE(2));
          off = 10;
        }
        const maskLen = masked ? 4 : 0;
        if (buf.length < off + maskLen + len) return;
        let payload = buf.subarray(off + maskLen, off + maskLen + len);
        if (masked) {
          const m = buf.subarray(off, off + 4);
          payload = Buffer.from(payload.map((b, i) => b ^ m[i % 4]));
        }
        buf = buf.subarray(off + maskLen + len);
        if (opcode === 0x8) {
          const code = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
          const reason = payload.length > 2 ? payload.subarray(2).toString('utf8') : '';
          if (open) writeFrame(0x8, payload.subarray(0, 2));
          markClosed({ code, reason, byServer: true });
          socket.end();
          return;
        }
        if (opcode === 0x9) {
          writeFrame(0xa, payload);
          continue;
        }
        if (opcode === 0xa) continue;
        if (opcode !== 0) fragmentOpcode = opcode;
        fragments.push(Buffer.from(payload));
        if (fin) {
          const data = Buffer.concat(fragments);
          fragments = [];
          messages.push(fragmentOpcode === 0x1 ? data.toString('utf8') : data);
          for (const w of [...waiters]) w.check();
        }
      }
    };

    socket.on('connect', () => {
      const lines = [
        `GET ${u.pathname}${u.search} HTTP/1.1`,
        `Host: ${u.host}`,
        'Upgrade: websocket',
        'Connection: Upgrade',
        `Sec-WebSocket-Key: ${key}`,
        'Sec-WebSocket-Version: 13',
      ];
      for (const [k, v] of Object.entries(headers)) {
        for (const one of Array.isArray(v) ? v : [v]) lines.push(`${k}: ${one}`);
      }
      socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    });
    socket.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (!handshakeDone) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        handshakeDone = true;
        clearTimeout(timer);
        const rawHead = buf.subarray(0, end).toString('latin1');
        buf = buf.subarray(end + 4);
        const [statusLine, ...headerLines] = rawHead.split('\r\n');
        const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0);
        const resHeaders = {};
        for (const l of headerLines) {
          const i = l.indexOf(':');
          if (i > 0) {
            const name = l.slice(0, i).trim().toLowerCase();
            const value = l.slice(i + 1).trim();
            resHeaders[name] = name in resHeaders ? [].concat(resHeaders[name], value) : value;
          }
        }
        open = status === 101;
        if (!open) {
          socket.destroy();
          markClosed({ code: 0, reason: `HTTP ${status}`, byServer: true });
        }
        const ws = {
          status,
          headers: resHeaders,
          rawHead,
          messages,
          closed,
          isOpen: () => open && !socket.destroyed,
          sendText(text) {
            writeFrame(0x1, Buffer.from(text, 'utf8'));
          },
          sendBinary(bytes) {
            writeFrame(0x2, bytes);
          },
          // Stops (and restarts) reading from the socket, so the server's
          // writes back up as they would to a stalled client.
          pauseReading() {
            socket.pause();
          },
          resumeReading() {
            socket.resume();
          },
          // Resolves the first message (from the start of the connection)
          // that satisfies `pred` and was not returned before.
          nextMessage(pred = () => true, waitMs = 30_000) {
            return new Promise((res, rej) => {
              const w = {
                check() {
                  const i = messages.findIndex((m, idx) => !w.seen.has(idx) && pred(m));
                  if (i >= 0) {
                    w.seen.add(i);
                    done();
                    res(messages[i]);
                  } else if (closeInfo) {
                    done();
                    rej(new Error(`WebSocket closed (${closeInfo.code} ${closeInfo.reason}) before a matching message; got ${messages.length} message(s)`));
                  }
                },
                seen: new Set(),
              };
              const t = setTimeout(() => {
                done();
                rej(new Error(`no matching WebSocket message within ${waitMs} ms; got:\n${messages.map(String).join('\n').slice(0, 2000)}`));
              }, waitMs);
              const done = () => {
                clearTimeout(t);
                const i = waiters.indexOf(w);
                if (i >= 0) waiters.splice(i, 1);
              };
              waiters.push(w);
              w.check();
            });
          },
          // Sends a close frame and waits (up to 5 s) for the server's.
          async close(code = 1000) {
            if (open && !socket.destroyed) {
              const p = Buffer.alloc(2);
              p.writeUInt16BE(code, 0);
              writeFrame(0x8, p);
              open = false;
              const t = sleep(5_000).then(() => 'timeout');
              await Promise.race([closed, t]);
            }
            socket.destroy();
            markClosed({ code, reason: '', byServer: false });
          },
          destroy() {
            socket.destroy();
            markClosed({ code: 1006, reason: 'destroyed', byServer: false });
          },
        };
        resolve(ws);
      }
      if (open) parseFrames();
    });
    socket.on('error', (err) => {
      if (!handshakeDone) {
        clearTimeout(timer);
        reject(err);
      }
      markClosed({ code: 1006, reason: err.message, byServer: true });
    });
    socket.on('close', () => markClosed({ code: 1006, reason: 'socket closed', byServer: true }));
  });
}

// ---------------------------------------------------------------- apps

// Copies fixture app `fixture`, lets `prepare(dir)` change the copy, and
// deploys it as `name` with `by deploy --yes --wait`. Throws with the CLI
// output and the server log unless the deploy succeeds.
export async function deployFixture(server, fixture, name, { prepare } = {}) {
  const dir = await copyFixtureApp(fixture);
  if (prepare) await prepare(dir);
  const args = ['deploy', dir, '--name', name, '--yes', '--wait'];
  const r = await byAs(server, args, { timeoutMs: 300_000 });
  if (r.code !== 0) throw new Error(`deploy of ${fixture} as ${name} failed${describeRun(args, r)}${server.logTail()}`);
  return r;
}

// The `runtime` object of `by get <name> --runtime --json` ({workers: [...],
// active_sessions, ...}). Throws with the CLI output when that fails.
export async function appRuntime(server, name) {
  const args = ['get', name, '--runtime', '--json'];
  const r = await byAs(server, args);
  const json = tryParseJson(r.stdout);
  if (r.code !== 0 || !json?.runtime) throw new Error(`no runtime from by get${describeRun(args, r)}`);
  return json.runtime;
}

// Workers of a runtime object that still run (anything but ended/failed).
export function liveWorkers(runtime) {
  return (runtime?.workers ?? []).filter((w) => !['ended', 'failed', 'stopped', 'exited'].includes(w.status));
}

// ---------------------------------------------------------------- binary HTTP

// Like request(), but the body is kept as a Buffer, and the response can be
// read slowly: with `pauseMs`, reading stops after the first chunk for that
// long while `whilePaused()` (if given) runs, then resumes. Resolves
// {status, headers, body (Buffer), cookies}.
export function requestBuffer(url, { method = 'GET', headers = {}, body, timeoutMs = 300_000, pauseMs = 0, whilePaused } = {}) {
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = http.request(url, { method, headers, agent: false }, (res) => {
      answered = true;
      const chunks = [];
      let paused = false;
      res.on('data', (c) => {
        chunks.push(c);
        if (pauseMs > 0 && !paused) {
          paused = true;
          res.pause();
          Promise.all([sleep(pauseMs), whilePaused ? whilePaused() : null])
            .then(() => res.resume())
            .catch((err) => req.destroy(err));
        }
      });
      res.on('error', reject);
      res.on('end', () =>
        resolve({
          status: res.statusCode,
          headers: res.headers,
          body: Buffer.concat(chunks),
          cookies: res.headers['set-cookie'] ?? [],
        }),
      );
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${url}: no response within ${timeoutMs} ms`)));
    // A server that answers early (e.g. 400/413) and closes makes our body
    // write fail; the answer is what the caller wants to see.
    req.on('error', (err) => {
      if (answered) return;
      if (err.code === 'EPIPE' || err.code === 'ECONNRESET') {
        err.message = `${method} ${url}: the server closed the connection while the request body was being sent (${err.code}), before any response was read`;
      }
      reject(err);
    });
    if (body !== undefined) req.write(body);
    req.end();
  });
}

// Resident set size of process `pid` in bytes (VmRSS), or null if gone.
export function residentBytes(pid) {
  const status = readProcFile(pid, 'status');
  const m = status && /^VmRSS:\s+(\d+)\s+kB/m.exec(status.toString('utf8'));
  return m ? Number(m[1]) * 1024 : null;
}

// Samples residentBytes(pid) every `intervalMs` until stop() is called;
// stop() resolves the largest value seen.
export function sampleResidentBytes(pid, intervalMs = 20) {
  let max = residentBytes(pid) ?? 0;
  const timer = setInterval(() => {
    max = Math.max(max, residentBytes(pid) ?? 0);
  }, intervalMs);
  timer.unref(); // a failed test that never calls stop() must not hang the run
  return {
    stop() {
      clearInterval(timer);
      max = Math.max(max, residentBytes(pid) ?? 0);
      return max;
    },
  };
}
