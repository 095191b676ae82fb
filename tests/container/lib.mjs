// Helpers for the container suite: where the binaries and files are, and a
// way to run a command and collect its output.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

export const SOURCE_DIR = process.env.BLOCKYARD_SOURCE_DIR ?? path.resolve(here, '..', '..');
export const DOCKER_DIR = path.join(SOURCE_DIR, 'docker');
export const OUTER_PROFILE = path.join(SOURCE_DIR, 'profiles', 'seccomp-outer.json');
export const APPARMOR_PROFILE = path.join(SOURCE_DIR, 'profiles', 'apparmor', 'blockyard');
export const DELTA_DOC = path.join(SOURCE_DIR, 'profiles', 'seccomp-outer.delta.md');
// Docker's own default profile (moby's profiles/seccomp/default.json; see
// tests/fixtures/seccomp/README.md).
export const DOCKER_DEFAULT_PROFILE = path.join(SOURCE_DIR, 'tests', 'fixtures', 'seccomp', 'docker-default.json');

// A binary from $ENV_NAME, else from the build directory that has it.
function binary(envName, name) {
  if (process.env[envName]) return process.env[envName];
  const fromServer = process.env.BLOCKYARD_BIN ? path.join(path.dirname(process.env.BLOCKYARD_BIN), name) : null;
  const candidates = [fromServer, path.join(SOURCE_DIR, 'build', 'bin', name), path.join(SOURCE_DIR, 'build-container', 'bin', name)];
  return candidates.find((c) => c && fs.existsSync(c)) ?? candidates[1];
}

export const LOADER_BIN = binary('SECCOMP_DOCKER_EXEC', 'seccomp-docker-exec');
export const BY_BIN = binary('BY_BIN', 'by');
export const BLOCKYARD_BIN = binary('BLOCKYARD_BIN', 'blockyard');

// Runs `argv` to completion. Resolves {code, signal, stdout, stderr}.
export function run(argv, { env = process.env, cwd, timeoutMs = 60_000, input } = {}) {
  return new Promise((resolve) => {
    const child = spawn(argv[0], argv.slice(1), { env, cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ code: null, signal: null, stdout, stderr: `${stderr}spawn error: ${err.message}` });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    if (input !== undefined) child.stdin.write(input);
    child.stdin.end();
  });
}

// Runs `argv` under the Docker-like loader with `profile`.
export function runConfined(profile, argv, { loaderArgs = [], ...opts } = {}) {
  return run([LOADER_BIN, '--profile', profile, ...loaderArgs, '--', ...argv], opts);
}

export function describe(result) {
  return `\n[exit ${result.code} signal ${result.signal}]\n--- stdout ---\n${result.stdout}\n--- stderr ---\n${result.stderr}`;
}

export function readJson(file) {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}
