// The image's files as data: the Dockerfiles pass dockerfile-utils' linter,
// every COPY source exists, the runtime stage produces every path the seed
// document promises, and the deployment examples keep its promises (seccomp
// option, no privileges, no Docker socket, internal state network, extras
// ConfigMap by subPath).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe as suite, test } from 'node:test';

import { validate } from 'dockerfile-utils';
import YAML from 'yaml';

import { DOCKER_DIR, SOURCE_DIR } from './lib.mjs';

const SERVER_DOCKERFILE = path.join(DOCKER_DIR, 'server-process.Dockerfile');
const AIRGAPPED_DOCKERFILE = path.join(DOCKER_DIR, 'airgapped.Dockerfile');

// Instructions with continuation lines joined: [{op, args, stage}].
function instructions(file) {
  const text = fs.readFileSync(file, 'utf8').replace(/\\\n/g, ' ');
  const out = [];
  let stage = -1;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const [op, ...rest] = line.split(/\s+/);
    if (op.toUpperCase() === 'FROM') stage += 1;
    out.push({ op: op.toUpperCase(), args: rest.join(' '), stage });
  }
  return out;
}

// COPY without --from: [{sources, dest}].
function contextCopies(file) {
  return instructions(file)
    .filter((i) => i.op === 'COPY' && !/--from=/.test(i.args))
    .map((i) => {
      const words = i.args.split(/\s+/).filter((w) => !w.startsWith('--'));
      return { sources: words.slice(0, -1), dest: words.at(-1), stage: i.stage };
    });
}

