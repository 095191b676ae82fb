// docker/compose.yml as shipped, under podman-compose, set up the way its
// header says (outer profile on the host via `by admin install-seccomp`, a
// .env with REDIS_PASSWORD). The redis and caddy images it names are built
// here from Debian packages and tagged with those names; the test Caddyfile
// serves plain HTTP (no certificates without a public name). It must come
// up, serve an app through caddy, and Redis must refuse a worker that has no
// password.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { by, byAs, describeRun, freePort, request, waitFor } from '../lib/harness.mjs';
import { BY_BIN, DOCKER_DIR, OUTER_PROFILE, describe as describeResult, run } from './lib.mjs';
import { BASE_IMAGE, PODMAN, TEST_IMAGE, ULIMITS, imageExists, podman, podmanOk } from './podman.mjs';

process.env.BY_BIN ??= BY_BIN;

const HOST_PROFILE = '/etc/blockyard/seccomp.json';
const PROJECT = `blockyard-compose-test-${process.pid}`;
// The names docker/compose.yml uses, as podman resolves them.
const NAMES = {
  blockyard: 'ghcr.io/cynkra/blockyard-process:1.2.3',
  redis: 'docker.io/library/redis:7-alpine',
  caddy: 'docker.io/library/caddy:2',
};

const IMAGES_DIR = path.join(path.dirname(new URL(import.meta.url).pathname), 'images');

