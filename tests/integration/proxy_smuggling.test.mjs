// Request smuggling: requests whose framing two HTTP parsers could read
// differently must be refused with 400 and the connection closed, so that no
// bytes after the ambiguous header can be taken as a second request. Each
// shape is sent over raw TCP to the data plane (/app/<name>/...) and to the
// API (/api/v1/apps); the bytes after the header always hold a complete
// "smuggled" GET /healthz, which must never be answered.
//
// A well-formed pipelined pair is sent first to prove that the response
// counting does see a second response when there is one.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  cleanupWithoutLeftovers,
  deployFixture,
  openSession,
  rawExchange,
  request,
  startServer,
} from '../lib/harness.mjs';

const CRLF = '\r\n';

describe('request smuggling shapes get 400 and a closed connection', { timeout: 900_000 }, () => {
  let server;
  let cookie;

  before(async () => {
    server = await startServer();
    await deployFixture(server, 'echo', 'echo');
    // One session (and worker) that every data-plane request below reuses.
    cookie = await openSession(server, '/app/echo/headers');
  });

  after(() => cleanupWithoutLeftovers(server));

  const host = () => `127.0.0.1:${server.port}`;
  const smuggled = () => `GET /healthz HTTP/1.1${CRLF}Host: ${host()}${CRLF}${CRLF}`;

  // The two places a request can land, with the headers each needs to be
  // served if it were accepted.
  // `validBody` is a body the target accepts (not 4xx) when framed correctly.
  const targets = {
    'data plane': {
      line: 'POST /app/echo/body HTTP/1.1',
      headers: () => [`Cookie: ${cookie}`],
      validBody: 'hello',
    },
    API: {
      line: 'POST /api/v1/apps HTTP/1.1',
      headers: () => [`Authorization: Bearer ${server.token}`, 'Content-Type: application/json'],
      validBody: JSON.stringify({ name: 'pipelined-ok' }),
    },
  };

  // Builds a request from its start line, header lines and raw tail.
  function build(target, framing, tail, { eol = CRLF } = {}) {
    const lines = [target.line, `Host: ${host()}`, ...target.headers(), ...framing];
    return lines.join(eol) + eol + eol + tail;
  }

  // Every shape: (target) => payload. The smuggled GET always follows the
  // part that one reading of the framing would take as the body.
  const shapes = {
    'Content-Length and Transfer-Encoding: chunked': (t) => {
      const tail = `0${CRLF}${CRLF}${smuggled()}`;
      return build(t, [`Content-Length: ${tail.length}`, 'Transfer-Encoding: chunked'], tail);
    },
    'Transfer-Encoding: chunked before Content-Length': (t) =>
      build(t, ['Transfer-Encoding: chunked', 'Content-Length: 3'], `0${CRLF}${CRLF}${smuggled()}`),
    'two different Content-Length headers': (t) =>
      build(t, ['Content-Length: 0', `Content-Length: ${smuggled().length}`], smuggled()),
    'a Content-Length list with different values': (t) =>
      build(t, [`Content-Length: 0, ${smuggled().length}`], smuggled()),
    'a Content-Length with a sign': (t) => build(t, ['Content-Length: +0'], smuggled()),
    'an obs-fold continuation line': (t) =>
      build(t, ['Content-Length: 0', 'X-Folded: first', ' continued'], smuggled()),
    'an obs-fold continuing Transfer-Encoding': (t) =>
      build(t, ['Content-Length: 0', 'Transfer-Encoding: identity', '\tchunked'], `0${CRLF}${CRLF}${smuggled()}`),
    'Transfer-Encoding: xchunked': (t) => build(t, ['Transfer-Encoding: xchunked'], smuggled()),
    'Transfer-Encoding: chunked, identity': (t) =>
      build(t, ['Transfer-Encoding: chunked, identity'], smuggled()),
    'Transfer-Encoding: identity': (t) => build(t, ['Transfer-Encoding: identity'], smuggled()),
    'Transfer-Encoding: chunked twice': (t) =>
      build(t, ['Transfer-Encoding: chunked', 'Transfer-Encoding: chunked'], `0${CRLF}${CRLF}${smuggled()}`),
    'whitespace between Transfer-Encoding and the colon': (t) =>
      build(t, ['Content-Length: 0', 'Transfer-Encoding : chunked'], `0${CRLF}${CRLF}${smuggled()}`),
    'a bare LF inside the header block': (t) =>
      build(t, [`X-Padding: a\nTransfer-Encoding: chunked`, 'Content-Length: 0'], `0${CRLF}${CRLF}${smuggled()}`),
    'bare LF line endings throughout': (t) =>
      build(t, ['Content-Length: 0'], smuggled(), { eol: '\n' }),
    'a bare CR inside a header value': (t) =>
      build(t, ['X-Padding: a\rTransfer-Encoding: chunked', 'Content-Length: 0'], `0${CRLF}${CRLF}${smuggled()}`),
  };

  for (const [where, target] of Object.entries(targets)) {
    test(`${where}: a well-formed pipelined request pair gets two answers (the check can see a second response)`, async () => {
      const first = build(target, [`Content-Length: ${target.validBody.length}`], target.validBody);
      const last = `GET /healthz HTTP/1.1${CRLF}Host: ${host()}${CRLF}Connection: close${CRLF}${CRLF}`;
      const r = await rawExchange(server.port, first + last, { timeoutMs: 30_000 });
      assert.equal(r.responses.length, 2, `expected two responses, got:\n${r.text.slice(0, 1500)}${server.logTail(30)}`);
      assert.ok(r.responses[0].status < 400, `the well-formed request was refused:\n${r.text.slice(0, 800)}`);
      assert.equal(r.responses[1].status, 200, `GET /healthz:\n${r.text.slice(0, 1500)}`);
    });

    for (const [shape, makePayload] of Object.entries(shapes)) {
      test(`${where}: ${shape} → 400, connection closed, nothing smuggled`, async () => {
        const payload = makePayload(target);
        const r = await rawExchange(server.port, payload, { timeoutMs: 8_000 });
        const shown = `\n--- sent ---\n${JSON.stringify(payload)}\n--- received ---\n${r.text.slice(0, 1500)}`;
        assert.ok(r.responses.length > 0, `no response at all (closed: ${r.closedByServer})${shown}`);
        assert.equal(r.responses[0].status, 400, `first response is not 400${shown}`);
        assert.equal(r.responses.length, 1, `a second (smuggled) request was answered${shown}`);
        assert.ok(r.closedByServer, `the server kept the connection open after the 400${shown}`);
      });
    }
  }
});
