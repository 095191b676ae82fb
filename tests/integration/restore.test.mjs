// Dependency restore on real parts: the server's build sandboxes resolve and
// install R packages from a CRAN-like repository this suite builds (tiny
// source packages made with R CMD build, an Archive/ for old versions, a git
// repository, a Bioconductor-style tree) and serves on loopback, counting
// every download. Apps are deployed with the real `by` and opened through
// the proxy; their pages report what R loaded.
//
// Tests run in order and share one server; each states what it needs.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';

import { addGitPackage, buildRepository } from '../lib/cran_repo.mjs';
import { byAs, describeRun, makeTempDir, request, startServer, tryParseJson } from '../lib/harness.mjs';

const run = promisify(execFile);
const HOST_SHINY = /shiny from: \/usr\//;

// app.R whose page lists `lines` (R expressions yielding strings), plus
// whether the worker can write its package library.
function appSource(lines, { libraryCalls = [] } = {}) {
  return `${libraryCalls.map((p) => `library(${p})`).join('\n')}
library(shiny)
probe <- function(expr) tryCatch(isTRUE(suppressWarnings(expr)), error = function(e) FALSE)
info <- c(
${lines.map((l) => `  ${l},`).join('\n')}
  paste("shiny from:", dirname(system.file(package = "shiny"))),
  paste("libpaths:", paste(.libPaths(), collapse = ":"))
)
ui <- fluidPage(tags$pre(id = "info", paste(info, collapse = "\\n")))
shinyApp(ui, function(input, output) {})
`;
}

async function writeApp(files) {
  const dir = path.join(await makeTempDir('restore-app'), 'app');
  for (const [name, content] of Object.entries(files)) {
    await fsp.mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await fsp.writeFile(path.join(dir, name), content);
  }
  return dir;
}