suite('Dockerfiles', () => {
  for (const file of [SERVER_DOCKERFILE, AIRGAPPED_DOCKERFILE]) {
    test(`${path.basename(file)} passes dockerfile-utils lint`, () => {
      const problems = validate(fs.readFileSync(file, 'utf8'));
      assert.deepEqual(
        problems.map((p) => `line ${p.range.start.line + 1}: ${p.message}`),
        [],
      );
    });
  }

  test('the linter is live: it flags a broken Dockerfile', () => {
    const problems = validate('FROM ubuntu:24.04\nEXPOSE eighty\nCOPY\n');
    assert.ok(problems.length >= 2, JSON.stringify(problems));
  });

  test('every COPY source exists in the build context (the repository root)', () => {
    const copies = contextCopies(SERVER_DOCKERFILE);
    assert.ok(copies.length >= 8, `too few COPY instructions: ${JSON.stringify(copies)}`);
    for (const { sources } of copies) {
      for (const src of sources) assert.ok(fs.existsSync(path.join(SOURCE_DIR, src)), `COPY source ${src} does not exist`);
    }
  });

  test('the .dockerignore lets every COPY source through', () => {
    const ignore = fs.readFileSync(`${SERVER_DOCKERFILE}.dockerignore`, 'utf8').split('\n').map((l) => l.trim());
    const allowed = ignore.filter((l) => l.startsWith('!')).map((l) => l.slice(1).replace(/\/$/, ''));
    for (const { sources } of contextCopies(SERVER_DOCKERFILE)) {
      for (const src of sources) {
        const clean = src.replace(/\/$/, '').replace(/^\.\//, '');
        if (clean === '.') continue;
        assert.ok(allowed.some((a) => clean === a || clean.startsWith(`${a}/`)), `${src} is excluded by .dockerignore`);
      }
    }
  });

  test('the runtime stage produces every path the seed document names', () => {
    const all = instructions(SERVER_DOCKERFILE);
    const finalStage = Math.max(...all.map((i) => i.stage));
    const runtime = all.filter((i) => i.stage === finalStage);
    const produced = new Set(runtime.filter((i) => i.op === 'COPY').map((i) => i.args.split(/\s+/).at(-1)));
    // The seed document's /etc/blockyard paths (apparmor/blockyard,
    // blockyard.toml, extras.sh, seccomp.bpf, seccomp.json), and ours.
    for (const p of ['/etc/blockyard/seccomp.bpf', '/etc/blockyard/seccomp.json', '/etc/blockyard/extras.sh', '/etc/blockyard/apparmor/blockyard', '/etc/blockyard/blockyard.toml', '/etc/blockyard/r-versions.sh', '/usr/local/bin/blockyard']) {
      assert.ok(produced.has(p), `runtime stage does not produce ${p}; it copies to ${[...produced].join(', ')}`);
    }
    const text = fs.readFileSync(SERVER_DOCKERFILE, 'utf8');
    assert.match(text, /^FROM \$\{UBUNTU_IMAGE\}$/m);
    assert.match(text, /^ARG UBUNTU_IMAGE=ubuntu:24\.04$/m);
    assert.match(text, /^EXPOSE 8080$/m);
    assert.match(
      text,
      /^ENTRYPOINT \["\/usr\/local\/bin\/entrypoint\.sh", "blockyard", "--config", "\/etc\/blockyard\/blockyard\.toml"\]$/m,
    );
    assert.match(text, /\bbubblewrap\b/);
    assert.match(text, /\brig\b.*\/usr\/local/s);
    assert.doesNotMatch(text, /^USER\b/m, 'the server must run as root in the container');
  });

  test('the runtime stage installs no compilers and no -dev packages', () => {
    const all = instructions(SERVER_DOCKERFILE);
    const finalStage = Math.max(...all.map((i) => i.stage));
    for (const i of all.filter((x) => x.stage === finalStage && x.op === 'RUN')) {
      for (const m of i.args.matchAll(/apt-get install ([^&]*)/g)) {
        assert.doesNotMatch(m[1], /(^|\s)(gcc|g\+\+|gfortran|clang|build-essential|make|cmake)(\s|$)|-dev\b/, `runtime installs a build tool: ${m[1]}`);
      }
    }
  });

  test('make image: the Debian head plus the release file from its shared-steps line, a valid Dockerfile', () => {
    const release = fs.readFileSync(SERVER_DOCKERFILE, 'utf8');
    const marker = release.indexOf('\n# ---- shared steps');
    assert.ok(marker > 0, 'no "# ---- shared steps" line in the release Dockerfile');
    const shared = release.slice(marker + 1);
    // Everything the seed promises is produced by the shared steps.
    for (const p of ['/usr/local/bin/blockyard', '/etc/blockyard/seccomp.bpf', '/etc/blockyard/seccomp.json', '/etc/blockyard/extras.sh', '/etc/blockyard/apparmor/blockyard', '/etc/blockyard/blockyard.toml', '/usr/local/bin/entrypoint.sh']) {
      assert.match(shared, new RegExp(`^COPY .* ${p.replace(/[./]/g, '\\$&')}$`, 'm'), `${p} is not copied by the shared steps`);
    }
    assert.match(shared, /^ENTRYPOINT /m);
    const composed = `${fs.readFileSync(path.join(DOCKER_DIR, 'debian.Dockerfile'), 'utf8')}${shared}`;
    const problems = validate(composed);
    assert.deepEqual(problems.map((p) => `line ${p.range.start.line + 1}: ${p.message}`), []);
    // The script composes exactly this.
    const script = fs.readFileSync(path.join(SOURCE_DIR, 'scripts', 'build-image.sh'), 'utf8');
    assert.match(script, /cat docker\/debian\.Dockerfile/);
    assert.match(script, /sed -n '\/\^# ---- shared steps\/,\$p' docker\/server-process\.Dockerfile/);
  });

  test('the image config selects the process backend and binds where -p 8080:8080 reaches it', () => {
    const toml = fs.readFileSync(path.join(DOCKER_DIR, 'blockyard.toml'), 'utf8');
    assert.match(toml, /^bind = "0\.0\.0\.0:8080"$/m);
    assert.match(toml, /^backend = "process"$/m);
    assert.match(toml, /^seccomp_profile = "\/etc\/blockyard\/seccomp\.bpf"$/m);
    assert.match(toml, /^path = "\/data\/blockyard\.db"$/m);
  });
});

suite('deployment examples', () => {
  test('compose: seccomp profile, no privileges, no Docker socket, Redis without a host port', () => {
    const text = fs.readFileSync(path.join(DOCKER_DIR, 'compose.yml'), 'utf8');
    const doc = YAML.parse(text);
    const by = doc.services.blockyard;
    assert.deepEqual(by.security_opt.filter((o) => o.startsWith('seccomp=')), ['seccomp=/etc/blockyard/seccomp.json']);
    for (const [name, svc] of Object.entries(doc.services)) {
      assert.ok(!svc.privileged, `${name} is privileged`);
      assert.ok(!svc.cap_add, `${name} adds capabilities`);
      for (const v of svc.volumes ?? []) assert.doesNotMatch(String(v), /docker\.sock/, `${name} mounts the Docker socket`);
    }
    assert.ok(!doc.services.redis.ports, 'redis publishes a host port');
    assert.ok(by.volumes.some((v) => v.endsWith(':/data')), 'state volume not at /data');
    assert.ok(fs.existsSync(path.join(DOCKER_DIR, 'Caddyfile')), 'compose mounts ./Caddyfile');
  });

  test("compose: Redis requires the password blockyard's URL carries; masks kept with worker_procfs = none", () => {
    const doc = YAML.parse(fs.readFileSync(path.join(DOCKER_DIR, 'compose.yml'), 'utf8'));
    const env = doc.services.blockyard.environment;
    const password = /\$\{REDIS_PASSWORD:\?[^}]+\}/;
    const url = env.find((e) => e.startsWith('BLOCKYARD_REDIS_URL='));
    assert.match(url, new RegExp(`^BLOCKYARD_REDIS_URL=redis://:${password.source}@redis:6379$`));
    const command = doc.services.redis.command;
    assert.equal(command[command.indexOf('--requirepass') + 1].match(password)?.[0], url.match(password)[0]);
    assert.ok(env.includes('BLOCKYARD_PROCESS_WORKER_PROCFS=none'));
    // Unmasking without a user namespace is never shipped.
    assert.ok(!doc.services.blockyard.security_opt.some((o) => /unmask|systempaths/.test(o)));
  });

  test('kubernetes: extras ConfigMap mounted by subPath, executable, read-only; Localhost seccomp profile', () => {
    const docs = YAML.parseAllDocuments(fs.readFileSync(path.join(DOCKER_DIR, 'k8s', 'deployment.yaml'), 'utf8')).map((d) => d.toJS());
    const cm = docs.find((d) => d.kind === 'ConfigMap');
    assert.match(cm.data['extras.sh'], /^#!\/bin\/sh\n/);
    assert.match(cm.data['extras.sh'], /^set -e$/m);
    const dep = docs.find((d) => d.kind === 'Deployment');
    const pod = dep.spec.template.spec;
    const c = pod.containers[0];
    const mount = c.volumeMounts.find((m) => m.mountPath === '/etc/blockyard/extras.sh');
    assert.deepEqual(mount, { name: mount.name, mountPath: '/etc/blockyard/extras.sh', subPath: 'extras.sh', readOnly: true });
    const vol = pod.volumes.find((v) => v.name === mount.name);
    assert.equal(vol.configMap.name, cm.metadata.name);
    assert.equal(vol.configMap.defaultMode, 0o755);
    assert.equal(c.securityContext.seccompProfile.type, 'Localhost');
    assert.ok(!c.securityContext.privileged && !c.securityContext.capabilities?.add);
    // Masks kept (no procMount: Unmasked without hostUsers: false).
    assert.ok(c.securityContext.procMount !== 'Unmasked' || pod.hostUsers === false);
    assert.deepEqual(c.env, [{ name: 'BLOCKYARD_PROCESS_WORKER_PROCFS', value: 'none' }]);
  });

  test('airgapped image derives from the published image and needs no hook at start', () => {
    const text = fs.readFileSync(AIRGAPPED_DOCKERFILE, 'utf8');
    assert.match(text, /^FROM \$\{BLOCKYARD_IMAGE\}$/m);
    assert.match(text, /blockyard-process/);
    assert.match(text, /\/etc\/blockyard\/r-versions\.sh/);
  });
});
