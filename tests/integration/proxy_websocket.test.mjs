// The plain WebSocket tunnel (any WebSocket that is not the resumable Shiny
// socket): bytes pass both ways unchanged whatever the message size, also
// when the destination cannot take them at once, and many tunnels ending in
// the same instant leave the proxy serving. Upstream: the ws-echo fixture, a
// bare httpuv server that sends every message back.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';

import {
  cleanupWithoutLeftovers,
  deployFixture,
  openSession,
  openWebSocket,
  request,
  sleep,
  startServer,
  waitFor,
} from '../lib/harness.mjs';

const sha256 = (buf) => crypto.createHash('sha256').update(buf).digest('hex');

describe('WebSocket tunnel', { timeout: 600_000 }, () => {
  let server;
  let cookie;

  before(async () => {
    server = await startServer();
    await deployFixture(server, 'ws-echo', 'ws-echo');
    cookie = await openSession(server, '/app/ws-echo/');
  });

  after(() => cleanupWithoutLeftovers(server));

  async function connect() {
    const ws = await openWebSocket(`${server.url.replace('http', 'ws')}/app/ws-echo/`, {
      headers: { cookie, Origin: server.url },
    });
    assert.equal(ws.status, 101, `upgrade refused:\n${ws.rawHead}${server.logTail()}`);
    return ws;
  }

  test('messages from 1 byte to 5 MiB, sent back to back to a stalled reader, come back whole and in order', async () => {
    const ws = await connect();
    try {
      // Sizes around the frame-length encodings and the tunnel's 64 KiB read
      // size, several MiB in all: more than the socket buffers hold.
      const sizes = [1, 125, 126, 65_535, 65_536, 65_537, 200_000, 1_000_000, 3 * 1024 * 1024, 7, 5 * 1024 * 1024];
      const sent = sizes.map((n) => crypto.randomBytes(n));
      // A client that stops reading: the echoes back up in the proxy, which
      // must keep what the client cannot take yet and stop reading the worker.
      ws.pauseReading();
      for (const bytes of sent) ws.sendBinary(bytes);
      await sleep(2_000);
      ws.resumeReading();
      await waitFor(() => ws.messages.length >= sent.length || !ws.isOpen(), {
        timeoutMs: 120_000,
        what: `${sent.length} echoes (got ${ws.messages.length})`,
      });
      assert.equal(ws.messages.length, sent.length, `echoes received${server.logTail()}`);
      for (let i = 0; i < sent.length; i++) {
        const got = ws.messages[i];
        assert.ok(Buffer.isBuffer(got), `message ${i} came back as text`);
        assert.equal(got.length, sent[i].length, `message ${i}: ${got.length} of ${sent[i].length} bytes`);
        assert.equal(sha256(got), sha256(sent[i]), `message ${i} came back altered (or out of order)`);
      }
    } finally {
      await ws.close(1000);
    }
  });

  test('300 tunnels dropped in the same instant leave the proxy serving', async () => {
    for (let round = 0; round < 2; round++) {
      const sockets = [];
      for (let i = 0; i < 300; i++) sockets.push(await connect());
      // Every tunnel carries traffic first, so both directions are mid-wait.
      await Promise.all(
        sockets.map(async (ws, i) => {
          ws.sendText(`ping ${i}`);
          assert.equal(await ws.nextMessage((m) => m === `ping ${i}`), `ping ${i}`);
        }),
      );
      for (const ws of sockets) ws.destroy();
      await sleep(500);
      assert.equal(server.exitInfo, null, `blockyard exited after the sockets dropped${server.logTail()}`);
      const health = await request(`${server.url}/healthz`);
      assert.equal(health.status, 200, `healthz: ${health.status}${server.logTail()}`);
    }
    const ws = await connect();
    try {
      ws.sendText('still there');
      assert.equal(await ws.nextMessage(), 'still there');
    } finally {
      await ws.close(1000);
    }
  });
});
