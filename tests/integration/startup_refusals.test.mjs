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

describe('start-up refusals', () => {
  // The refusals shared set-up: a config in a fresh directory.
  async function refusedConfig(sections) {
    const dir = await makeTempDir('refused');
    const db = path.join(dir, 'db.sqlite');
    const config = path.join(dir, 'blockyard.toml');
    await fsp.writeFile(
      config,
      toToml({
        ...sections,
        server: {
          bind: `127.0.0.1:${await freePort()}`,
          admin_token_file: path.join(dir, 'admin-token'),
          ...(sections.server ?? {}),
        },
        database: { path: db },
        storage: { bundle_server_path: path.join(dir, 'bundles') },
      }),
    );
    const r = await runToExit(['--config', config]);
    assert.equal(r.code, 1, `expected exit 1, got ${r.code}:\n${r.output}`);
    assert.ok(!fs.existsSync(db), 'a refused start-up created the database');
    assert.ok(!fs.existsSync(path.join(dir, 'admin-token')), 'a refused start-up wrote a token');
    return r.output;
  }

  test('[oidc] with an identity provider that cannot be reached stops start-up naming it', async () => {
    const port = await freePort(); // nothing listens there
    const output = await refusedConfig({
      server: { external_url: 'https://blockyard.example.com', session_secret: '0123456789abcdef0123456789abcdef' },
      oidc: { issuer_url: `http://127.0.0.1:${port}`, client_id: 'blockyard', client_secret: 'secret' },
    });
    assert.match(output, new RegExp(`oidc: cannot use the identity provider http://127\\.0\\.0\\.1:${port}`), output);
    assert.match(output, /\.well-known\/openid-configuration/, output);
  });

  test('an audit log that cannot be written stops start-up naming audit.path', async () => {
    const output = await refusedConfig({ audit: { path: '/nonexistent-dir/audit.jsonl' } });
    assert.match(output, /audit\.path: audit log \/nonexistent-dir\/audit\.jsonl: cannot open/, output);
  });
});
