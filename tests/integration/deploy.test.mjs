// The vertical slice on real parts: the blockyard server, the `by` CLI, bwrap
// and R Shiny workers. Deploys fixture apps, reaches them through the proxy,
// checks the API's error shapes, and proves a SIGTERM leaves no worker behind.
//
// The tests run in order and share one server; each states what it needs.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  assertNoLeftovers,
  by,
  byAs,
  copyFixtureApp,
  describeProcesses,
  describeRun,
  findByName,
  listItems,
  parseSetCookies,
  request,
  runProcesses,
  startServer,
  tryParseJson,
  waitFor,
  workerProcesses,
} from '../lib/harness.mjs';

const TEXT_HTML = { accept: 'text/html,application/xhtml+xml' };

describe('deploy with by, serve through bwrap workers', { timeout: 900_000 }, () => {
  let server;
  let helloBundle; // bundle id printed by `by deploy hello`
  let routeCookie; // "blockyard_route=<value>" of the first /app/hello/ session

  before(async () => {
    server = await startServer();
  });

  after(async () => {
    await server?.cleanup();
  });

  // Runs `by` as the admin (env credentials) and fails with the full output
  // and the server log unless the exit code is `code`.
  async function byOk(args, { code = 0, ...opts } = {}) {
    const r = await byAs(server, args, opts);
    assert.equal(r.code, code, `unexpected exit code${describeRun(args, r)}${server.logTail()}`);
    return r;
  }

  // GET /app/<name>/ as a non-browser client (held until a worker is ready).
  async function getApp(name, headers = {}) {
    return request(`${server.url}/app/${name}/`, { headers, timeoutMs: 120_000 });
  }

  test('/healthz answers ok and /readyz reports ready', async () => {
    const health = await request(`${server.url}/healthz`);
    assert.equal(health.status, 200, `/healthz status${server.logTail()}`);
    assert.equal(health.body.trim(), 'ok');

    const ready = await request(`${server.url}/readyz`);
    assert.equal(ready.status, 200, `/readyz status, body ${ready.body}${server.logTail()}`);
    assert.match(ready.headers['content-type'] ?? '', /application\/json/);
    assert.equal(tryParseJson(ready.body)?.status, 'ready', `/readyz body: ${ready.body}`);
  });

  test('the admin token file has mode 0600 and holds a by_ token', () => {
    const st = fs.statSync(server.tokenFile);
    assert.equal(st.mode & 0o777, 0o600, `mode of ${server.tokenFile} is ${(st.mode & 0o777).toString(8)}`);
    assert.match(server.token, /^by_\S{16,}$/, `token file content does not look like a PAT`);
    assert.ok(!server.logs.includes(server.token), 'the server logged the admin token in clear');
  });

  test('the API answers JSON errors: 401 without or with a bad token, 404 for an unknown app', async () => {
    const anonymous = await server.api('GET', '/api/v1/apps', { token: null });
    assert.equal(anonymous.status, 401, `no token: ${anonymous.status} ${anonymous.body}`);
    assert.match(anonymous.headers['content-type'] ?? '', /application\/json/);
    assert.equal(anonymous.json?.error, 'unauthorized', `no token body: ${anonymous.body}`);
    assert.equal(typeof anonymous.json?.message, 'string');

    const forged = await server.api('GET', '/api/v1/apps', { token: 'by_notarealtoken0000000000000000' });
    assert.equal(forged.status, 401, `bad token: ${forged.status} ${forged.body}`);
    assert.equal(forged.json?.error, 'unauthorized', `bad token body: ${forged.body}`);

    const missing = await server.api('GET', '/api/v1/apps/no-such-app');
    assert.equal(missing.status, 404, `unknown app: ${missing.status} ${missing.body}`);
    assert.match(missing.headers['content-type'] ?? '', /application\/json/);
    assert.equal(missing.json?.error, 'not_found', `unknown app body: ${missing.body}`);
    assert.equal(typeof missing.json?.message, 'string');

    const proxied = await request(`${server.url}/app/no-such-app/`);
    assert.equal(proxied.status, 404, `proxy for unknown app: ${proxied.status} ${proxied.body}`);
  });

  test('by login stores the credentials in config.json with mode 0600', async () => {
    const args = ['login', '--server', server.url, '--token', server.token];
    const login = await by(args);
    assert.equal(login.code, 0, `by login failed${describeRun(args, login)}${server.logTail()}`);
    const file = path.join(login.configHome, 'by', 'config.json');
    const st = fs.statSync(file);
    assert.equal(st.mode & 0o777, 0o600, `mode of ${file} is ${(st.mode & 0o777).toString(8)}`);
    const saved = JSON.parse(fs.readFileSync(file, 'utf8'));
    assert.equal(saved.server.replace(/\/$/, ''), server.url);
    assert.equal(saved.token, server.token);

    // The stored credentials alone are enough for the next command.
    const list = await by(['list'], { configHome: login.configHome });
    assert.equal(list.code, 0, `by list with stored credentials failed${describeRun(['list'], list)}`);

    const badArgs = ['login', '--server', server.url, '--token', 'by_wrong000000000000000000000000'];
    const bad = await by(badArgs);
    assert.equal(bad.code, 1, `by login with a bad token must fail${describeRun(badArgs, bad)}`);
    assert.match(bad.stderr, /^Error: /m, `no Error: line${describeRun(badArgs, bad)}`);
  });

  test('by deploy hello --yes --wait builds and activates a bundle', async () => {
    const dir = await copyFixtureApp('hello');
    const args = ['deploy', dir, '--name', 'hello', '--yes', '--wait'];
    const r = await byOk(args, { timeoutMs: 300_000 });
    const m = /Deployed hello \(bundle ([^)\s]+)\)\./.exec(r.stdout);
    assert.ok(m, `no "Deployed hello (bundle ID)." line${describeRun(args, r)}`);
    helloBundle = m[1];
  });

  test('by list --json and by get show the deployed app', async () => {
    const list = await byOk(['list', '--json']);
    const listJson = tryParseJson(list.stdout);
    assert.ok(listJson !== undefined, `by list --json is not JSON: ${list.stdout}`);
    const app = findByName(listJson, 'hello');
    assert.ok(app, `hello missing from by list --json: ${list.stdout}`);

    const human = await byOk(['list']);
    assert.match(human.stdout, /^NAME\s+/m, `by list table header: ${human.stdout}`);
    assert.match(human.stdout, /^hello\s/m, `by list row: ${human.stdout}`);

    const get = await byOk(['get', 'hello', '--json']);
    const got = tryParseJson(get.stdout);
    assert.equal(got?.name, 'hello', `by get --json: ${get.stdout}`);
    assert.equal(got?.active_bundle, helloBundle, `active bundle: ${get.stdout}`);
  });

  test('GET /app/hello redirects to /app/hello/', async () => {
    const r = await request(`${server.url}/app/hello`);
    assert.equal(r.status, 301, `status ${r.status} body ${r.body}${server.logTail()}`);
    assert.equal(r.headers.location, '/app/hello/');
  });

  test('GET /app/hello/ from a non-browser client waits for a worker and proxies the Shiny page', async () => {
    const r = await getApp('hello');
    assert.equal(r.status, 200, `status ${r.status} body ${r.body.slice(0, 500)}${server.logTail()}`);
    assert.match(r.headers['content-type'] ?? '', /text\/html/);
    assert.match(r.body, /shiny/i, `not a Shiny page: ${r.body.slice(0, 500)}`);
    assert.match(r.body, /blockyard hello/, `not the hello app's UI: ${r.body.slice(0, 500)}`);

    const cookies = parseSetCookies(r.cookies);
    const route = cookies.blockyard_route;
    assert.ok(route?.value, `no blockyard_route cookie; Set-Cookie: ${JSON.stringify(r.cookies)}`);
    assert.equal(route.attrs.path, '/app/hello/', `cookie path: ${JSON.stringify(r.cookies)}`);
    assert.ok(route.attrs.httponly, `cookie is not HttpOnly: ${JSON.stringify(r.cookies)}`);
    routeCookie = `blockyard_route=${route.value}`;

    const workers = workerProcesses(server);
    assert.ok(workers.some((p) => p.kind === 'bwrap'), `no bwrap process found for this run:\n${describeProcesses(runProcesses(server))}`);
    assert.ok(workers.some((p) => p.kind === 'R'), `no R process found for this run:\n${describeProcesses(runProcesses(server))}`);
  });

  test('the blockyard_route cookie keeps a session on its worker; a new session gets its own', async () => {
    assert.ok(routeCookie, 'needs the session of the previous test');
    const before = workerProcesses(server).filter((p) => p.kind === 'R').map((p) => p.pid).sort();

    const again = await getApp('hello', { cookie: routeCookie });
    assert.equal(again.status, 200, `status ${again.status}${server.logTail()}`);
    assert.match(again.body, /blockyard hello/);
    const reissued = parseSetCookies(again.cookies).blockyard_route;
    if (reissued) assert.equal(`blockyard_route=${reissued.value}`, routeCookie, 'the session cookie changed');
    const afterSame = workerProcesses(server).filter((p) => p.kind === 'R').map((p) => p.pid).sort();
    assert.deepEqual(afterSame, before, 'a request in an existing session changed the set of R workers');

    const fresh = await getApp('hello');
    assert.equal(fresh.status, 200, `status ${fresh.status}${server.logTail()}`);
    const other = parseSetCookies(fresh.cookies).blockyard_route;
    assert.ok(other?.value, `a new session got no blockyard_route cookie: ${JSON.stringify(fresh.cookies)}`);
    assert.notEqual(`blockyard_route=${other.value}`, routeCookie, 'two sessions share one route cookie');
    const rWorkers = workerProcesses(server).filter((p) => p.kind === 'R');
    assert.ok(rWorkers.length >= 2, `two sessions but ${rWorkers.length} R worker(s):\n${describeProcesses(runProcesses(server))}`);
  });

  test('a new browser session gets the loading page, which turns into the app once its worker is ready', async () => {
    const loading = await request(`${server.url}/app/hello/`, { headers: TEXT_HTML });
    assert.equal(loading.status, 200, `status ${loading.status}${server.logTail()}`);
    assert.match(loading.headers['content-type'] ?? '', /text\/html/);
    assert.match(loading.body, /__blockyard\/ready/, `not the loading page: ${loading.body.slice(0, 300)}`);
    assert.doesNotMatch(loading.body, /id="result"/, 'the app was served before its worker was ready');
    const route = parseSetCookies(loading.cookies).blockyard_route;
    assert.ok(route?.value, `the loading page set no blockyard_route cookie: ${JSON.stringify(loading.cookies)}`);
    const cookie = `blockyard_route=${route.value}`;

    await waitFor(
      async () => {
        const r = await request(`${server.url}/app/hello/__blockyard/ready`, { headers: { cookie } });
        return r.status === 200 && tryParseJson(r.body)?.ready === true;
      },
      { timeoutMs: 90_000, intervalMs: 250, what: 'the loading session to become ready' },
    );
    const app = await request(`${server.url}/app/hello/`, { headers: { ...TEXT_HTML, cookie } });
    assert.equal(app.status, 200, `status ${app.status}${server.logTail()}`);
    assert.match(app.body, /id="result"/, `the session still gets no app: ${app.body.slice(0, 300)}`);
  });

  test('by logs hello prints the worker output', async () => {
    const r = await byOk(['logs', 'hello']);
    assert.match(r.stdout, /Listening on/, `by logs shows no Shiny start-up line${describeRun(['logs', 'hello'], r)}`);
  });

  test("/app/hello/__blockyard/ready reports the session's worker ready, without caching", async () => {
    // The loading page polls with its session cookie: readiness is per session
    // because every session has a worker of its own.
    assert.ok(routeCookie, 'needs the session of an earlier test');
    const r = await request(`${server.url}/app/hello/__blockyard/ready`, { headers: { cookie: routeCookie } });
    assert.equal(r.status, 200, `status ${r.status} body ${r.body}${server.logTail()}`);
    assert.match(r.headers['cache-control'] ?? '', /no-store/);
    assert.equal(tryParseJson(r.body)?.ready, true, `body: ${r.body}`);

    const other = await request(`${server.url}/app/hello/__blockyard/nothing-here`);
    assert.equal(other.status, 404, `other __blockyard path: ${other.status}`);
  });

  test('by reports API errors as Error: lines, or as JSON with --json', async () => {
    const human = await byAs(server, ['get', 'no-such-app']);
    assert.equal(human.code, 1, describeRun(['get', 'no-such-app'], human));
    assert.match(human.stderr, /^Error: .*not found/im, describeRun(['get', 'no-such-app'], human));

    const json = await byAs(server, ['get', 'no-such-app', '--json']);
    assert.equal(json.code, 1, describeRun(['get', 'no-such-app', '--json'], json));
    const body = tryParseJson(json.stdout);
    assert.equal(body?.error, 'error', `--json error shape: ${json.stdout}`);
    assert.match(body?.message ?? '', /not found/i);
  });

  test('by bundles hello lists the deployed bundle as ready', async () => {
    assert.ok(helloBundle, 'needs the bundle deployed earlier');
    const human = await byOk(['bundles', 'hello']);
    assert.match(human.stdout, /^ID\s+ACTIVE\s+STATUS/m, `table header: ${human.stdout}`);
    const row = human.stdout.split('\n').find((l) => l.startsWith(helloBundle.slice(0, 12)));
    assert.ok(row, `bundle ${helloBundle} not listed: ${human.stdout}`);
    assert.match(row, /\bready\b/, `bundle row: ${row}`);

    const json = await byOk(['bundles', 'hello', '--json']);
    const bundle = listItems(tryParseJson(json.stdout)).find((b) => b.id === helloBundle);
    assert.equal(bundle?.status, 'ready', `by bundles --json: ${json.stdout}`);
  });

  test('a bundle without an entrypoint is refused and the app keeps serving its bundle', async () => {
    const dir = await copyFixtureApp('no-entrypoint');
    assert.ok(fs.existsSync(path.join(dir, '.app.R')), 'fixture must carry the hidden .app.R');
    const args = ['deploy', dir, '--name', 'hello', '--yes', '--wait'];
    const r = await byAs(server, args, { timeoutMs: 120_000 });
    assert.equal(r.code, 1, `deploying a bundle without app.R must fail${describeRun(args, r)}${server.logTail()}`);
    assert.match(r.stderr, /^Error: .*(entrypoint|app\.R)/im, `no Error: line naming the entrypoint${describeRun(args, r)}`);
    assert.doesNotMatch(r.stdout, /Deployed hello/);

    const get = await byOk(['get', 'hello', '--json']);
    assert.equal(tryParseJson(get.stdout)?.active_bundle, helloBundle, `active bundle changed: ${get.stdout}`);

    const page = await getApp('hello', { cookie: routeCookie });
    assert.equal(page.status, 200, `status ${page.status}${server.logTail()}`);
    assert.match(page.body, /blockyard hello/);
  });

  test('a ui.R + server.R app deploys and serves', async () => {
    const dir = await copyFixtureApp('ui-server');
    const args = ['deploy', dir, '--name', 'twofile', '--yes', '--wait'];
    const r = await byOk(args, { timeoutMs: 300_000 });
    assert.match(r.stdout, /Deployed twofile \(bundle [^)\s]+\)\./, describeRun(args, r));

    const page = await getApp('twofile');
    assert.equal(page.status, 200, `status ${page.status} body ${page.body.slice(0, 500)}${server.logTail()}`);
    assert.match(page.body, /blockyard two-file app/, `not the two-file app's UI: ${page.body.slice(0, 500)}`);
    assert.match(page.body, /id="greeting"/);
  });

  test('by delete removes the app, its URL and its workers', async () => {
    const get = await byOk(['get', 'twofile', '--json']);
    const appId = tryParseJson(get.stdout)?.id;
    assert.ok(appId, `by get --json has no id: ${get.stdout}`);
    const mentionsApp = () =>
      runProcesses(server).filter((p) => p.argv.some((a) => a.includes(appId)) || p.environ.some((e) => e.includes(appId)));
    const workersBefore = mentionsApp();

    const del = await byOk(['delete', 'twofile', '--yes']);
    assert.match(del.stdout, /Deleted twofile\./, describeRun(['delete', 'twofile', '--yes'], del));

    const gone = await byAs(server, ['get', 'twofile']);
    assert.equal(gone.code, 1, `by get of a deleted app must fail${describeRun(['get', 'twofile'], gone)}`);
    assert.match(gone.stderr, /^Error: /m);

    const page = await request(`${server.url}/app/twofile/`);
    assert.equal(page.status, 404, `proxy for a deleted app: ${page.status} ${page.body.slice(0, 200)}`);

    const list = tryParseJson((await byOk(['list', '--json'])).stdout);
    assert.equal(findByName(list, 'twofile'), undefined, 'deleted app still listed');

    if (workersBefore.length > 0) {
      await waitFor(() => mentionsApp().length === 0, {
        timeoutMs: 30_000,
        what: `workers of deleted app ${appId} to stop:\n${describeProcesses(workersBefore)}`,
      });
    }
  });

  test('SIGTERM stops the server with exit code 0 and no bwrap or R process survives', async () => {
    // A fresh session makes sure at least one worker is running at shutdown.
    const page = await getApp('hello');
    assert.equal(page.status, 200, `status ${page.status}${server.logTail()}`);
    const snapshot = runProcesses(server);
    assert.ok(
      snapshot.some((p) => p.kind === 'R'),
      `expected a running R worker before shutdown:\n${describeProcesses(snapshot)}`,
    );

    const info = await server.stop();
    assert.equal(info.code, 0);
    await assertNoLeftovers(server, snapshot);
  });
});
