// The security suite (escape_suite.mjs) against blockyard running on the
// host as root, with the inner seccomp filter the build compiles.

import fs from 'node:fs';
import path from 'node:path';

import { BLOCKYARD_BIN, startServer } from '../lib/harness.mjs';
import { escapeSuite } from './escape_suite.mjs';

// The compiled inner seccomp filter, where the build puts it.
function seccompProfile() {
  const candidates = [
    process.env.BLOCKYARD_SECCOMP_BPF,
    path.join(path.dirname(BLOCKYARD_BIN), '..', 'seccomp.bpf'),
  ].filter(Boolean);
  return candidates.find((p) => fs.existsSync(p));
}

escapeSuite('a worker cannot escape its sandbox', {
  async start() {
    const seccomp = seccompProfile();
    if (!seccomp) console.error('# no seccomp.bpf found next to the build: the server runs without an inner filter');
    return startServer({ config: seccomp ? { process: { seccomp_profile: seccomp } } : {}, startTimeoutMs: 60_000 });
  },
});