describe('docker/compose.yml under podman-compose', { timeout: 900_000 }, () => {
  let dir;
  let ports;
  let password;
  let installedProfile = false;
  let createdEtcDir = false;
  const tagged = [];
  let token;

  const compose = (args, opts = {}) =>
    run(
      [
        'podman-compose', '-p', PROJECT,
        '--podman-args', PODMAN.slice(1).join(' '),
        '--podman-run-args', ULIMITS.join(' '),
        ...args,
      ],
      { cwd: dir, timeoutMs: 600_000, ...opts },
    );

  before(async () => {
    for (const name of Object.values(NAMES)) {
      assert.ok(!(await imageExists(name)), `${name} exists already; this test would replace it`);
    }
    // The images: blockyard from the ctest fixture, redis and caddy from Debian.
    await podmanOk(['tag', TEST_IMAGE, NAMES.blockyard]);
    tagged.push(NAMES.blockyard);
    for (const svc of ['redis', 'caddy']) {
      await podmanOk(
        ['build', ...ULIMITS, '--pull=never', '--layers=false', '--build-arg', `BASE=${BASE_IMAGE}`,
          '-f', path.join(IMAGES_DIR, `${svc}.Containerfile`), '-t', NAMES[svc], IMAGES_DIR],
        { timeoutMs: 600_000 },
      );
      tagged.push(NAMES[svc]);
    }

    // Step 1 of the header: the outer profile on the host.
    if (fs.existsSync(HOST_PROFILE)) {
      assert.ok(
        fs.readFileSync(HOST_PROFILE).equals(fs.readFileSync(OUTER_PROFILE)),
        `${HOST_PROFILE} exists and is not this repository's outer profile; not touching it`,
      );
    } else {
      createdEtcDir = !fs.existsSync(path.dirname(HOST_PROFILE));
      const r = await by(['admin', 'install-seccomp', '--target', HOST_PROFILE]);
      assert.equal(r.code, 0, describeRun(['admin', 'install-seccomp'], r));
      installedProfile = true;
    }

    // Step 2: the project directory with .env; the shipped compose file as is.
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'blockyard-compose-'));
    await fsp.copyFile(path.join(DOCKER_DIR, 'compose.yml'), path.join(dir, 'compose.yml'));
    await fsp.writeFile(
      path.join(dir, 'Caddyfile'),
      ':80 {\n\treverse_proxy blockyard:8080 {\n\t\thealth_uri /healthz\n\t\tflush_interval -1\n\t}\n}\n',
    );
    password = Array.from({ length: 24 }, () => Math.floor(Math.random() * 16).toString(16)).join('');
    ports = { blockyard: await freePort(), http: await freePort(), https: await freePort() };
    await fsp.writeFile(
      path.join(dir, '.env'),
      `REDIS_PASSWORD=${password}\nBLOCKYARD_PORT=${ports.blockyard}\nHTTP_PORT=${ports.http}\nHTTPS_PORT=${ports.https}\n`,
    );
  });

  after(async () => {
    if (dir) {
      const down = await compose(['-f', 'compose.yml', 'down', '-v']);
      if (down.code !== 0) console.error(`podman-compose down failed${describeResult(down)}`);
      await fsp.rm(dir, { recursive: true, force: true });
    }
    // Whatever compose left (it labels its objects with the project name).
    const label = `label=io.podman.compose.project=${PROJECT}`;
    const ids = (await podman(['ps', '-aq', '--filter', label])).stdout.split('\n').filter(Boolean);
    if (ids.length) await podman(['rm', '-f', '-t', '0', ...ids]);
    for (const kind of ['volume', 'network']) {
      const names = (await podman([kind, 'ls', '-q'])).stdout.split('\n').filter((n) => n.startsWith(`${PROJECT}_`));
      if (names.length) await podman([kind, 'rm', '-f', ...names]);
    }
    for (const name of tagged) await podman(name === NAMES.blockyard ? ['untag', TEST_IMAGE, name] : ['rmi', '-f', name]);
    if (installedProfile) await fsp.rm(HOST_PROFILE, { force: true });
    if (createdEtcDir) await fsp.rm(path.dirname(HOST_PROFILE), { recursive: true, force: true });
  });

  test('a missing REDIS_PASSWORD stops compose with the reason', async () => {
    const env = { ...process.env };
    delete env.REDIS_PASSWORD;
    const bare = await fsp.mkdtemp(path.join(os.tmpdir(), 'blockyard-compose-bare-'));
    try {
      await fsp.copyFile(path.join(DOCKER_DIR, 'compose.yml'), path.join(bare, 'compose.yml'));
      const r = await run(['podman-compose', '--dry-run', '-f', 'compose.yml', 'up', '-d'], { cwd: bare, env });
      assert.notEqual(r.code, 0, describeResult(r));
      assert.match(`${r.stdout}${r.stderr}`, /set REDIS_PASSWORD in \.env/);
    } finally {
      await fsp.rm(bare, { recursive: true, force: true });
    }
  });

  test('it comes up; the token works from the host; an app is served through caddy', async () => {
    const up = await compose(['-f', 'compose.yml', 'up', '-d']);
    assert.equal(up.code, 0, describeResult(up));
    const direct = `http://127.0.0.1:${ports.blockyard}`;
    const logs = async () => (await compose(['-f', 'compose.yml', 'logs', 'blockyard'])).stdout;
    await waitFor(async () => (await request(`${direct}/healthz`, { timeoutMs: 2_000 })).status === 200, {
      timeoutMs: 180_000,
      what: `blockyard at ${direct}`,
    }).catch(async (err) => {
      err.message += `\n${await logs()}`;
      throw err;
    });
    const container = `${PROJECT}_blockyard_1`;
    token = (await podmanOk(['exec', container, 'cat', '/data/admin-token'])).trim();
    const server = { url: direct, token };
    const app = await fsp.mkdtemp(path.join(os.tmpdir(), 'blockyard-compose-app-'));
    await fsp.cp(path.join(path.dirname(DOCKER_DIR), 'tests', 'fixtures', 'apps', 'hello'), app, { recursive: true });
    await fsp.writeFile(
      path.join(app, 'redis.R'),
      [
        '# Talks to Redis from inside the worker, without the password.',
        'redis_replies <- function() {',
        '  con <- socketConnection("redis", 6379, blocking = TRUE, open = "r+b", timeout = 5)',
        '  on.exit(close(con))',
        '  sapply(c("PING", "GET blockyard", "CONFIG GET requirepass", "AUTH wrong-password"), function(cmd) {',
        '    writeLines(cmd, con, sep = "\\r\\n")',
        '    readLines(con, n = 1)',
        '  })',
        '}',
      ].join('\n'),
    );
    const appR = await fsp.readFile(path.join(app, 'app.R'), 'utf8');
    await fsp.writeFile(
      path.join(app, 'app.R'),
      appR.replace(
        'ui <- fluidPage(',
        'source("redis.R")\nreplies <- tryCatch(redis_replies(), error = function(e) paste("error:", conditionMessage(e)))\nui <- fluidPage(\n  tags$pre(id = "redis", paste(replies, collapse = "\\n")),',
      ),
    );
    const args = ['deploy', app, '--name', 'hello', '--yes', '--wait'];
    const deployed = await byAs(server, args, { timeoutMs: 300_000 });
    assert.equal(deployed.code, 0, describeRun(args, deployed));

    // Users come through caddy.
    const page = await waitFor(
      async () => {
        const r = await request(`http://127.0.0.1:${ports.http}/app/hello/`, { timeoutMs: 120_000 });
        return r.status === 200 ? r : false;
      },
      { timeoutMs: 180_000, what: 'the app through caddy' },
    );
    assert.match(page.body, /blockyard hello/);
    assert.match(page.headers.via ?? page.headers.server ?? '', /Caddy/i, `not served by caddy: ${JSON.stringify(page.headers)}`);

    // From inside the worker, Redis answers only NOAUTH / WRONGPASS.
    const shown = /<pre id="redis">([\s\S]*?)<\/pre>/.exec(page.body)?.[1] ?? '';
    const replies = shown.split('\n');
    assert.equal(replies.length, 4, `Redis replies seen by the worker: ${shown}`);
    for (const reply of replies.slice(0, 3)) assert.match(reply, /^-NOAUTH/, `a command without the password got: ${shown}`);
    assert.match(replies[3], /^-WRONGPASS/, shown);

    // blockyard's own preflight found Redis protected.
    const checks = await request(`${direct}/api/v1/system/checks`, { headers: { authorization: `Bearer ${token}` } });
    const redisAuth = JSON.stringify(checks.body).includes('Redis requires authentication');
    assert.ok(redisAuth, `redis_auth is not ok: ${checks.status} ${checks.body.slice(0, 2000)}`);
  });
});
