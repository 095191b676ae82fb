// Start-up refused in a real container, each time with the message for the
// real cause (src/preflight/sandbox_diagnosis.cc); the outer profile the image
// ships; and what unmasking /proc costs without a user namespace.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';

import { DOCKER_DEFAULT_PROFILE, describe as describeRun } from './lib.mjs';
import { FLAGS, OUTER_PROFILE_PATH, removeLabelled, runOnce } from './podman.mjs';

const SUITE = 'refusals';

// Runs the image with `flags` until blockyard gives up; resolves the run.
async function refusedStart(flags) {
  const r = await runOnce({ suite: SUITE, flags, timeoutMs: 180_000 });
  const log = `${r.stdout}${r.stderr}`;
  assert.notEqual(r.code, 0, `the container started and exited 0${describeRun(r)}`);
  assert.doesNotMatch(log, /blockyard \S+ listening on http/, `the server listened although preflight failed${describeRun(r)}`);
  return { ...r, log };
}

describe('container start-up refusals', { timeout: 600_000 }, () => {
  before(() => removeLabelled(SUITE));
  after(() => removeLabelled(SUITE));

  test("the seed's flags alone: /proc is masked, and the message says so for each runtime", async () => {
    const { log } = await refusedStart(FLAGS.seed);
    assert.match(log, /Can't mount proc on \/newroot\/proc/);
    assert.match(log, /mounted over parts of \/proc \([^)]*\/proc\/(keys|sys|timer_list)/);
    assert.match(log, /The seccomp profile is not the cause/);
    for (const fix of ['unmask=/proc/*', '--userns=auto:size=65536', 'systempaths=unconfined', 'procMount: Unmasked', 'hostUsers: false', 'worker_procfs = \\"none\\"']) {
      assert.ok(log.includes(fix), `the message does not name ${fix}:\n${log}`);
    }
  });

  test("Docker's default seccomp profile: the message blames seccomp, not the masks", async () => {
    const { log } = await refusedStart(['--security-opt', `seccomp=${DOCKER_DEFAULT_PROFILE}`]);
    assert.match(log, /No permissions to create new namespace/);
    assert.match(log, /seccomp filter \(Seccomp: 2\)/);
    assert.match(log, /--security-opt seccomp=\/etc\/blockyard\/seccomp\.json/);
    assert.match(log, /localhostProfile: blockyard-outer\.json/);
    assert.doesNotMatch(log, /unmask/);
  });

  test('a user namespace too small for the worker IDs is named as such', async () => {
    // podman's default auto size maps 0-65533: GID 65534 (workers' nogroup) is missing.
    const flags = ['--security-opt', `seccomp=${OUTER_PROFILE_PATH}`, '--security-opt', 'unmask=/proc/*', '--userns=auto'];
    const { log } = await refusedStart(flags);
    assert.match(log, /not mapped in this container's user namespace/);
    assert.match(log, /gid 65534/);
    assert.match(log, /--userns=auto:size=65536/);
  });
});

describe('the outer profile shipped in the image', { timeout: 300_000 }, () => {
  after(() => removeLabelled(SUITE));

  test('--entrypoint cat IMAGE /etc/blockyard/seccomp.json is profiles/seccomp-outer.json', async () => {
    const r = await runOnce({ suite: SUITE, entrypoint: 'cat', args: ['/etc/blockyard/seccomp.json'] });
    assert.equal(r.code, 0, describeRun(r));
    assert.equal(r.stdout, fs.readFileSync(OUTER_PROFILE_PATH, 'utf8'));
  });

  test("the image's by admin install-seccomp writes the same bytes", async () => {
    const r = await runOnce({
      suite: SUITE,
      entrypoint: 'sh',
      args: ['-c', 'by admin install-seccomp --target /tmp/outer.json >/dev/null && cat /tmp/outer.json'],
    });
    assert.equal(r.code, 0, describeRun(r));
    assert.equal(r.stdout, fs.readFileSync(OUTER_PROFILE_PATH, 'utf8'));
  });
});

describe('what unmasking /proc exposes', { timeout: 300_000 }, () => {
  after(() => removeLabelled(SUITE));

  // Opens a host-wide sysctl for writing without writing anything.
  const probe = ['-c', 'if true >> /proc/sys/kernel/core_pattern 2>/dev/null; then echo writable; else echo refused; fi'];
  const unmaskedRoot = ['--security-opt', `seccomp=${OUTER_PROFILE_PATH}`, '--security-opt', 'unmask=/proc/*'];

  test('without a user namespace, the container root could rewrite host sysctls (kernel.core_pattern)', async () => {
    const r = await runOnce({ suite: SUITE, flags: unmaskedRoot, entrypoint: 'sh', args: probe });
    assert.equal(r.stdout.trim(), 'writable', describeRun(r));
  });

  test('masked (the default) or user-namespaced, it cannot', async () => {
    for (const flags of [FLAGS.seed, FLAGS.userns]) {
      const r = await runOnce({ suite: SUITE, flags, entrypoint: 'sh', args: probe });
      assert.equal(r.stdout.trim(), 'refused', `${flags.join(' ')}${describeRun(r)}`);
    }
  });
});
