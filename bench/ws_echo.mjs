// WebSocket echo benchmark driver (used by bench/ws_echo.sh).
//
// For each open-socket tier and each target (e.g. "direct" and "blockyard"),
// on the same echo workers:
//   1. opens N sockets, spread evenly over the target's endpoints (one
//      endpoint = one worker; through blockyard, one session cookie each);
//      they stay open and idle for the whole measurement;
//   2. latency phase: ONE of those sockets ping-pongs serially (send, wait for
//      the echo, send again) for --seconds; p50/p99 round trip;
//   3. throughput phase: --active of those sockets ping-pong closed-loop at the
//      same time for --seconds; echoed messages per second (and p50/p99);
//   4. closes everything before the next target, so targets never overlap.
// Prints a table with each figure as a ratio to the first target.
//
// Usage: node ws_echo.mjs --config <json file>
//        node ws_echo.mjs --hold <json file>   (used by bench/ws_idle_rss.sh)
// --hold opens config.count idle sockets over config.endpoints, prints
// "open <n>" and keeps them until SIGTERM, then prints "closed". With
// config.touch > 0 each socket first echoes one message of that many bytes;
// an endpoint with "resumable": true is a resumable socket (its url has
// ?blockyard_resume=new) and acknowledges the echo as the browser script
// would.
//   { "tiers": [10, 1000], "seconds": 5, "active": 16, "size": 64,
//     "targets": [{ "name": "direct", "endpoints": [{ "url": "ws://..." }] },
//                 { "name": "blockyard",
//                   "endpoints": [{ "url": "ws://...", "headers": { "Cookie": "..." } }] }],
//     "per_endpoint": 3000 }
// An endpoint receives at most per_endpoint sockets; tiers use the first
// ceil(N / per_endpoint) endpoints of every target.
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';

const args = process.argv.slice(2);
const hold = args[0] === '--hold';
const configPath = args[1];
const config = JSON.parse(readFileSync(configPath, 'utf8'));
const seconds = config.seconds ?? 5;
const active = config.active ?? 16;
const payload = Buffer.alloc(config.size ?? 64, 'x');
const perEndpoint = config.per_endpoint ?? 3000;
let errors = 0; // errors on sockets after they opened
const openConcurrency = 64; // handshakes in flight at once (keeps accept queues short)

function open(endpoint) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(endpoint.url, {
      headers: endpoint.headers ?? {},
      perMessageDeflate: false,
      handshakeTimeout: 30000,
    });
    let opened = false;
    // Every error is handled: one before the upgrade fails this open; a socket
    // that fails later is counted as not open; neither may crash the run.
    ws.on('error', (err) => {
      if (opened) errors += 1;
      else reject(err);
    });
    ws.resumable = endpoint.resumable === true;
    ws.once('open', () => {
      opened = true;
      resolve(ws);
    });
    ws.once('unexpected-response', (_req, res) =>
      reject(new Error(`${endpoint.url}: upgrade refused with HTTP ${res.statusCode}`)));
  });
}

async function openMany(endpoints, n) {
  const used = endpoints.slice(0, Math.ceil(n / perEndpoint));
  if (used.length * perEndpoint < n) {
    throw new Error(`${n} sockets need ${Math.ceil(n / perEndpoint)} endpoints, have ${endpoints.length}`);
  }
  // The sockets that will be active come first, all on the first endpoint,
  // so every tier measures the same worker; the idle rest round-robin.
  const plan = [];
  for (let i = 0; i < n; i++) plan.push(i < active ? used[0] : used[i % used.length]);
  const sockets = new Array(n);
  let next = 0;
  let failure = null;
  async function worker() {
    while (next < plan.length && !failure) {
      const index = next++;
      try {
        sockets[index] = await open(plan[index]);
      } catch (err) {
        failure = err;
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(openConcurrency, n) }, worker));
  if (failure) {
    // Leave nothing open for the next target.
    await closeAll(sockets.filter(Boolean));
    throw new Error(`opening socket ${sockets.filter(Boolean).length + 1} of ${n}: ${failure.message}`);
  }
  return sockets;
}

async function closeAll(sockets) {
  await Promise.all(sockets.map((ws) => new Promise((resolve) => {
    if (ws.readyState === WebSocket.CLOSED) return resolve();
    ws.once('close', resolve);
    ws.terminate();
  })));
}

