// A CRAN-like package repository for the dependency-restore suites: tiny
// source packages built with the real `R CMD build`, indexed with
// tools::write_PACKAGES, older versions under src/contrib/Archive/<pkg>/,
// served over HTTP on loopback by a server that records every request.
//
//   const repo = await buildRepository([{ name: 'tinyB', version: '1.0' }, ...]);
//   await repo.start();            // repo.url = http://127.0.0.1:<port>
//   repo.downloads('tinyB')        // tarball requests for that package
//   await repo.stop();

import { execFile } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { promisify } from 'node:util';

import { makeTempDir } from './harness.mjs';

const run = promisify(execFile);

// The DESCRIPTION, NAMESPACE, R code and (optionally) C code of one package.
// spec: {name, version, imports?: 'a, b (>= 1.0)', code?: R source,
//        exports?: [names], c?: C source (makes it a compiled package),
//        configure?: shell script run by R CMD INSTALL, linkingTo?: '...'}
async function writePackageSource(dir, spec) {
  const root = path.join(dir, spec.name);
  await fsp.mkdir(path.join(root, 'R'), { recursive: true });
  const lines = [
    `Package: ${spec.name}`,
    `Version: ${spec.version}`,
    `Title: Test Package ${spec.name}`,
    `Description: A tiny package for blockyard's restore tests.`,
    'License: MIT',
    'Authors@R: person("Blockyard", "Tests", email = "tests@example.org", role = c("aut", "cre"))',
    'Encoding: UTF-8',
  ];
  if (spec.imports) lines.push(`Imports: ${spec.imports}`);
  if (spec.linkingTo) lines.push(`LinkingTo: ${spec.linkingTo}`);
  if (spec.c) lines.push('NeedsCompilation: yes');
  await fsp.writeFile(path.join(root, 'DESCRIPTION'), lines.join('\n') + '\n');
  const fn = `${spec.name.replace(/\./g, '_')}_version`;
  const code =
    spec.code ?? `${fn} <- function() "${spec.name} ${spec.version}"\n`;
  const exports = spec.exports ?? [fn];
  await fsp.writeFile(path.join(root, 'R', 'code.R'), code);
  const ns = exports.map((e) => `export(${e})`);
  if (spec.c) {
    await fsp.mkdir(path.join(root, 'src'), { recursive: true });
    await fsp.writeFile(path.join(root, 'src', `${spec.name}.c`), spec.c);
    ns.push(`useDynLib(${spec.name})`);
  }
  await fsp.writeFile(path.join(root, 'NAMESPACE'), ns.join('\n') + '\n');
  if (spec.configure) {
    await fsp.writeFile(path.join(root, 'configure'), spec.configure, { mode: 0o755 });
  }
  return root;
}

// Builds `packages` (specs as above, plus archived: true for versions that
// go to src/contrib/Archive) into a fresh repository directory.
export async function buildRepository(packages, { dir } = {}) {
  const root = dir ?? (await makeTempDir('cran'));
  const contrib = path.join(root, 'src', 'contrib');
  await fsp.mkdir(contrib, { recursive: true });
  const work = await makeTempDir('cran-src');
  for (const spec of packages) {
    const srcParent = path.join(work, `${spec.name}-${spec.version}`);
    await fsp.mkdir(srcParent, { recursive: true });
    const src = await writePackageSource(srcParent, spec);
    // --no-build-vignettes --no-manual: nothing to build, and no LaTeX here.
    await run('R', ['CMD', 'build', '--no-build-vignettes', '--no-manual', src], {
      cwd: srcParent,
      timeout: 120_000,
    });
    const tarball = `${spec.name}_${spec.version}.tar.gz`;
    const dest = spec.archived ? path.join(contrib, 'Archive', spec.name) : contrib;
    await fsp.mkdir(dest, { recursive: true });
    await fsp.rename(path.join(srcParent, tarball), path.join(dest, tarball));
  }
  await run('Rscript', ['-e', `tools::write_PACKAGES(${JSON.stringify(contrib)}, type = "source")`], {
    timeout: 120_000,
  });
  await fsp.rm(work, { recursive: true, force: true });
  return new Repository(root);
}

// Serves a directory (a CRAN-like repository, or anything static) over HTTP
// and records the path of every request.
export class Repository {
  constructor(root) {
    this.root = root;
    this.requests = [];
    this.server = null;
    this.url = null;
  }

  async start() {
    this.server = http.createServer((req, res) => {
      const urlPath = decodeURIComponent(new URL(req.url, 'http://x').pathname);
      this.requests.push(urlPath);
      const file = path.join(this.root, path.normalize(urlPath));
      if (!file.startsWith(this.root)) {
        res.writeHead(403).end();
        return;
      }
      fs.stat(file, (err, st) => {
        if (err || !st.isFile()) {
          res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
          return;
        }
        res.writeHead(200, { 'content-length': st.size });
        if (req.method === 'HEAD') return res.end();
        fs.createReadStream(file).pipe(res);
      });
    });
    await new Promise((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${this.server.address().port}`;
    return this;
  }

  async stop() {
    if (!this.server) return;
    this.server.closeAllConnections?.();
    await new Promise((resolve) => this.server.close(resolve));
    this.server = null;
  }

  // Requests for source tarballs (current or archived), optionally of one package.
  downloads(name) {
    return this.requests.filter(
      (p) => p.endsWith('.tar.gz') && (name === undefined || path.basename(p).startsWith(`${name}_`)),
    );
  }

  clear() {
    this.requests = [];
  }
}

// A git repository holding one package, served over git's "dumb" HTTP
// protocol by `repo` (a Repository rooted above it). Returns {url, sha}.
export async function addGitPackage(repo, spec) {
  const parent = await makeTempDir('gitpkg');
  const src = await writePackageSource(parent, spec);
  const git = (args, cwd = src) => run('git', args, { cwd });
  await git(['init', '-q']);
  await git(['-c', 'user.email=t@example.org', '-c', 'user.name=t', 'add', '.']);
  await git(['-c', 'user.email=t@example.org', '-c', 'user.name=t', 'commit', '-q', '-m', 'v']);
  const sha = (await git(['rev-parse', 'HEAD'])).stdout.trim();
  const bare = path.join(repo.root, 'git', `${spec.name}.git`);
  await fsp.mkdir(path.dirname(bare), { recursive: true });
  await run('git', ['clone', '-q', '--bare', src, bare]);
  await run('git', ['update-server-info'], { cwd: bare });
  await fsp.rm(parent, { recursive: true, force: true });
  return { url: `${repo.url}/git/${spec.name}.git`, sha };
}
