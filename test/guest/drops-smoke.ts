/**
 * Runs INSIDE the Debian 6.12 guest (scripts/vm/guest.sh): the workload of the drops
 * integration test (test/helpers/drops-run.ts) under one `pktpath drops --json --listen
 * 127.0.0.1:0 --duration`, a scrape of /metrics in between, and the kernel's own counts.
 * Writes what it saw to OUT.json; test/guest/drops.test.ts asserts on it.
 *
 *   node dist/test/guest/drops-smoke.js OUT.json
 */
import { writeFileSync } from 'node:fs';
import { kernelRelease } from '../../src/kernel/io/kernel.js';
import { withTopology } from '../helpers/netns.js';
import { dropWorkload, setUpDrops, spawnDrops } from '../helpers/drops-run.js';
import type { KernelCounts } from '../helpers/drops-run.js';

export interface DropsGuestResult {
  kernel: string;
  client: { ns: string; ifname: string };
  server: { ns: string; ifname: string };
  kernelCounts: KernelCounts;
  metrics: string;
  code: number | null;
  stdout: string;
  stderr: string;
}

const out = process.argv[2];
if (!out) throw new Error('usage: drops-smoke.js OUT.json');
await withTopology(
  async (topo) => {
    setUpDrops(topo);
    const run = spawnDrops(['--json', '--listen', '127.0.0.1:0', '--interval', '2s', '--duration', '30s'], 180_000);
    const address = await run.ready;
    const kernelCounts = await dropWorkload(topo);
    const metrics = await (await fetch(`http://${address}/metrics`)).text();
    run.kill('SIGTERM');
    const done = await run.done;
    const res: DropsGuestResult = {
      kernel: kernelRelease(),
      client: { ns: topo.client.ns, ifname: topo.client.ifname },
      server: { ns: topo.server.ns, ifname: topo.server.ifname },
      kernelCounts,
      metrics,
      ...done,
    };
    writeFileSync(out, JSON.stringify(res));
  },
  { tag: 'gdrops' },
);
