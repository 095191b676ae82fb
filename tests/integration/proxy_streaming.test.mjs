// Large bodies through the data plane: a 20 MiB request body reaches the app
// intact, 30 MiB responses (made by R, and a static file under www/) reach
// the client intact, and the proxy streams them: its resident memory does not
// grow by anything like a body's size, even when the client reads slowly.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fsp from 'node:fs/promises';
import path from 'node:path';
import zlib from 'node:zlib';
import { after, before, describe, test } from 'node:test';

import {
  cleanupWithoutLeftovers,
  deployFixture,
  openSession,
  request,
  requestBuffer,
  residentBytes,
  sampleResidentBytes,
  startServer,
  tryParseJson,
} from '../lib/harness.mjs';

const MiB = 1024 * 1024;
// Served by every Shiny app; httpuv gzips it into a chunked response for
// clients that accept gzip (every browser).
const SHINY_JS = '/usr/lib/R/site-library/shiny/www/shared/shiny.min.js';
const md5 = (buf) => crypto.createHash('md5').update(buf).digest('hex');
const sha256 = (buf) => crypto.createHash('sha256').update(buf).digest('hex');
// Well under the smallest body below: a proxy that held a whole body would
// grow by at least 20 MiB.
const MAX_GROWTH = 12 * MiB;

describe('large bodies stream through the proxy', { timeout: 900_000 }, () => {
  let server;
  let cookie;
  let bigFile; // the 30 MiB file deployed as www/big.bin of app "echobig"

  before(async () => {
    server = await startServer();
    await deployFixture(server, 'echo', 'echo');
    cookie = await openSession(server, '/app/echo/headers');
  });

  after(() => cleanupWithoutLeftovers(server));

  async function upload(body) {
    const r = await requestBuffer(`${server.url}/app/echo/body`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/octet-stream', 'content-length': String(body.length) },
      body,
    });
    const text = r.body.toString('utf8');
    assert.equal(r.status, 200, `upload: status ${r.status} body ${text.slice(0, 300)}${server.logTail()}`);
    const got = tryParseJson(text);
    assert.ok(got, `upload: the app did not answer JSON: ${text.slice(0, 300)}`);
    return got;
  }

  async function download(mib, seed, opts = {}) {
    const r = await requestBuffer(`${server.url}/app/echo/big?mib=${mib}&seed=${seed}`, { headers: { cookie }, ...opts });
    assert.equal(r.status, 200, `download: status ${r.status} body ${r.body.toString('utf8', 0, 300)}${server.logTail()}`);
    return r;
  }

  test('a 20 MiB request body reaches the app complete', async () => {
    const body = crypto.randomBytes(20 * MiB);
    const got = await upload(body);
    assert.equal(got.bytes, body.length, `the app received ${got.bytes} of ${body.length} bytes`);
    assert.equal(got.md5, md5(body), 'the app received different bytes');
    assert.equal(got.content_length, String(body.length), 'the app saw a different Content-Length');
  });

  test('a 30 MiB response made by the app reaches the client complete', async () => {
    const r = await download(30, 11);
    assert.equal(r.body.length, 30 * MiB, `received ${r.body.length} bytes`);
    assert.equal(r.headers['content-length'], String(30 * MiB), `Content-Length: ${r.headers['content-length']}`);
    assert.equal(md5(r.body), r.headers['x-body-md5'], 'the client received different bytes than the app sent');
  });

  const mb = (n) => `${(n / MiB).toFixed(1)} MiB`;

  test('the proxy does not buffer a response for a slow reader', async () => {
    // Warm up the path once so one-time allocations are not counted.
    await download(1, 1);
    const baseline = residentBytes(server.pid);
    assert.ok(baseline, 'cannot read the server RSS');

    // Stop reading after the first chunk for 4 s. A proxy without
    // back-pressure reads the whole 30 MiB from the worker meanwhile.
    const sampler = sampleResidentBytes(server.pid);
    let slow;
    let peak;
    try {
      slow = await download(30, 12, { pauseMs: 4_000 });
    } finally {
      peak = sampler.stop();
    }
    assert.equal(md5(slow.body), slow.headers['x-body-md5'], 'the slow reader received different bytes');
    assert.ok(
      peak - baseline < MAX_GROWTH,
      `server RSS grew by ${mb(peak - baseline)} during a paused 30 MiB download (baseline ${mb(baseline)})`,
    );
  });

  test('the proxy does not buffer a 20 MiB request body', async () => {
    await upload(crypto.randomBytes(64 * 1024)); // warm-up
    const baseline = residentBytes(server.pid);
    assert.ok(baseline, 'cannot read the server RSS');
    const sampler = sampleResidentBytes(server.pid);
    const body = crypto.randomBytes(20 * MiB);
    let got;
    let peak;
    try {
      got = await upload(body);
    } finally {
      peak = sampler.stop();
    }
    assert.equal(got.md5, md5(body), 'the app received different bytes');
    assert.ok(
      peak - baseline < MAX_GROWTH,
      `server RSS grew by ${mb(peak - baseline)} during a 20 MiB upload (baseline ${mb(baseline)})`,
    );
  });

  test('a 30 MiB static file under www/ arrives complete', async () => {
    bigFile = crypto.randomBytes(30 * MiB);
    await deployFixture(server, 'echo', 'echobig', {
      prepare: async (dir) => {
        await fsp.mkdir(path.join(dir, 'www'), { recursive: true });
        await fsp.writeFile(path.join(dir, 'www', 'big.bin'), bigFile);
      },
    });
    const r = await requestBuffer(`${server.url}/app/echobig/big.bin`);
    assert.equal(r.status, 200, `status ${r.status} body ${r.body.toString('utf8', 0, 300)}${server.logTail()}`);
    assert.equal(r.body.length, bigFile.length, `received ${r.body.length} of ${bigFile.length} bytes`);
    assert.equal(sha256(r.body), sha256(bigFile), 'the client received different bytes than the file holds');
  });

  test('a chunked, gzip-encoded Shiny asset arrives whole (what a browser gets)', async () => {
    const r = await requestBuffer(`${server.url}/app/echo/shared/shiny.min.js`, {
      headers: { cookie, 'accept-encoding': 'gzip, deflate' },
    });
    assert.equal(r.status, 200, `status ${r.status}${server.logTail()}`);
    assert.equal(r.headers['content-encoding'], 'gzip', 'the worker did not gzip the asset: the test would not cover chunked bodies');
    assert.equal(r.headers['transfer-encoding'], 'chunked', 'expected a chunked response from the worker');
    const expected = await fsp.readFile(SHINY_JS);
    const got = zlib.gunzipSync(r.body);
    assert.equal(got.length, expected.length, `received ${got.length} of ${expected.length} bytes once decompressed`);
    assert.ok(got.equals(expected), 'the decompressed asset differs from the file the app serves');
  });
});
