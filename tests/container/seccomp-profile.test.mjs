// The outer seccomp profile (profiles/seccomp-outer.json): Docker's default
// profile plus exactly the relaxations bubblewrap needs, checked as data and
// then by running bwrap under it the way Docker would (seccomp-docker-exec:
// runc's rule evaluation, Docker's default capabilities).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe as suite, test } from 'node:test';

import {
  DELTA_DOC,
  DOCKER_DEFAULT_PROFILE,
  OUTER_PROFILE,
  describe,
  readJson,
  run,
  runConfined,
} from './lib.mjs';

const CLONE_NEWUSER = 0x10000000;

// The rules the outer profile adds, keyed for comparison (comment ignored).
const EXPECTED_ADDITIONS = [
  { names: ['clone'], index: 0, arches: { excludes: ['s390', 's390x'] } },
  { names: ['clone'], index: 1, arches: { includes: ['s390', 's390x'] } },
  { names: ['unshare'], index: 0 },
];
const KERNEL_GATED = ['mount', 'umount2', 'pivot_root'];

const canon = (rule) => JSON.stringify(sortKeys(omit(rule, 'comment')));
function omit(obj, key) {
  const { [key]: _drop, ...rest } = obj; // eslint-disable-line no-unused-vars
  return rest;
}
function sortKeys(v) {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys(v[k])]));
  return v;
}

// Backend-like bwrap invocation (namespace, session, capability and mount
// flags of src/backend/process/bwrap_args.cc).
const BWRAP_SANDBOX = [
  'bwrap', '--unshare-user', '--unshare-pid', '--unshare-ipc', '--unshare-uts', '--unshare-cgroup-try',
  '--die-with-parent', '--new-session', '--cap-drop', 'ALL',
  '--ro-bind', '/', '/', '--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp',
];

suite('outer seccomp profile as data', () => {
  const outer = readJson(OUTER_PROFILE);
  const docker = readJson(DOCKER_DEFAULT_PROFILE);

  test('is Docker default except for added syscall rules', () => {
    for (const key of new Set([...Object.keys(outer), ...Object.keys(docker)])) {
      if (key === 'syscalls') continue;
      assert.deepEqual(outer[key], docker[key], `top-level "${key}" differs from Docker's default`);
    }
    // Every Docker rule is kept unchanged, in order.
    const outerCanon = outer.syscalls.map(canon);
    const dockerCanon = docker.syscalls.map(canon);
    assert.deepEqual(outerCanon.slice(0, dockerCanon.length), dockerCanon, 'Docker default rules changed');
  });

  test('adds exactly the listed rules: CLONE_NEWUSER-filtered clone/unshare and the mount family', () => {
    const added = outer.syscalls.slice(docker.syscalls.length);
    assert.equal(added.length, EXPECTED_ADDITIONS.length + 1, `added rules: ${JSON.stringify(added, null, 1)}`);
    for (const rule of added) {
      assert.equal(rule.action, 'SCMP_ACT_ALLOW');
      assert.equal(typeof rule.comment, 'string', 'every added rule says why');
      assert.ok(!rule.includes?.caps && !rule.excludes?.caps, 'no capability conditions on added rules');
    }
    const filtered = added.filter((r) => r.args?.length);
    assert.equal(filtered.length, EXPECTED_ADDITIONS.length);
    filtered.forEach((rule, i) => {
      const want = EXPECTED_ADDITIONS[i];
      assert.deepEqual(rule.names, want.names);
      assert.deepEqual(rule.args, [
        { index: want.index, value: CLONE_NEWUSER, valueTwo: CLONE_NEWUSER, op: 'SCMP_CMP_MASKED_EQ' },
      ]);
      assert.deepEqual(rule.includes?.arches, want.arches?.includes);
      assert.deepEqual(rule.excludes?.arches, want.arches?.excludes);
    });
    const [unfiltered] = added.filter((r) => !r.args?.length);
    assert.deepEqual([...unfiltered.names].sort(), [...KERNEL_GATED].sort());
  });

  test('leaves setns, clone3 and every other namespace syscall as Docker has them', () => {
    const added = outer.syscalls.slice(docker.syscalls.length).flatMap((r) => r.names);
    for (const name of ['setns', 'clone3', 'sethostname', 'open_tree', 'move_mount', 'fsopen', 'bpf', 'keyctl']) {
      assert.ok(!added.includes(name), `${name} must not be relaxed`);
    }
    const clone3 = outer.syscalls.find((r) => r.names.includes('clone3') && r.action === 'SCMP_ACT_ERRNO');
    assert.equal(clone3?.errnoRet, 38, 'clone3 answers ENOSYS so glibc falls back to clone');
  });

  test('the delta document lists every added syscall', () => {
    const doc = fs.readFileSync(DELTA_DOC, 'utf8');
    for (const name of ['clone', 'unshare', ...KERNEL_GATED]) assert.match(doc, new RegExp(`\`${name}\``));
    assert.match(doc, /CLONE_NEWUSER/);
  });
});

