// Sign-in in a real browser (Debian's Chromium via playwright-core) against
// a real OpenID provider (oidc-provider) and real R workers: an anonymous
// visitor is sent to sign in and comes back to the app, which shows the
// X-Shiny-User / X-Shiny-Access it received; a user without a grant gets
// 404; a group grant admits members only; sign-out ends the session; a
// deactivated user's open app session is closed; a cross-site form post is
// refused while a same-origin fetch works; and `by login` signs in through
// the browser end to end.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fsp from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { launchChromium } from '../lib/browser.mjs';
import { BY_BIN, by, deployFixture, freePort, makeTempDir } from '../lib/harness.mjs';
import { USERS, startSignInServer } from '../lib/signin.mjs';

const APP_READY_MS = 90_000;

describe('sign-in in the browser', { timeout: 900_000 }, () => {
  let env;
  let browser;
  const contexts = [];

  before(async () => {
    env = await startSignInServer();
    await deployFixture(env.server, 'echo', 'echo');
    browser = await launchChromium();
  });
  after(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close().catch(() => {});
    await env?.stop();
  });

  const grant = async (principal, kind = 'user', role = 'viewer') => {
    const r = await env.server.api('POST', '/api/v1/apps/echo/access', { body: { principal, kind, role } });
    assert.equal(r.status, 204, r.body);
  };

  async function newPage() {
    const context = await browser.newContext();
    contexts.push(context);
    return { context, page: await context.newPage() };
  }

  // On the provider's login page: fill in `user` and submit.
  async function logInAtProvider(page, user) {
    await page.waitForSelector('#login', { timeout: 30_000 });
    assert.ok(page.url().startsWith(`${env.idp.issuer}/interaction/`), `not the provider's page: ${page.url()}`);
    await page.fill('#login', user);
    await page.fill('#password', USERS[user].password);
    await Promise.all([page.waitForNavigation({ timeout: APP_READY_MS }), page.click('#sign-in')]);
  }

  // The echo app's list of the headers it received, once the app shows it.
  async function appHeaders(page) {
    await page.waitForSelector('pre#headers', { timeout: APP_READY_MS });
    const text = await page.textContent('pre#headers');
    return Object.fromEntries(text.split('\n').map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)]));
  }

  async function openAppAs(user) {
    const { context, page } = await newPage();
    await page.goto(`${env.url}/app/echo/`, { waitUntil: 'domcontentloaded' });
    await logInAtProvider(page, user);
    return { context, page };
  }

  let alice;

  test('an anonymous visitor is sent to sign in and comes back to the app with its identity headers', async () => {
    await grant('alice');
    alice = await openAppAs('alice');
    const headers = await appHeaders(alice.page);
    assert.equal(new URL(alice.page.url()).pathname, '/app/echo/');
    assert.equal(headers.HTTP_X_SHINY_USER, 'Alice Publisher');
    assert.equal(headers.HTTP_X_SHINY_ACCESS, 'viewer');
    assert.equal(headers.HTTP_X_SHINY_GROUPS, 'analysts');
  });

  test('a signed-in user without a grant gets 404', async () => {
    const { page } = await newPage();
    const responses = [];
    page.on('response', (r) => {
      if (r.request().resourceType() === 'document') responses.push(r);
    });
    await page.goto(`${env.url}/app/echo/`, { waitUntil: 'domcontentloaded' });
    await logInAtProvider(page, 'dave');
    await page.waitForLoadState('domcontentloaded');
    const last = responses.at(-1);
    assert.equal(last.url(), `${env.url}/app/echo/`);
    assert.equal(last.status(), 404);
    assert.match(await page.textContent('body'), /not found/);
  });

  test('a group grant admits a member of the group and no one else', async () => {
    await grant('analysts', 'group');
    const carol = await openAppAs('carol');
    const headers = await appHeaders(carol.page);
    assert.equal(headers.HTTP_X_SHINY_USER, 'Carol Analyst');
    assert.equal(headers.HTTP_X_SHINY_ACCESS, 'viewer');

    const { page } = await newPage();
    await page.goto(`${env.url}/app/echo/`, { waitUntil: 'domcontentloaded' });
    await logInAtProvider(page, 'bob');
    await page.waitForLoadState('domcontentloaded');
    assert.match(await page.textContent('body'), /not found/, 'bob is in marketing, not analysts');
  });

  test('sign-out ends the session and the app asks to sign in again', async () => {
    assert.ok(alice, 'needs the first test');
    const { page } = alice;
    await page.goto(`${env.url}/logout`, { waitUntil: 'load' });
    // RP-initiated logout at the provider, which sends the browser back.
    await page.waitForURL(`${env.url}/signed-out`, { timeout: 30_000 });
    assert.match(await page.textContent('body'), /signed out/i);
    const cookies = await alice.context.cookies(env.url);
    assert.equal(cookies.find((c) => c.name === 'blockyard_session'), undefined, JSON.stringify(cookies));
    await page.goto(`${env.url}/app/echo/`, { waitUntil: 'domcontentloaded' });
    await page.waitForSelector('#login', { timeout: 30_000 });
    assert.ok(page.url().startsWith(`${env.idp.issuer}/interaction/`), page.url());
  });

  test('a deactivated user\'s open app session is closed', async () => {
    const carol = await openAppAs('carol');
    await appHeaders(carol.page);
    await carol.page.waitForFunction(() => window.Shiny?.shinyapp?.isConnected?.() === true, null, {
      timeout: APP_READY_MS,
    });
    const off = await env.server.api('PATCH', '/api/v1/users/carol', { body: { active: false } });
    assert.equal(off.status, 200, off.body);
    const started = Date.now();
    await carol.page.waitForSelector('#blockyard-session-ended, #shiny-disconnected-overlay', {
      state: 'attached',
      timeout: 15_000,
    });
    console.log(`the deactivated user's app session ended ${Date.now() - started} ms after deactivation`);
    // Reloading goes back through sign-in, which now refuses carol.
    await carol.page.reload({ waitUntil: 'load' });
    await carol.page.waitForFunction(() => /deactivated/.test(document.body?.textContent ?? ''), null, {
      timeout: 30_000,
    });
    await env.server.api('PATCH', '/api/v1/users/carol', { body: { active: true } });
  });

  test('CSRF: a cross-site form post is refused with 403; a same-origin fetch creates a token (201)', async () => {
    // Another origin on the same host (a sibling port: same site, so the
    // SameSite=Lax cookie is sent) serves a form posting to blockyard.
    const port = await freePort();
    const evil = http.createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(`<!DOCTYPE html><form id="f" method="post" enctype="text/plain"
        action="${env.url}/api/v1/users/me/tokens"><input name='{"name":"stolen","x":"' value='"}'></form>
        <script>document.getElementById('f').submit()</script>`);
    });
    await new Promise((r) => evil.listen(port, '127.0.0.1', r));
    try {
      const { page } = await openAppAs('alice');
      await appHeaders(page);
      const refused = page.waitForResponse((r) => r.url() === `${env.url}/api/v1/users/me/tokens`, { timeout: 30_000 });
      await page.goto(`http://127.0.0.1:${port}/`);
      const response = await refused;
      assert.equal(response.status(), 403, await response.text());
      assert.match(await response.text(), /cross-site request refused/);

      // A page of this origin (the app's; blockyard's own pages allow no
      // scripts to connect anywhere).
      await page.goto(`${env.url}/app/echo/`);
      await appHeaders(page);
      const created = await page.evaluate(async () => {
        const r = await fetch('/api/v1/users/me/tokens', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ name: 'from-the-page' }),
        });
        return { status: r.status, body: await r.json() };
      });
      assert.equal(created.status, 201, JSON.stringify(created));
      assert.match(created.body.token, /^by_/);
      const tokens = await env.server.api('GET', '/api/v1/users/me/tokens');
      assert.ok(!JSON.stringify(tokens.json).includes('stolen'));
    } finally {
      evil.closeAllConnections?.();
      await new Promise((r) => evil.close(r));
    }
  });

  // Runs `by login` and resolves the sign-in URL it prints, plus its exit.
  async function startByLogin(home) {
    const child = spawn(BY_BIN, ['login', '--server', env.url], {
      env: { PATH: process.env.PATH, HOME: home, XDG_CONFIG_HOME: home },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    const exited = new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
    const url = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`by login printed no URL: ${stderr}`)), 30_000);
      child.stderr.on('data', (d) => {
        stderr += d;
        const m = /(http:\/\/127\.0\.0\.1:\d+\/login\/cli\?\S+)/.exec(stderr);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
    });
    return { url, exited, child };
  }

  test('`by login` signs in through the browser and receives a token on its loopback redirect', async () => {
    const home = await makeTempDir('by-login');
    const { url, exited } = await startByLogin(home);
    assert.match(url, /port=\d+&state=[A-Za-z0-9_-]+&code_challenge=[A-Za-z0-9_-]{43}&name=by%20on%20/);
    const { page } = await newPage();
    await page.goto(url, { waitUntil: 'domcontentloaded' });
    await logInAtProvider(page, 'bob');
    await page.waitForSelector('button[value="approve"]', { timeout: 30_000 });
    assert.match(await page.textContent('body'), /Bob Viewer/);
    await Promise.all([page.waitForNavigation({ timeout: 30_000 }), page.click('button[value="approve"]')]);
    assert.match(page.url(), /^http:\/\/127\.0\.0\.1:\d+\/callback\?code=/);
    assert.match(await page.textContent('body'), /Signed in/);
    const result = await exited;
    assert.equal(result.code, 0, `by login: ${result.stdout}\n${result.stderr}${env.server.logTail()}`);
    assert.match(result.stdout, new RegExp(`Logged in to 127\\.0\\.0\\.1:${env.server.port} as Bob Viewer\\.`));

    const saved = JSON.parse(await fsp.readFile(path.join(home, 'by', 'config.json'), 'utf8'));
    assert.equal(saved.server, env.url);
    assert.match(saved.token, /^by_/);
    const mode = (await fsp.stat(path.join(home, 'by', 'config.json'))).mode & 0o777;
    assert.equal(mode, 0o600);
    // The saved token works for the CLI.
    const list = await by(['list', '--json'], { configHome: home });
    assert.equal(list.code, 0, list.stderr);
    const tokens = await env.server.api('GET', '/api/v1/users/me/tokens', { token: saved.token });
    assert.ok(tokens.json.some((t) => /^by on /.test(t.name)), tokens.body);
  });

  test('`by login` reports a cancelled browser sign-in', async () => {
    const home = await makeTempDir('by-login');
    const { url, exited } = await startByLogin(home);
    const { page } = await newPage();
    await page.goto(url, { waitUntil: 'domcontentloaded' });
    await logInAtProvider(page, 'bob');
    await page.waitForSelector('button[value="deny"]', { timeout: 30_000 });
    await Promise.all([page.waitForNavigation({ timeout: 30_000 }), page.click('button[value="deny"]')]);
    const result = await exited;
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /cancelled in the browser/);
    await assert.rejects(fsp.access(path.join(home, 'by', 'config.json')));
  });
});
