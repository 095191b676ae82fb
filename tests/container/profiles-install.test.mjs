// `by admin install-seccomp` and `by admin install-apparmor` write the
// profiles embedded in the by binary, byte for byte, with no server and no
// network; the AppArmor profile is checked with apparmor_parser.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe as suite, test } from 'node:test';

import { APPARMOR_PROFILE, BY_BIN, OUTER_PROFILE, describe, run } from './lib.mjs';

const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'blockyard-install-'));
after(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));

// by with no credentials at all and an unreachable server configured: the
// install commands must not need either.
function by(args) {
  const env = { ...process.env, HOME: tmpRoot, XDG_CONFIG_HOME: tmpRoot, BLOCKYARD_URL: 'http://127.0.0.1:1' };
  delete env.BLOCKYARD_TOKEN;
  return run([BY_BIN, ...args], { env });
}

function parserPath() {
  for (const dir of [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/sbin']) {
    const p = path.join(dir, 'apparmor_parser');
    if (dir && fs.existsSync(p)) return p;
  }
  return null;
}

suite('by admin install-seccomp', () => {
  test('writes the same bytes as profiles/seccomp-outer.json, creating the directory', async () => {
    const target = path.join(tmpRoot, 'new', 'dir', 'x.json');
    const r = await by(['admin', 'install-seccomp', '--target', target]);
    assert.equal(r.code, 0, describe(r));
    assert.ok(fs.readFileSync(target).equals(fs.readFileSync(OUTER_PROFILE)), 'bytes differ from the repository profile');
    assert.equal(fs.statSync(target).mode & 0o777, 0o644);
    assert.match(r.stdout, new RegExp(`Wrote seccomp profile to ${target}`));
    assert.match(r.stdout, /--security-opt seccomp=/);
  });

  test('replaces an existing file and reports JSON with --json', async () => {
    const target = path.join(tmpRoot, 'old.json');
    fs.writeFileSync(target, 'stale');
    const r = await by(['--json', 'admin', 'install-seccomp', '--target', target]);
    assert.equal(r.code, 0, describe(r));
    assert.deepEqual(JSON.parse(r.stdout), { path: target, status: 'written' });
    assert.ok(fs.readFileSync(target).equals(fs.readFileSync(OUTER_PROFILE)));
    assert.deepEqual(fs.readdirSync(tmpRoot).filter((f) => f.startsWith('.old.json')), [], 'temporary file left behind');
  });

  test('fails with a clear error when the target cannot be written', async () => {
    const blocker = path.join(tmpRoot, 'a-file');
    fs.writeFileSync(blocker, '');
    const r = await by(['admin', 'install-seccomp', '--target', path.join(blocker, 'x.json')]);
    assert.equal(r.code, 1, describe(r));
    assert.match(r.stderr, /^Error: /m, describe(r));
  });
});

suite('AppArmor profile', () => {
  const text = fs.readFileSync(APPARMOR_PROFILE, 'utf8');

  test('attaches to blockyard by path and grants userns', () => {
    assert.match(text, /^profile blockyard \/usr\/\{bin,local\/bin\}\/blockyard\b/m);
    assert.match(text, /^\s*userns,\s*$/m);
    assert.match(text, /^abi <abi\/4\.0>,/m);
  });

  test('by admin install-apparmor writes the same bytes', async () => {
    const target = path.join(tmpRoot, 'apparmor.d', 'blockyard');
    const r = await by(['admin', 'install-apparmor', '--target', target]);
    assert.equal(r.code, 0, describe(r));
    assert.ok(fs.readFileSync(target).equals(fs.readFileSync(APPARMOR_PROFILE)));
    assert.match(r.stdout, /Wrote AppArmor profile to /);
  });

  test('apparmor_parser -QT accepts it', async (t) => {
    const parser = parserPath();
    assert.ok(parser, 'apparmor_parser not installed (Debian package apparmor)');
    const version = (await run([parser, '--version'])).stdout;
    const major = Number(/version (\d+)/.exec(version)?.[1] ?? 0);
    let file = APPARMOR_PROFILE;
    if (major < 4) {
      // AppArmor 3 knows neither abi 4.0 nor the userns rule (hosts with such
      // a parser do not restrict user namespaces). Check everything else.
      t.diagnostic(`apparmor_parser ${major}.x: checking the profile without abi 4.0 and userns`);
      file = path.join(tmpRoot, 'blockyard-apparmor3');
      fs.writeFileSync(file, text.replace('abi <abi/4.0>,', 'abi <abi/3.0>,').replace(/^\s*userns,\s*$/m, ''));
    }
    const r = await run([parser, '-QT', file]);
    assert.equal(r.code, 0, describe(r));
    // The check must be able to fail: a broken rule is rejected.
    const broken = path.join(tmpRoot, 'broken-apparmor');
    fs.writeFileSync(broken, fs.readFileSync(file, 'utf8').replace('include if exists', 'inclde if exists'));
    const b = await run([parser, '-QT', broken]);
    assert.notEqual(b.code, 0, `a broken profile was accepted${describe(b)}`);
  });
});