suite('bwrap under the Docker-like loader', () => {
  test('the loader leaves Docker default capabilities and a seccomp filter in place', async () => {
    const r = await runConfined(OUTER_PROFILE, ['grep', '-E', '^(CapBnd|CapEff|Seccomp|NoNewPrivs):', '/proc/self/status']);
    assert.equal(r.code, 0, describe(r));
    assert.match(r.stdout, /CapBnd:\s+00000000a80425fb/, describe(r)); // docker's default set
    assert.match(r.stdout, /CapEff:\s+00000000a80425fb/, describe(r));
    assert.match(r.stdout, /Seccomp:\s+2/, describe(r));
    assert.match(r.stdout, /NoNewPrivs:\s+0/, describe(r));
  });

  test('Docker default profile: bwrap --unshare-user fails with EPERM', async () => {
    const r = await runConfined(DOCKER_DEFAULT_PROFILE, ['bwrap', '--unshare-user', '--ro-bind', '/', '/', 'true']);
    assert.notEqual(r.code, 0, describe(r));
    assert.match(r.stderr, /No permissions to create new namespace|Operation not permitted/, describe(r));
    const u = await runConfined(DOCKER_DEFAULT_PROFILE, ['unshare', '--user', 'true']);
    assert.notEqual(u.code, 0, describe(u));
    assert.match(u.stderr, /Operation not permitted/, describe(u));
  });

  test('Docker default profile with --cap-add SYS_ADMIN still stops bwrap (pivot_root)', async () => {
    const r = await runConfined(DOCKER_DEFAULT_PROFILE, ['bwrap', '--unshare-user', '--ro-bind', '/', '/', 'true'], {
      loaderArgs: ['--cap-add', 'SYS_ADMIN'],
    });
    assert.notEqual(r.code, 0, describe(r));
    assert.match(r.stderr, /pivot_root: Operation not permitted/, describe(r));
  });

  test('outer profile: bwrap --unshare-user --ro-bind / / true succeeds', async () => {
    const r = await runConfined(OUTER_PROFILE, ['bwrap', '--unshare-user', '--ro-bind', '/', '/', 'true']);
    assert.equal(r.code, 0, describe(r));
  });

  test('outer profile: the backend-shaped sandbox runs, without capabilities inside', async () => {
    const r = await runConfined(OUTER_PROFILE, [...BWRAP_SANDBOX, '--', 'sh', '-c', 'grep ^CapEff: /proc/self/status; echo pid=$$']);
    assert.equal(r.code, 0, describe(r));
    assert.match(r.stdout, /CapEff:\s+0000000000000000/, describe(r));
    assert.match(r.stdout, /pid=[12]\b/, `not in a fresh PID namespace${describe(r)}`);
  });

  test('outer profile: a private network namespace also works (bwrap --unshare-net)', async () => {
    const r = await runConfined(OUTER_PROFILE, [...BWRAP_SANDBOX, '--unshare-net', '--', 'true']);
    assert.equal(r.code, 0, describe(r));
  });

  test('outer profile with no-new-privileges (Kubernetes allowPrivilegeEscalation: false) works', async () => {
    const r = await runConfined(OUTER_PROFILE, [...BWRAP_SANDBOX, '--', 'true'], { loaderArgs: ['--no-new-privileges'] });
    assert.equal(r.code, 0, describe(r));
  });

  test('outer profile: namespaces without a new user namespace stay blocked', async () => {
    for (const flag of ['--net', '--mount', '--uts', '--ipc', '--pid']) {
      const r = await runConfined(OUTER_PROFILE, ['unshare', flag, 'true']);
      assert.notEqual(r.code, 0, `unshare ${flag} without --user must fail${describe(r)}`);
      assert.match(r.stderr, /Operation not permitted/, describe(r));
    }
  });

  test('outer profile: mount in the container itself is still refused (kernel capability check)', async () => {
    const r = await runConfined(OUTER_PROFILE, ['mount', '-t', 'tmpfs', 'none', '/mnt']);
    assert.notEqual(r.code, 0, describe(r));
    assert.match(r.stderr, /permission denied|not permitted/i, describe(r));
  });

  test('outer profile: clone3 answers ENOSYS and threads still start', async () => {
    const py = [
      'import ctypes, threading',
      'libc = ctypes.CDLL(None, use_errno=True)',
      'rc = libc.syscall(435, 0, 0)',
      'print("clone3", rc, ctypes.get_errno())',
      'out = []',
      't = threading.Thread(target=lambda: out.append("ran")); t.start(); t.join()',
      'print("thread", out[0])',
    ].join('\n');
    const r = await runConfined(OUTER_PROFILE, ['python3', '-c', py]);
    assert.equal(r.code, 0, describe(r));
    assert.match(r.stdout, /clone3 -1 38/, describe(r));
    assert.match(r.stdout, /thread ran/, describe(r));
  });

  test('the loader rejects a malformed profile with exit 125', async () => {
    const tmp = fs.mkdtempSync('/tmp/blockyard-seccomp-');
    const bad = `${tmp}/bad.json`;
    fs.writeFileSync(bad, JSON.stringify({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_BOGUS' }] }));
    const r = await runConfined(bad, ['true']);
    assert.equal(r.code, 125, describe(r));
    assert.match(r.stderr, /SCMP_ACT_BOGUS/, describe(r));
    fs.rmSync(tmp, { recursive: true, force: true });
    const missing = await run(['true']);
    assert.equal(missing.code, 0);
  });
});
