// The headline deployment in a real container runtime (podman + runc), in
// each supported configuration (docs/containerized-mode.md):
//   userns   /proc unmasked in a user-namespaced container: workers get a
//            fresh /proc of their own;
//   noprocfs the seed's flags only (outer seccomp profile, masks kept, no user
//            namespace) with [process] worker_procfs = "none".
// In each: blockyard is PID 1; `by` on the host logs in with the token from
// the container and deploys; a browser reaches the app through the published
// port and R answers its input; workers run under distinct UIDs; `by admin
// update` answers 501; `podman stop` ends it cleanly and a new container on
// the same volume still serves the app.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';

import { launchChromium } from '../lib/browser.mjs';
import { byAs, copyFixtureApp, describeRun, request } from '../lib/harness.mjs';
import { BY_BIN } from './lib.mjs';
import { FLAGS, containerProcesses, removeLabelled, startContainer } from './podman.mjs';

process.env.BY_BIN ??= BY_BIN;

const APP_READY_MS = 120_000;
const CONFIGURATIONS = [
  { suite: 'deploy-userns', flags: FLAGS.userns, env: {}, usernsd: true },
  { suite: 'deploy-noprocfs', flags: FLAGS.seed, env: { BLOCKYARD_PROCESS_WORKER_PROCFS: 'none' }, usernsd: false },
];

// "n squared is 25 (pid 12, worker 104621.547597-461950926)" → parts.
function parseResult(text) {
  const m = /n squared is (\S+) \(pid (\d+), worker ([^)]+)\)/.exec(text ?? '');
  return m ? { square: m[1], pid: Number(m[2]), worker: m[3] } : null;
}

for (const config of CONFIGURATIONS) {
  describe(`container: ${config.suite}`, { timeout: 900_000 }, () => {
    let server;
    let browser;

    before(async () => {
      await removeLabelled(config.suite);
      server = await startContainer({ suite: config.suite, flags: config.flags, env: config.env });
    });

    after(async () => {
      await browser?.close().catch(() => {});
      await server?.cleanup();
      await removeLabelled(config.suite);
    });

    test('blockyard is PID 1 of the container, as root inside it', async () => {
      const r = await server.exec(['cat', '/proc/1/cmdline']);
      assert.deepEqual(r.stdout.split('\0').filter(Boolean), ['blockyard', '--config', '/etc/blockyard/blockyard.toml']);
      const status = fs.readFileSync(`/proc/${server.pid}/status`, 'utf8');
      const hostUid = Number(/^Uid:\s+(\d+)/m.exec(status)[1]);
      if (config.usernsd) {
        assert.ok(hostUid >= 65536, `root in a user-namespaced container is host uid ${hostUid}`);
      } else {
        assert.equal(hostUid, 0);
      }
      assert.match(status, /^Seccomp:\s+2$/m, 'the outer seccomp profile is not applied');
    });

    test('by on the host logs in with the container\'s token and deploys', async () => {
      const login = await byAs(server, ['login', '--server', server.url, '--token', server.token]);
      assert.equal(login.code, 0, describeRun(['login'], login));
      const dir = await copyFixtureApp('hello');
      const args = ['deploy', dir, '--name', 'hello', '--yes', '--wait'];
      const r = await byAs(server, args, { timeoutMs: 300_000 });
      assert.equal(r.code, 0, describeRun(args, r));
    });

    test('a browser reaches the app through the published port; R answers its input; one UID per worker', async () => {
      browser = await launchChromium();
      const results = [];
      for (let i = 0; i < 2; i++) {
        const context = await browser.newContext();
        const page = await context.newPage();
        const res = await page.goto(`${server.url}/app/hello/`, { waitUntil: 'domcontentloaded', timeout: APP_READY_MS });
        assert.equal(res.status(), 200);
        await page.waitForFunction(() => /n squared is 25 /.test(document.querySelector('#result')?.textContent ?? ''), null, {
          timeout: APP_READY_MS,
        });
        await page.fill('#n', String(7 + i));
        const want = (7 + i) ** 2;
        await page.waitForFunction((w) => (document.querySelector('#result')?.textContent ?? '').includes(`n squared is ${w} `), want, {
          timeout: 30_000,
        });
        results.push(parseResult(await page.textContent('#result')));
      }
      assert.notEqual(results[0].worker, results[1].worker, 'two browser sessions share one worker');

      // On the host: the workers are the container's processes, each R under
      // its own UID (the container's 60000+ as mapped by the runtime).
      const procs = containerProcesses(server.pid);
      const r = procs.filter((p) => p.comm === 'R');
      assert.equal(r.length, 2, `R processes in the container: ${JSON.stringify(procs)}`);
      assert.notEqual(r[0].uid, r[1].uid, `workers share host uid ${r[0].uid}`);
      // The same UIDs as the container sees them (through its uid_map).
      const map = fs.readFileSync(`/proc/${server.pid}/uid_map`, 'utf8').trim().split('\n').map((l) => l.trim().split(/\s+/).map(Number));
      const inside = (hostUid) => {
        const [first, outside] = map.find(([, o, n]) => hostUid >= o && hostUid < o + n) ?? [];
        return first === undefined ? null : hostUid - outside + first;
      };
      const uids = r.map((p) => inside(p.uid));
      assert.ok(uids.every((u) => u >= 60000 && u <= 60999), `worker uids inside the container: ${uids}`);
      if (config.usernsd) assert.ok(r.every((p) => p.uid >= 65536), 'a worker runs under a host system uid');
    });

    test('by admin update answers with the runtime\'s own update (501)', async () => {
      const res = await server.api('POST', '/api/v1/admin/update');
      assert.equal(res.status, 501, `${res.status} ${res.body}`);
      assert.match(res.json?.message ?? '', /container runtime/);
      const args = ['admin', 'update', '--yes'];
      const r = await byAs(server, args);
      assert.notEqual(r.code, 0, describeRun(args, r));
      assert.match(r.stderr, /container runtime/, describeRun(args, r));
    });

    test('podman stop: exit 0 within the grace period, no worker left; the volume serves again', async () => {
      const before = containerProcesses(server.pid);
      assert.ok(before.some((p) => p.comm === 'R'), 'no worker ran before the stop');
      const { code, seconds } = await server.stop({ graceSeconds: 60 });
      assert.equal(code, 0);
      assert.ok(seconds < 60, `stop took ${seconds} s: SIGTERM was not handled, podman had to SIGKILL`);
      assert.match(server.lastLogs, /shutdown complete/, `no shutdown line in the log${server.logTail()}`);
      const alive = before.filter((p) => fs.existsSync(`/proc/${p.pid}`));
      assert.deepEqual(alive, [], 'processes of the container outlived it');

      await server.remove();
      const again = await startContainer({ suite: config.suite, flags: config.flags, env: config.env, volume: server.volume });
      server = again;
      const page = await request(`${server.url}/app/hello/`, { timeoutMs: APP_READY_MS });
      assert.equal(page.status, 200, `after restart: ${page.status} ${page.body.slice(0, 300)}`);
      assert.match(page.body, /blockyard hello/);
    });
  });
}