// Serial ping-pong on each socket of `sockets` until `ms` elapse; every
// round trip's latency in microseconds.
async function pingPong(sockets, ms) {
  const samples = [];
  const deadline = performance.now() + ms;
  await Promise.all(sockets.map((ws) => new Promise((resolve, reject) => {
    let sentAt = 0n;
    const onMessage = () => {
      samples.push(Number(process.hrtime.bigint() - sentAt) / 1000);
      if (performance.now() >= deadline) {
        ws.off('message', onMessage);
        return resolve();
      }
      send();
    };
    const send = () => {
      sentAt = process.hrtime.bigint();
      ws.send(payload, { binary: true }, (err) => err && reject(err));
    };
    ws.on('message', onMessage);
    ws.once('close', () => reject(new Error('socket closed during the measurement')));
    send();
  })));
  return samples;
}

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function measure(target, n) {
  const sockets = await openMany(target.endpoints, n);
  await sleep(500); // let the opening burst settle
  const sample = sockets.slice(0, active);
  await pingPong([sample[0]], 500); // warm-up
  const serial = (await pingPong([sample[0]], seconds * 1000)).sort((a, b) => a - b);
  const started = performance.now();
  const loaded = (await pingPong(sample, seconds * 1000)).sort((a, b) => a - b);
  const elapsed = (performance.now() - started) / 1000;
  const stillOpen = sockets.filter((ws) => ws.readyState === WebSocket.OPEN).length;
  await closeAll(sockets);
  return {
    target: target.name, open: n, still_open: stillOpen, active: sample.length,
    p50_ms: percentile(serial, 50) / 1000, p99_ms: percentile(serial, 99) / 1000,
    loaded_p50_ms: percentile(loaded, 50) / 1000, loaded_p99_ms: percentile(loaded, 99) / 1000,
    msgs_per_s: loaded.length / elapsed,
  };
}

if (hold) {
  const sockets = await openMany(config.endpoints, config.count);
  if (config.touch > 0) {
    // Idle after activity: each socket echoes one message of config.touch
    // bytes first, so the proxy's per-socket buffers have been used.
    const big = Buffer.alloc(config.touch, 'y');
    for (let i = 0; i < sockets.length; i += openConcurrency) {
      await Promise.all(sockets.slice(i, i + openConcurrency).map((ws) => new Promise((resolve) => {
        const onMessage = (_data, isBinary) => {
          if (!isBinary) return; // a resumable socket's control messages (hello)
          ws.off('message', onMessage);
          // Like the browser script: acknowledge, so the proxy may drop its
          // replay copy of the echo.
          if (ws.resumable) ws.send(`\x1e${JSON.stringify({ t: 'ack', n: 1 })}`);
          resolve();
        };
        ws.on('message', onMessage);
        ws.send(big, { binary: true });
      })));
      await sleep(500); // let the acks arrive
    }
  }
  console.log(`open ${sockets.filter((ws) => ws.readyState === WebSocket.OPEN).length}`);
  setInterval(() => errors && console.log(`errors ${errors}`), 1000).unref();
  await new Promise((resolve) => process.once('SIGTERM', resolve));
  await closeAll(sockets);
  console.log('closed');
  process.exit(0);
}

const pad = (v, w) => String(v).padStart(w);
const fix = (v, d) => (Number.isFinite(v) ? v.toFixed(d) : '-');

console.log(`WebSocket echo: ${payload.length}-byte binary messages, ${seconds}s per phase; ` +
  `latency = 1 socket ping-pong serially, throughput = ${active} sockets closed-loop; ` +
  'all other open sockets idle');
for (const n of config.tiers) {
  const rows = [];
  for (const target of config.targets) {
    try {
      rows.push(await measure(target, n));
    } catch (err) {
      // One target failing (e.g. a peer out of connections) must not hide the others.
      console.error(`${target.name} with ${n} sockets failed: ${err.message}`);
      rows.push({ target: target.name, open: n, still_open: 0, p50_ms: NaN, p99_ms: NaN,
        loaded_p50_ms: NaN, loaded_p99_ms: NaN, msgs_per_s: NaN });
    }
    await sleep(1000);
  }
  const base = rows[0];
  console.log(`\n== ${n} open sockets ==`);
  console.log(['target', 'open', 'p50_ms', 'p99_ms', 'msgs/s', 'ld_p50_ms', 'ld_p99_ms',
    'p50/' + base.target, 'p99/' + base.target, 'msgs/' + base.target]
    .map((h, i) => (i === 0 ? h.padEnd(10) : pad(h, i < 7 ? 10 : 14))).join(' '));
  for (const r of rows) {
    console.log([r.target.padEnd(10), pad(r.still_open, 10), pad(fix(r.p50_ms, 3), 10),
      pad(fix(r.p99_ms, 3), 10), pad(fix(r.msgs_per_s, 0), 10), pad(fix(r.loaded_p50_ms, 3), 10),
      pad(fix(r.loaded_p99_ms, 3), 10), pad(fix(r.p50_ms / base.p50_ms, 2), 14),
      pad(fix(r.p99_ms / base.p99_ms, 2), 14), pad(fix(r.msgs_per_s / base.msgs_per_s, 2), 14)]
      .join(' '));
  }
  if (process.env.WS_ECHO_JSON) console.log(JSON.stringify(rows));
}
process.exit(0);
