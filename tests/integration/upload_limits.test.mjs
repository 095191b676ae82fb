// storage.max_bundle_size is enforced while the upload streams: a declared
// size over the limit is refused before any body byte is read (a client
// that waits for 100 Continue never sends it), a chunked body is cut off as
// soon as it passes the limit, and the error names the limit and the size.
// Nothing is stored, and `by deploy` of a too-large directory says why and
// leaves no app behind.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { byAs, copyFixtureApp, describeRun, rawExchange, startServer, tryParseJson } from '../lib/harness.mjs';

const LIMIT = 1 << 20; // 1 MiB

describe('storage.max_bundle_size', { timeout: 300_000 }, () => {
  let server;
  let appId;

  before(async () => {
    server = await startServer({ config: { storage: { max_bundle_size: LIMIT } } });
    const created = await server.api('POST', '/api/v1/apps', { body: { name: 'big' } });
    assert.equal(created.status, 201, created.body);
    appId = created.json.id;
  });

  after(async () => {
    await server?.cleanup();
  });

  const head = (extra) =>
    `POST /api/v1/apps/${appId}/bundles HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${server.token}\r\n` +
    `Content-Type: application/gzip\r\n${extra}\r\n`;

  async function noBundles() {
    const list = await server.api('GET', `/api/v1/apps/${appId}/bundles`);
    assert.deepEqual(list.json.bundles, [], 'a refused upload was stored');
  }

  test('a declared size over the limit: 413 naming both sizes before the body is sent', async () => {
    const size = 120 * 1024 * 1024;
    // Waits for 100 Continue, as curl and `by` do: the server must answer
    // without it, and the 120 MB are never sent.
    const r = await rawExchange(server.port, head(`Content-Length: ${size}\r\nExpect: 100-continue\r\n`), {
      timeoutMs: 10_000,
    });
    assert.equal(r.responses[0]?.status, 413, r.text);
    assert.doesNotMatch(r.text, /100 Continue/);
    const body = tryParseJson(r.text.slice(r.text.indexOf('\r\n\r\n') + 4));
    assert.equal(body?.error, 'payload_too_large', r.text);
    assert.equal(body?.message, `bundle is ${size} bytes; storage.max_bundle_size is ${LIMIT} bytes`);
    await noBundles();
  });

  test('a declared size over the limit without Expect: refused while the body streams', async () => {
    const size = 3 * LIMIT;
    const r = await rawExchange(server.port, [head(`Content-Length: ${size}\r\n`), crypto.randomBytes(size)], { timeoutMs: 10_000 });
    assert.equal(r.responses[0]?.status, 413, r.text);
    assert.match(r.text, new RegExp(`bundle is ${size} bytes; storage.max_bundle_size is ${LIMIT} bytes`));
    await noBundles();
  });

  test('a chunked body is cut off once it passes the limit', async () => {
    const chunk = crypto.randomBytes(256 * 1024);
    const parts = [head('Transfer-Encoding: chunked\r\n')];
    for (let i = 0; i < 8; i++) parts.push(Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]));
    parts.push('0\r\n\r\n');
    const r = await rawExchange(server.port, parts, { timeoutMs: 10_000, gapMs: 20 });
    assert.equal(r.responses[0]?.status, 413, r.text);
    assert.match(r.text, new RegExp(`bundle is larger than ${LIMIT} bytes; storage.max_bundle_size is ${LIMIT} bytes`));
    await noBundles();
  });

  test('by deploy of a directory over the limit says why and leaves no app', async () => {
    const dir = await copyFixtureApp('hello');
    await fsp.writeFile(path.join(dir, 'data.bin'), crypto.randomBytes(2 * LIMIT)); // random: gzip cannot shrink it
    const args = ['deploy', dir, '--name', 'toobig', '--yes'];
    const r = await byAs(server, args, { timeoutMs: 60_000 });
    assert.equal(r.code, 1, describeRun(args, r));
    assert.match(r.stderr, new RegExp(`bundle is \\d+ bytes; storage.max_bundle_size is ${LIMIT} bytes`), describeRun(args, r));
    const list = await server.api('GET', '/api/v1/apps');
    assert.ok(!list.json.apps.some((a) => a.name === 'toobig'), 'the refused first deploy left its app behind');
  });
});
