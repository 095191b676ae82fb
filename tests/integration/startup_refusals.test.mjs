// Configurations the server must refuse at start-up rather than run in a way
// the operator did not ask for: it exits non-zero, names the key, and leaves
// no database behind.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';

import { BLOCKYARD_BIN, freePort, makeTempDir, toToml } from '../lib/harness.mjs';

function runToExit(args, { timeoutMs = 30_000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(BLOCKYARD_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`blockyard still running after ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

// Starts blockyard on a config with `sections` over a minimal base (its own
// bind, token file, database and bundle directory) and waits for it to exit.
async function startWith(name, sections) {
  const dir = await makeTempDir(name);
  const db = path.join(dir, 'db.sqlite');
  const tokenFile = path.join(dir, 'admin-token');
  const config = path.join(dir, 'blockyard.toml');
  const base = {
    server: { bind: `127.0.0.1:${await freePort()}`, admin_token_file: tokenFile },
    database: { path: db },
    storage: { bundle_server_path: path.join(dir, 'bundles') },
  };
  const merged = { ...base, ...sections };
  for (const key of Object.keys(base)) merged[key] = { ...base[key], ...(sections[key] ?? {}) };
  await fsp.writeFile(config, toToml(merged));
  return { ...(await runToExit(['--config', config])), db, tokenFile };
}

// The refusal exits 1 with `message` in its output and writes nothing.
function assertRefused(r, message) {
  assert.equal(r.code, 1, `expected exit 1, got ${r.code}:\n${r.output}`);
  assert.match(r.output, message, `the message should say what to change:\n${r.output}`);
  assert.ok(!fs.existsSync(r.db), 'a refused start-up created the database');
  assert.ok(!fs.existsSync(r.tokenFile), 'a refused start-up wrote a token');
}

describe('start-up refusals', () => {
  test('[oidc] with an identity provider that cannot be reached stops start-up naming it', async () => {
    const port = await freePort(); // nothing listens there
    const r = await startWith('oidc', {
      server: { external_url: 'https://blockyard.example.com', session_secret: '0123456789abcdef0123456789abcdef' },
      oidc: { issuer_url: `http://127.0.0.1:${port}`, client_id: 'blockyard', client_secret: 'secret' },
    });
    assertRefused(r, new RegExp(`oidc: cannot use the identity provider http://127\\.0\\.0\\.1:${port}`));
    assert.match(r.output, /\.well-known\/openid-configuration/, r.output);
  });

  test('an audit log that cannot be written stops start-up naming audit.path', async () => {
    const r = await startWith('audit', { audit: { path: '/nonexistent-dir/audit.jsonl' } });
    assertRefused(r, /audit\.path: audit log \/nonexistent-dir\/audit\.jsonl: cannot open/);
  });

  test('database.driver = "postgres" stops start-up naming the key, instead of quietly opening SQLite', async () => {
    const r = await startWith('postgres', {
      database: { driver: 'postgres', url: 'postgres://127.0.0.1:1/blockyard' },
    });
    assertRefused(r, /database\.driver = "postgres"/);
  });

  test('proxy.session_store = "redis" stops start-up naming the key, instead of quietly keeping state in memory', async () => {
    const r = await startWith('session-store', {
      proxy: { session_store: 'redis' },
      redis: { url: 'redis://127.0.0.1:1/0' },
    });
    assertRefused(r, /proxy\.session_store = "redis"/);
  });
});
