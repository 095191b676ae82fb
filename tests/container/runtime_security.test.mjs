// The security suite (tests/security/escape_suite.mjs) with blockyard as PID
// 1 of a real container, in each supported configuration: every probe from
// inside a worker must fail there too, including seeing or signalling
// processes outside the sandbox (the server, other workers).

import path from 'node:path';
import { after, before } from 'node:test';

import { escapeSuite } from '../security/escape_suite.mjs';
import { BY_BIN } from './lib.mjs';
import { FLAGS, removeLabelled, startContainer } from './podman.mjs';

process.env.BY_BIN ??= BY_BIN;

const CONFIGURATIONS = [
  { suite: 'security-userns', flags: FLAGS.userns, env: {}, procfs: 'fresh' },
  { suite: 'security-noprocfs', flags: FLAGS.seed, env: { BLOCKYARD_PROCESS_WORKER_PROCFS: 'none' }, procfs: 'none' },
];

before(() => Promise.all(CONFIGURATIONS.map((c) => removeLabelled(c.suite))));
after(() => Promise.all(CONFIGURATIONS.map((c) => removeLabelled(c.suite))));

for (const config of CONFIGURATIONS) {
  let server;
  escapeSuite(`container (${config.suite}): a worker cannot escape its sandbox`, {
    async start() {
      server = await startContainer({ suite: config.suite, flags: config.flags, env: config.env });
      return server;
    },
    // The container's volume is /data inside it.
    inside: (hostPath) => path.posix.join('/data', path.relative(server.dataDir, hostPath)),
    procfs: config.procfs,
    chmodDataDir: false,
  });
}
