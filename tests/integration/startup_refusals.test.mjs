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
  test('[oidc] stops start-up: sign-in is not built, and serving apps anonymously would fail open', async () => {
    const dir = await makeTempDir('oidc');
    const db = path.join(dir, 'db.sqlite');
    const config = path.join(dir, 'blockyard.toml');
    await fsp.writeFile(
      config,
      toToml({
        server: {
          bind: `127.0.0.1:${await freePort()}`,
          external_url: 'https://blockyard.example.com',
          session_secret: '0123456789abcdef0123456789abcdef',
          admin_token_file: path.join(dir, 'admin-token'),
        },
        database: { path: db },
        storage: { bundle_server_path: path.join(dir, 'bundles') },
        oidc: { issuer_url: 'https://idp.example.com', client_id: 'blockyard', client_secret: 'secret' },
      }),
    );
    const r = await runToExit(['--config', config]);
    assert.equal(r.code, 1, `expected exit 1, got ${r.code}:\n${r.output}`);
    assert.match(r.output, /\[oidc\]/, `the message should name [oidc]:\n${r.output}`);
    assert.match(r.output, /not supported/, r.output);
    assert.ok(!fs.existsSync(db), 'a refused start-up created the database');
    assert.ok(!fs.existsSync(path.join(dir, 'admin-token')), 'a refused start-up wrote a token');
  });
});