describe('dependency restore from local repositories', { timeout: 1_500_000 }, () => {
  let repo;
  let server;
  let altR; // rig-style R versions directory (outside /tmp: build sandboxes have their own /tmp)

  before(async () => {
    repo = await buildRepository([
      { name: 'tinyB', version: '1.0' },
      { name: 'tinyA', version: '2.1', imports: 'tinyB (>= 1.0)' },
      { name: 'pinme', version: '0.1', archived: true },
      { name: 'pinme', version: '0.2' },
      { name: 'sharedpkg', version: '1.0' },
      { name: 'brokenc', version: '1.0', c: '#include <R.h>\nvoid broken(void) { this is not C; }\n' },
      // Never to be fetched: the server's R library already has shiny.
      { name: 'shiny', version: '99.0' },
    ]);
    // A Bioconductor-style tree beside it: packages/<release>/bioc/src/contrib.
    await buildRepository([{ name: 'biocpkg', version: '1.2.3' }], {
      dir: path.join(repo.root, 'bioc', 'packages', '3.16', 'bioc'),
    });
    await repo.start();

    altR = fs.mkdtempSync('/var/tmp/blockyard-rversions-');
    const bin = path.join(altR, '4.2.99', 'bin');
    fs.mkdirSync(bin, { recursive: true });
    for (const tool of ['R', 'Rscript']) {
      fs.writeFileSync(path.join(bin, tool), `#!/bin/sh\nexport BY_TEST_R=alt-4.2.99\nexec /usr/bin/${tool} "$@"\n`, {
        mode: 0o755,
      });
    }
    fs.chmodSync(altR, 0o755);

    server = await startServer({
      config: {
        packages: {
          repositories: [`local=${repo.url}`],
          bioconductor_url: `${repo.url}/bioc`,
          r_versions_path: altR,
          max_concurrent_builds: 2,
        },
      },
    });
  });

  after(async () => {
    await server?.cleanup();
    await repo?.stop();
    if (altR) fs.rmSync(altR, { recursive: true, force: true });
  });

  async function deploy(dir, name, { code = 0, extra = [] } = {}) {
    const args = ['deploy', dir, '--name', name, '--yes', '--wait', ...extra];
    const started = Date.now();
    const r = await byAs(server, args, { timeoutMs: 600_000 });
    r.ms = Date.now() - started;
    assert.equal(r.code, code, `by deploy exit code${describeRun(args, r)}${server.logTail(40)}`);
    return r;
  }

  async function page(name) {
    const res = await request(`${server.url}/app/${name}/`, { timeoutMs: 120_000 });
    assert.equal(res.status, 200, `GET /app/${name}/: ${res.status}${server.logTail(40)}`);
    const m = res.body.match(/<pre id="info">([\s\S]*?)<\/pre>/);
    assert.ok(m, `no info block in /app/${name}/:\n${res.body.slice(0, 500)}`);
    return m[1].replace(/&quot;/g, '"').replace(/&amp;/g, '&');
  }

  async function bundles(name) {
    const res = await server.api('GET', `/api/v1/apps/${name}/bundles`);
    assert.equal(res.status, 200, res.body);
    return res.json.bundles;
  }

  const storeDir = () => path.join(server.dataDir, 'bundles', '.pkg-store');

  function storeEntries(pkg) {
    const base = path.join(storeDir(), fs.readdirSync(storeDir()).find((d) => !d.startsWith('.')) ?? 'none', pkg);
    if (!fs.existsSync(base)) return [];
    const out = [];
    for (const version of fs.readdirSync(base))
      for (const entry of fs.readdirSync(path.join(base, version))) out.push(`${version}/${entry}`);
    return out;
  }

  let descriptionBundle;
  let firstDeployMs;

  test('DESCRIPTION: a dependency with its own dependency is installed, shiny comes from the host', async () => {
    const dir = await writeApp({
      'DESCRIPTION': 'Package: restoreapp\nImports: shiny, tinyA\n',
      'app.R': appSource([
        'tinyA::tinyA_version()',
        'tinyB::tinyB_version()',
        'paste("write lib:", probe(file.create(file.path(.libPaths()[1], "probe"))))',
        'paste("write pkg:", probe(file.create(file.path(system.file(package = "tinyA"), "probe"))))',
        'paste("remove pkg:", probe({unlink(system.file(package = "tinyB"), recursive = TRUE); !dir.exists(system.file(package = "tinyB"))}))',
      ]),
    });
    const r = await deploy(dir, 'restoreapp');
    assert.match(r.stdout, /Requested packages: shiny, tinyA/);
    assert.match(r.stdout, /shiny 1\.[0-9.]+: the server's R library/);
    assert.match(r.stdout, /Installing tinyB 1\.0/);
    assert.match(r.stdout, /Installing tinyA 2\.1/);
    const info = await page('restoreapp');
    assert.match(info, /tinyA 2\.1/);
    assert.match(info, /tinyB 1\.0/);
    assert.match(info, HOST_SHINY, info);
    assert.match(info, /libpaths: \/blockyard-lib-store\/\.libs\/[0-9a-f-]+:/, info);
    assert.equal(repo.downloads('tinyA').length, 1, repo.requests.join('\n'));
    assert.equal(repo.downloads('tinyB').length, 1, repo.requests.join('\n'));
    assert.deepEqual(repo.downloads('shiny'), [], 'shiny was fetched although the host has it');
    descriptionBundle = (await bundles('restoreapp'))[0];
    assert.equal(descriptionBundle.status, 'ready');
    firstDeployMs = r.ms;
  });

  test('a worker cannot write, or remove anything from, its package library', async () => {
    const info = await page('restoreapp');
    assert.match(info, /write lib: FALSE/, info);
    assert.match(info, /write pkg: FALSE/, info);
    assert.match(info, /remove pkg: FALSE/, info);
    assert.ok(storeEntries('tinyB').length === 1, 'tinyB is still in the store');
  });

  test('a second deploy with the same dependencies downloads nothing and is faster', async () => {
    repo.clear();
    const dir = await writeApp({
      'DESCRIPTION': 'Imports: shiny, tinyA\n',
      'app.R': appSource(['tinyA::tinyA_version()']),
    });
    const r = await deploy(dir, 'restoreapp-again');
    assert.deepEqual(repo.downloads(), [], `downloads on the second deploy:\n${repo.requests.join('\n')}`);
    assert.match(r.stdout, /2 reused from the package store, 0 installed/);
    assert.match(await page('restoreapp-again'), /tinyA 2\.1/);
    assert.ok(r.ms < firstDeployMs, `second deploy ${r.ms} ms, first ${firstDeployMs} ms`);
  });

  test('renv.lock pinning an archived version gets that version, not the current one', async () => {
    repo.clear();
    const dir = await writeApp({
      'renv.lock': JSON.stringify({
        R: { Version: '4.2.2', Repositories: [{ Name: 'local', URL: repo.url }] },
        Packages: {
          pinme: { Package: 'pinme', Version: '0.1', Source: 'Repository', Repository: 'local' },
          renv: { Package: 'renv', Version: '1.0.0', Source: 'Repository', Repository: 'CRAN' },
        },
      }),
      'app.R': appSource(['pinme::pinme_version()']),
    });
    const r = await deploy(dir, 'pinned-old');
    assert.match(r.stdout, /build mode: pinned/);
    assert.match(await page('pinned-old'), /pinme 0\.1/);
    assert.deepEqual(repo.downloads('pinme'), ['/src/contrib/Archive/pinme/pinme_0.1.tar.gz']);
    assert.equal((await bundles('pinned-old'))[0].pinned, true);

    // Pinned and already in the store: not even the index is fetched.
    repo.clear();
    await deploy(dir, 'pinned-old-again');
    assert.deepEqual(repo.requests, []);
    assert.match(await page('pinned-old-again'), /pinme 0\.1/);
  });

  test('two bundles needing different versions of one package run side by side', async () => {
    const dir = await writeApp({
      'DESCRIPTION': 'Imports: pinme\n',
      'app.R': appSource(['pinme::pinme_version()']),
    });
    await deploy(dir, 'pinned-new');
    const [oldInfo, newInfo] = await Promise.all([page('pinned-old'), page('pinned-new')]);
    assert.match(oldInfo, /pinme 0\.1/);
    assert.match(newInfo, /pinme 0\.2/);
    const runtime = async (name) => (await server.api('GET', `/api/v1/apps/${name}/runtime`)).json;
    const live = (rt) => rt.workers.filter((w) => w.status !== 'ended').length;
    assert.ok(live(await runtime('pinned-old')) >= 1 && live(await runtime('pinned-new')) >= 1, 'both run');
    assert.deepEqual(storeEntries('pinme').map((e) => e.split('/')[0]).sort(), ['0.1', '0.2']);
  });

  test('manifest.json, pinned and unpinned, and a bare-scripts bundle', async () => {
    const pinned = await writeApp({
      'manifest.json': JSON.stringify({
        version: 1,
        metadata: { appmode: 'shiny', entrypoint: 'app.R' },
        repositories: [{ Name: 'local', URL: repo.url }],
        packages: { tinyB: { Package: 'tinyB', Version: '1.0', Source: 'Repository', Repository: 'local' } },
      }),
      'app.R': appSource(['tinyB::tinyB_version()']),
    });
    const p = await deploy(pinned, 'manifest-pinned');
    assert.match(p.stdout, /build mode: pinned/);
    assert.match(await page('manifest-pinned'), /tinyB 1\.0/);

    const unpinned = await writeApp({
      'manifest.json': JSON.stringify({
        version: 1,
        metadata: { appmode: 'shiny', entrypoint: 'app.R' },
        description: { Imports: 'pinme (>= 0.2)' },
      }),
      'app.R': appSource(['pinme::pinme_version()']),
    });
    const u = await deploy(unpinned, 'manifest-unpinned');
    assert.match(u.stdout, /build mode: unpinned/);
    assert.match(await page('manifest-unpinned'), /pinme 0\.2/);

    const bare = await writeApp({ 'app.R': appSource(['tinyA_version()'], { libraryCalls: ['tinyA'] }) });
    const b = await deploy(bare, 'bare-scripts');
    assert.match(b.stdout, /build mode: auto-detected from scripts/);
    assert.match(b.stdout, /Packages:\s+shiny, tinyA/, 'by deploy lists the scanned packages');
    assert.match(await page('bare-scripts'), /tinyA 2\.1/);
  });

  test('by init writes the manifest the server restores', async () => {
    const dir = await writeApp({ 'DESCRIPTION': 'Imports: tinyA (>= 2.0), shiny\n', 'app.R': appSource([]) });
    const args = ['init', dir, '--repositories', `local=${repo.url}`, '--json'];
    const r = await byAs(server, args);
    assert.equal(r.code, 0, describeRun(args, r));
    const out = tryParseJson(r.stdout);
    assert.equal(out?.status, 'created');
    assert.deepEqual(out.packages, ['shiny', 'tinyA']);
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
    assert.deepEqual(manifest.repositories, [{ Name: 'local', URL: repo.url }]);
    assert.equal(manifest.description.Imports, 'tinyA (>= 2.0), shiny');
    const again = await byAs(server, ['init', dir]);
    assert.match(again.stdout, /manifest.json already exists \(unpinned mode\)\. Validated OK\./);
    const d = await deploy(dir, 'from-init');
    assert.match(d.stdout, /Dependencies from manifest\.json, build mode: unpinned/);
    assert.match(d.stdout, /Requested packages: shiny, tinyA/);
  });

  test('a missing package fails the deploy naming it; the active bundle keeps serving', async () => {
    const dir = await writeApp({ 'DESCRIPTION': 'Imports: tinyA, nosuchpkg\n', 'app.R': appSource([]) });
    const r = await deploy(dir, 'restoreapp', { code: 1 });
    assert.match(r.stdout + r.stderr, /package nosuchpkg is not available from any repository/);
    const [failed] = await bundles('restoreapp');
    assert.equal(failed.status, 'failed');
    assert.match(failed.error, /nosuchpkg/);
    const app = (await server.api('GET', '/api/v1/apps/restoreapp')).json;
    assert.equal(app.active_bundle, descriptionBundle.id);
    assert.match(await page('restoreapp'), /tinyA 2\.1/);
  });

  test('a version that does not exist fails the deploy naming package and version', async () => {
    const dir = await writeApp({
      'renv.lock': JSON.stringify({
        R: { Version: '4.2.2', Repositories: [{ Name: 'local', URL: repo.url }] },
        Packages: { pinme: { Package: 'pinme', Version: '9.9', Source: 'Repository' } },
      }),
      'app.R': appSource([]),
    });
    const r = await deploy(dir, 'restoreapp', { code: 1 });
    assert.match(r.stdout + r.stderr, /package pinme: version 9\.9 is not available \(local has 0\.2\)/);
    assert.match(await page('restoreapp'), /tinyA 2\.1/);
  });

  test('a compile error fails the deploy with the last lines of the compiler log', async () => {
    const dir = await writeApp({ 'DESCRIPTION': 'Imports: brokenc\n', 'app.R': appSource([]) });
    const r = await deploy(dir, 'restoreapp', { code: 1 });
    assert.match(r.stdout, /Installing brokenc 1\.0/);
    const [failed] = await bundles('restoreapp');
    assert.match(failed.error, /^package brokenc 1\.0 failed to install/);
    assert.match(failed.error, /last lines of its log:/);
    assert.match(failed.error, /brokenc\.c/, failed.error);
    assert.deepEqual(storeEntries('brokenc'), [], 'nothing half-installed entered the store');
    assert.match(await page('restoreapp'), /tinyA 2\.1/);
  });

  test('concurrent builds of one new package install it once', async () => {
    repo.clear();
    const make = (name) =>
      writeApp({ 'DESCRIPTION': 'Imports: sharedpkg\n', 'app.R': appSource(['sharedpkg::sharedpkg_version()']) }).then(
        (dir) => deploy(dir, name),
      );
    const [a, b] = await Promise.all([make('shared-one'), make('shared-two')]);
    assert.equal(repo.downloads('sharedpkg').length, 1, `${repo.requests.join('\n')}\n${a.stdout}\n${b.stdout}`);
    assert.equal(storeEntries('sharedpkg').length, 1);
    assert.match(await page('shared-one'), /sharedpkg 1\.0/);
    assert.match(await page('shared-two'), /sharedpkg 1\.0/);
    assert.deepEqual(fs.readdirSync(path.join(storeDir(), '.staging')), []);
  });

  test('a git source pinned to a commit', async () => {
    const git = await addGitPackage(repo, { name: 'gitpkg', version: '0.3' });
    const dir = await writeApp({
      'manifest.json': JSON.stringify({
        version: 1,
        metadata: { appmode: 'shiny', entrypoint: 'app.R' },
        packages: { gitpkg: { Package: 'gitpkg', Source: 'git', RemoteUrl: git.url, RemoteSha: git.sha } },
      }),
      'app.R': appSource(['gitpkg::gitpkg_version()']),
    });
    const r = await deploy(dir, 'from-git');
    assert.match(r.stdout, new RegExp(`gitpkg 0\\.3: git ${git.url.replace(/[.]/g, '\\.')}`));
    assert.match(await page('from-git'), /gitpkg 0\.3/);
    assert.deepEqual(storeEntries('gitpkg'), [`0.3/git-${git.sha}-e3b0c44298fc1c14`]);
  });

  test('a Bioconductor package from the configured mirror', async () => {
    const dir = await writeApp({
      'renv.lock': JSON.stringify({
        R: { Version: '4.2.2', Repositories: [] },
        Bioconductor: { Version: '3.16' },
        Packages: { biocpkg: { Package: 'biocpkg', Version: '1.2.3', Source: 'Bioconductor' } },
      }),
      'app.R': appSource(['biocpkg::biocpkg_version()']),
    });
    repo.clear();
    const r = await deploy(dir, 'from-bioc');
    assert.match(r.stdout, /biocpkg 1\.2\.3: BioCsoft/);
    assert.match(await page('from-bioc'), /biocpkg 1\.2\.3/);
    assert.deepEqual(repo.downloads('biocpkg'), ['/bioc/packages/3.16/bioc/src/contrib/biocpkg_1.2.3.tar.gz']);
  });

  test("the manifest's R version is used when installed (rig layout), else a warning", async () => {
    const app = (version) =>
      writeApp({
        'manifest.json': JSON.stringify({
          version: 1,
          r_version: version,
          metadata: { appmode: 'shiny', entrypoint: 'app.R' },
          description: { Imports: 'tinyB' },
        }),
        'app.R': appSource(['paste("R wrapper:", Sys.getenv("BY_TEST_R"))', 'tinyB::tinyB_version()']),
      });
    const r = await deploy(await app('4.2.99'), 'alt-r');
    assert.match(r.stdout, new RegExp(`R 4\\.2\\.99 \\(${altR}/4\\.2\\.99/bin/R\\)`));
    assert.match(await page('alt-r'), /R wrapper: alt-4\.2\.99/);

    const m = await deploy(await app('3.1.0'), 'missing-r');
    assert.match(m.stdout, /WARNING: the app asks for R 3\.1\.0, which is not installed/);
    assert.doesNotMatch(await page('missing-r'), /alt-4\.2\.99/);
  });

  test('an invalid manifest is refused by by deploy, and by the server at upload', async () => {
    const dir = await writeApp({
      'manifest.json': JSON.stringify({ version: 2, metadata: { entrypoint: 'app.R' } }),
      'app.R': appSource([]),
    });
    const args = ['deploy', dir, '--name', 'restoreapp', '--yes', '--wait'];
    const r = await byAs(server, args);
    assert.equal(r.code, 1, describeRun(args, r));
    assert.match(r.stderr, /invalid manifest: unsupported manifest version 2/);

    const tarball = path.join(path.dirname(dir), 'bundle.tar.gz');
    await run('tar', ['-czf', tarball, '-C', dir, '.']);
    const upload = await server.api('POST', '/api/v1/apps/restoreapp/bundles', {
      body: fs.readFileSync(tarball),
      headers: { 'content-type': 'application/gzip' },
    });
    assert.equal(upload.status, 400, upload.body);
    assert.equal(upload.json?.message, 'invalid manifest: unsupported manifest version 2 (server supports 1)');
    assert.match(await page('restoreapp'), /tinyA 2\.1/);
  });
});
