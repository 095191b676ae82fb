// ctest's clean-up for the runtime_* suites: removes every container, volume
// and network labelled blockyard-test, then the images named on the command
// line. The cached Debian base image stays. Fails if anything is left.

import { podman, removeLabelled } from './podman.mjs';

await removeLabelled();
for (const image of process.argv.slice(2)) {
  if ((await podman(['image', 'exists', image])).code === 0) {
    const r = await podman(['rmi', '-f', image]);
    if (r.code !== 0) console.error(`podman rmi ${image}: ${r.stderr}`);
  }
}
const left = [];
for (const kind of ['ps -a', 'volume ls', 'network ls']) {
  const r = await podman([...kind.split(' '), '-q', '--filter', 'label=blockyard-test']);
  if (r.stdout.trim()) left.push(`${kind}: ${r.stdout.trim().replace(/\n/g, ' ')}`);
}
for (const image of process.argv.slice(2)) {
  if ((await podman(['image', 'exists', image])).code === 0) left.push(`image ${image}`);
}
if (left.length) {
  console.error(`left behind:\n${left.join('\n')}`);
  process.exit(1);
}
console.log('container test state removed');
