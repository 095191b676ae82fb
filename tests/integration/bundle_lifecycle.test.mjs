// A bundle's and an app's life after the upload, on real parts: rollback,
// bundle retention, soft delete / restore / purge and the retention
// sweeper, package-store eviction, the deployments list, build logs that
// outlive a restart, and a server stopped or killed in the middle of a
// build (the bundle fails with a reason, nothing half-installed enters the
// store, the active bundle keeps serving).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { buildRepository } from '../lib/cran_repo.mjs';
import {
  byAs,
  describeRun,
  makeTempDir,
  request,
  sleep,
  startServer,
  tryParseJson,
  waitFor,
} from '../lib/harness.mjs';

// An app whose page says which version of it this is.
async function versionedApp(label, { description } = {}) {
  const dir = path.join(await makeTempDir('lifecycle-app'), 'app');
  await fsp.mkdir(dir, { recursive: true });
  await fsp.writeFile(
    path.join(dir, 'app.R'),
    `library(shiny)\nshinyApp(fluidPage(tags$p(id = "v", "${label}")), function(input, output) {})\n`,
  );
  if (description) await fsp.writeFile(path.join(dir, 'DESCRIPTION'), description);
  return dir;
}

describe('bundle and app lifecycle', { timeout: 1_200_000 }, () => {
  let repo;
  let server;

  async function deploy(name, label, { code = 0, description, wait = true } = {}) {
    const dir = await versionedApp(label, { description });
    const args = ['deploy', dir, '--name', name, '--yes', ...(wait ? ['--wait'] : []), '--json'];
    const r = await byAs(server, args, { timeoutMs: 600_000 });
    assert.equal(r.code, code, `by deploy${describeRun(args, r)}${server.logTail(40)}`);
    return tryParseJson(r.stdout);
  }

  async function label(name) {
    const res = await request(`${server.url}/app/${name}/`, { timeoutMs: 120_000 });
    assert.equal(res.status, 200, `GET /app/${name}/ -> ${res.status}${server.logTail(30)}`);
    return res.body.match(/<p id="v">([^<]*)<\/p>/)?.[1];
  }

  const bundleIds = async (name) =>
    (await server.api('GET', `/api/v1/apps/${name}/bundles`)).json.bundles.map((b) => b.id);
  const appJson = async (name) => (await server.api('GET', `/api/v1/apps/${name}`)).json;
  const appDir = (id) => path.join(server.dataDir, 'bundles', id);
  const storeDir = () => path.join(server.dataDir, 'bundles', '.pkg-store');

  const lifecycleConfig = () => ({
    storage: { bundle_retention: 2, soft_delete_retention: '1h', store_retention: '2s' },
    packages: { repositories: [`local=${repo.url}`] },
  });

  // A new server on the same data directory (the old one stopped or dead).
  async function restart(config = lifecycleConfig()) {
    if (server.exitInfo === null) await server.stop();
    server = await startServer({ dataDir: server.dataDir, config });
  }

  before(async () => {
    repo = await buildRepository([
      { name: 'lifepkg', version: '1.0' },
      // Takes a minute to install: long enough to stop the server mid-build.
      { name: 'slowpkg', version: '1.0', configure: '#!/bin/sh\necho "configuring slowly"\nsleep 120\n' },
    ]);
    await repo.start();
    server = await startServer({ config: lifecycleConfig() });
  });

  after(async () => {
    await server?.cleanup();
    await repo?.stop();
  });

  let app; // the app "life": {id, bundles: [first, second, third]}

  test('rollback re-activates an earlier bundle and records who did it', async () => {
    const first = await deploy('life', 'first');
    const second = await deploy('life', 'second');
    assert.equal(await label('life'), 'second');
    await sleep(1_100); // deployed_at has second precision: order the rollback after the deploy
    const args = ['rollback', 'life', first.bundle_id.slice(0, 12)];
    const r = await byAs(server, args);
    assert.equal(r.code, 0, describeRun(args, r));
    assert.match(r.stdout, new RegExp(`Rolled back life to bundle ${first.bundle_id}`));
    const now = await appJson('life');
    assert.equal(now.active_bundle, first.bundle_id);
    assert.equal(await label('life'), 'first');

    const again = await server.api('POST', '/api/v1/apps/life/rollback', { body: { bundle_id: first.bundle_id } });
    assert.equal(again.status, 400);
    assert.equal(again.json.message, 'bundle is already active');
    const missing = await server.api('POST', '/api/v1/apps/life/rollback', { body: {} });
    assert.equal(missing.status, 400);
    assert.equal(missing.json.message, 'bundle_id is required');
    const unknown = await server.api('POST', '/api/v1/apps/life/rollback', { body: { bundle_id: 'nope' } });
    assert.equal(unknown.status, 404);

    const listed = await byAs(server, ['bundles', 'life']);
    assert.match(listed.stdout, new RegExp(`${first.bundle_id.slice(0, 12)}\\s+\\*\\s+ready`));

    const deployments = (await server.api('GET', '/api/v1/deployments?search=life')).json;
    assert.equal(deployments.total, 2);
    assert.equal(deployments.deployments[0].bundle_id, first.bundle_id, 'the rollback is the newest deployment');
    assert.equal(deployments.deployments[0].deployed_by, 'admin');
    app = { id: now.id, bundles: [first.bundle_id, second.bundle_id] };
  });

  test('bundle_retention removes the oldest bundles, files and rows, never the active one', async () => {
    // Active: first (rolled back to), and a worker runs it.
    const third = await deploy('life', 'third');
    const fourth = await deploy('life', 'fourth');
    // Retention 2 keeps fourth (active) + third + second; first is beyond it
    // but a worker still runs it, so it is spared for now.
    assert.deepEqual(await bundleIds('life'), [fourth.bundle_id, third.bundle_id, ...app.bundles.slice().reverse()]);
    // With the app's workers stopped, the next deploy removes both old ones.
    assert.equal((await byAs(server, ['disable', 'life'])).code, 0);
    assert.equal((await byAs(server, ['enable', 'life'])).code, 0);
    const fifth = await deploy('life', 'fifth');
    assert.deepEqual(await bundleIds('life'), [fifth.bundle_id, fourth.bundle_id, third.bundle_id]);
    for (const gone of app.bundles) {
      assert.ok(!fs.existsSync(path.join(appDir(app.id), gone)), `files of removed bundle ${gone}`);
      assert.ok(!fs.existsSync(path.join(appDir(app.id), `${gone}.tar.gz`)));
      assert.ok(!fs.existsSync(path.join(appDir(app.id), `${gone}.log`)));
      assert.equal((await server.api('GET', `/api/v1/apps/life/bundles/${gone}`)).status, 404);
    }
    assert.ok(fs.existsSync(path.join(appDir(app.id), fifth.bundle_id)));
    assert.equal(await label('life'), 'fifth');
    app.bundles = [third.bundle_id, fourth.bundle_id, fifth.bundle_id];
  });

  test('a failed build keeps the active bundle serving and its log survives a restart', async () => {
    const failed = await deploy('life', 'broken', { code: 1, description: 'Imports: nosuchpkg\n' });
    assert.equal(failed.status, 'failed');
    assert.equal(await label('life'), 'fifth');

    await restart();
    const args = ['logs', 'life', '--bundle', failed.bundle_id];
    const r = await byAs(server, args);
    assert.equal(r.code, 0, describeRun(args, r));
    assert.match(r.stdout, /ERROR: package nosuchpkg is not available from any repository/);
    const detail = await server.api('GET', `/api/v1/apps/life/bundles/${failed.bundle_id}`);
    assert.equal(detail.json.status, 'failed');
    assert.equal(await label('life'), 'fifth');
  });

  test('killing the server mid-build: the bundle fails, nothing half-installed enters the store', async () => {
    const started = await deploy('life', 'slow', { description: 'Imports: slowpkg\n', wait: false });
    await waitFor(
      async () =>
        (await server.api('GET', `/api/v1/apps/life/bundles/${started.bundle_id}/logs`)).body.includes(
          'configuring slowly',
        ),
      { timeoutMs: 120_000, what: 'slowpkg to start installing' },
    );
    const staging = fs.readdirSync(path.join(storeDir(), '.staging'));
    assert.ok(staging.length > 0, 'the install is staged while it runs');
    process.kill(server.pid, 'SIGKILL');
    await waitFor(() => server.exitInfo, { what: 'the server to die' });

    await restart();
    const detail = (await server.api('GET', `/api/v1/apps/life/bundles/${started.bundle_id}`)).json;
    assert.equal(detail.status, 'failed');
    assert.equal(detail.error, 'interrupted by server restart');
    assert.deepEqual(fs.readdirSync(path.join(storeDir(), '.staging')), []);
    const platform = fs.readdirSync(storeDir()).find((d) => !d.startsWith('.'));
    assert.ok(!platform || !fs.existsSync(path.join(storeDir(), platform, 'slowpkg')), 'no slowpkg entry');
    const log = await byAs(server, ['logs', 'life', '--bundle', started.bundle_id]);
    assert.match(log.stdout, /Installing slowpkg 1\.0/);
    assert.equal(await label('life'), 'fifth');
  });

  test('stopping the server mid-build cancels the build with a reason', async () => {
    const started = await deploy('life', 'slow2', { description: 'Imports: slowpkg\n', wait: false });
    await waitFor(
      async () =>
        (await server.api('GET', `/api/v1/apps/life/bundles/${started.bundle_id}/logs`)).body.includes(
          'configuring slowly',
        ),
      { timeoutMs: 120_000, what: 'slowpkg to start installing' },
    );
    const t0 = Date.now();
    await server.stop();
    assert.ok(Date.now() - t0 < 60_000, 'SIGTERM does not wait for the build');
    await restart();
    const detail = (await server.api('GET', `/api/v1/apps/life/bundles/${started.bundle_id}`)).json;
    assert.equal(detail.status, 'failed');
    assert.equal(detail.error, 'the server shut down during the build');
    assert.deepEqual(fs.readdirSync(path.join(storeDir(), '.staging')), []);
    assert.equal(await label('life'), 'fifth');
  });

  test('soft delete hides the app and keeps its files; restore brings it back', async () => {
    const args = ['delete', 'life', '--yes'];
    const r = await byAs(server, args);
    assert.equal(r.code, 0, describeRun(args, r));
    assert.equal((await server.api('GET', '/api/v1/apps/life')).status, 404);
    assert.equal((await request(`${server.url}/app/life/`)).status, 404);
    const deleted = await byAs(server, ['list', '--deleted']);
    assert.match(deleted.stdout, /^life\s/m, describeRun(['list', '--deleted'], deleted));
    assert.ok(fs.existsSync(appDir(app.id)), 'files stay while the app is restorable');

    const restore = await byAs(server, ['restore', 'life']);
    assert.equal(restore.code, 0, describeRun(['restore', 'life'], restore));
    assert.equal(await label('life'), 'fifth');
  });

  test('purge needs a soft-deleted app, then removes its files and rows', async () => {
    const early = await server.api('DELETE', '/api/v1/apps/life?purge=true');
    assert.equal(early.status, 409);
    assert.equal(early.json.message, 'app must be soft-deleted before purging');
    assert.equal((await byAs(server, ['delete', 'life', '--yes'])).code, 0);
    const r = await byAs(server, ['delete', 'life', '--purge', '--yes']);
    assert.equal(r.code, 0, describeRun(['delete', 'life', '--purge', '--yes'], r));
    assert.match(r.stdout, /Purged life \(permanently deleted\)/);
    assert.ok(!fs.existsSync(appDir(app.id)));
    for (const id of app.bundles) assert.ok(!fs.existsSync(path.join(storeDir(), '.libs', id)));
    assert.deepEqual((await server.api('GET', '/api/v1/apps?deleted=true')).json, []);
    assert.equal((await server.api('POST', '/api/v1/apps/life/restore')).status, 404);
  });

  test('the sweeper purges apps deleted longer than soft_delete_retention and evicts unused packages', async () => {
    await restart({
      storage: { soft_delete_retention: '2s', store_retention: '2s' },
      packages: { repositories: [`local=${repo.url}`] },
    });
    const kept = await deploy('keeper', 'keeper', { description: 'Imports: lifepkg\n' });
    const doomed = await deploy('doomed', 'doomed', { description: 'Imports: lifepkg\n' });
    const doomedId = (await appJson('doomed')).id;
    const platform = fs.readdirSync(storeDir()).find((d) => !d.startsWith('.'));
    const entry = path.join(storeDir(), platform, 'lifepkg');
    assert.ok(fs.existsSync(entry));
    assert.equal((await byAs(server, ['delete', 'doomed', '--yes'])).code, 0);
    await waitFor(async () => !fs.existsSync(appDir(doomedId)), { timeoutMs: 20_000, what: 'the sweeper to purge doomed' });
    assert.deepEqual((await server.api('GET', '/api/v1/apps?deleted=true')).json, []);
    assert.ok(!fs.existsSync(path.join(storeDir(), '.libs', doomed.bundle_id)));
    // keeper still links lifepkg: it stays however old it gets.
    await sleep(3_000);
    assert.ok(fs.existsSync(entry), 'an entry a live bundle uses is never evicted');
    assert.equal(await label('keeper'), 'keeper');

    // Once no bundle uses it, it goes.
    assert.equal((await byAs(server, ['delete', 'keeper', '--yes'])).code, 0);
    await waitFor(() => !fs.existsSync(entry), { timeoutMs: 30_000, what: 'lifepkg to be evicted' });
    assert.ok(kept.bundle_id);
  });
});
