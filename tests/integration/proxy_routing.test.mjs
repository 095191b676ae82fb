// Routing on /app/<segment>/: app by name and by id, the trailing-slash
// redirect, unknown and disabled apps, and renames: the former name keeps
// serving the app during the alias window, then answers 301 to the new name
// (path and query kept), then is forgotten; while it serves, no other app may
// take it. Also the security headers every response carries.
//
// The alias window is two hours; the test moves a rename into its later
// phases by rewriting the alias row's expiry with the sqlite3 CLI (the
// server reads the phase from the row at each request).

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  cleanupWithoutLeftovers,
  deployFixture,
  parseSetCookies,
  request,
  startServer,
} from '../lib/harness.mjs';

const rfc3339 = (ms) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

describe('app routing and renames', { timeout: 600_000 }, () => {
  let server;
  let appId;

  before(async () => {
    server = await startServer();
    await deployFixture(server, 'echo', 'first-name');
    const got = await server.api('GET', '/api/v1/apps/first-name');
    assert.equal(got.status, 200, got.body);
    appId = got.json.id;
  });

  after(() => cleanupWithoutLeftovers(server));

  const sql = (statement) =>
    execFileSync('sqlite3', ['-cmd', '.timeout 5000', path.join(server.dataDir, 'blockyard.db'), statement], {
      encoding: 'utf8',
    });

  function assertSecurityHeaders(res, what) {
    assert.equal(res.headers['x-content-type-options'], 'nosniff', what);
    assert.equal(res.headers['x-frame-options'], 'DENY', what);
    assert.equal(res.headers['referrer-policy'], 'strict-origin-when-cross-origin', what);
    assert.ok(res.headers['x-blockyard-version'], `${what}: no X-Blockyard-Version`);
  }

  test('by name, by id, trailing slash, unknown app', async () => {
    const byName = await request(`${server.url}/app/first-name/headers`);
    assert.equal(byName.status, 200, `${byName.status} ${byName.body}${server.logTail()}`);
    assert.ok(JSON.parse(byName.body), 'the echo app answers JSON');
    assertSecurityHeaders(byName, 'proxied app response');

    const byId = await request(`${server.url}/app/${appId}/headers`);
    assert.equal(byId.status, 200, `by id: ${byId.status} ${byId.body}`);
    assert.equal(
      parseSetCookies(byId.cookies).blockyard_route?.attrs?.path,
      `/app/${appId}/`,
      `cookie path follows the URL segment: ${byId.cookies}`,
    );

    const noSlash = await request(`${server.url}/app/first-name?x=1`);
    assert.equal(noSlash.status, 301);
    assert.equal(noSlash.headers.location, '/app/first-name/?x=1');

    const unknown = await request(`${server.url}/app/no-such-app/`);
    assert.equal(unknown.status, 404);
    assert.match(unknown.body, /app not found/);
    assertSecurityHeaders(unknown, 'proxy 404');

    const badSegment = await request(`${server.url}/app/Not_A_Name`);
    assert.equal(badSegment.status, 404);
  });

  test('API responses carry the security headers and the API policy', async () => {
    const res = await server.api('GET', '/api/v1/apps');
    assert.equal(res.status, 200);
    assertSecurityHeaders(res, 'API response');
    assert.equal(res.headers['content-security-policy'], "default-src 'none'; frame-ancestors 'none'");
    assert.equal(res.headers['cache-control'], 'no-store');
    const health = await request(`${server.url}/healthz`);
    assertSecurityHeaders(health, '/healthz');
  });

  test('a renamed app answers under both names, and its former name is reserved', async () => {
    const renamed = await server.api('PATCH', '/api/v1/apps/first-name', { body: { name: 'second-name' } });
    assert.equal(renamed.status, 200, renamed.body);
    assert.equal(renamed.json.name, 'second-name');
    assert.equal(renamed.json.id, appId);

    const viaNew = await request(`${server.url}/app/second-name/headers`);
    assert.equal(viaNew.status, 200, `new name: ${viaNew.status} ${viaNew.body}`);
    const viaOld = await request(`${server.url}/app/first-name/headers?q=1`);
    assert.equal(viaOld.status, 200, `old name during the alias window: ${viaOld.status} ${viaOld.body}`);

    const apiOld = await server.api('GET', '/api/v1/apps/first-name');
    assert.equal(apiOld.status, 200);
    assert.equal(apiOld.json.id, appId, 'the API resolves the former name too');

    const squat = await server.api('POST', '/api/v1/apps', { body: { name: 'first-name' } });
    assert.equal(squat.status, 409, `taking a serving alias: ${squat.status} ${squat.body}`);
    assert.match(squat.json.message, /alias/);
  });

  test('after the alias window the former name redirects with 301, keeping path and query', async () => {
    // The alias phase ended a minute ago: the redirect phase (7 days) began.
    sql(`UPDATE app_aliases SET expires_at = '${rfc3339(Date.now() - 60_000)}' WHERE name = 'first-name'`);
    const res = await request(`${server.url}/app/first-name/some/page.html?a=1&b=two`);
    assert.equal(res.status, 301, `${res.status} ${res.body}`);
    assert.equal(res.headers.location, '/app/second-name/some/page.html?a=1&b=two');
    assertSecurityHeaders(res, 'alias redirect');

    // A redirecting name may be reused; the new app then owns it.
    const reuse = await server.api('POST', '/api/v1/apps', { body: { name: 'first-name' } });
    assert.equal(reuse.status, 201, reuse.body);
    const nowOther = await request(`${server.url}/app/first-name/`);
    assert.equal(nowOther.status, 503, 'the new app has no bundle yet');
    assert.match(nowOther.body, /no active bundle/);
    const del = await server.api('DELETE', `/api/v1/apps/${reuse.json.id}`);
    assert.equal(del.status, 204);
  });

  test('an expired redirect is forgotten', async () => {
    const renamed = await server.api('PATCH', `/api/v1/apps/${appId}`, { body: { name: 'third-name' } });
    assert.equal(renamed.status, 200, renamed.body);
    sql(`UPDATE app_aliases SET phase = 'redirect', expires_at = '${rfc3339(Date.now() - 1_000)}' WHERE name = 'second-name'`);
    const gone = await request(`${server.url}/app/second-name/`);
    assert.equal(gone.status, 404);
  });

  test('a disabled app answers 503 under every name', async () => {
    const disabled = await server.api('POST', '/api/v1/apps/third-name/disable');
    assert.equal(disabled.status, 200, disabled.body);
    for (const segment of ['third-name', appId]) {
      const res = await request(`${server.url}/app/${segment}/headers`);
      assert.equal(res.status, 503, `${segment}: ${res.status}`);
      assert.match(res.body, /app is disabled/);
    }
    const enabled = await server.api('POST', '/api/v1/apps/third-name/enable');
    assert.equal(enabled.status, 200);
    const back = await request(`${server.url}/app/third-name/headers`);
    assert.equal(back.status, 200, `re-enabled: ${back.status} ${back.body}`);
  });
});
