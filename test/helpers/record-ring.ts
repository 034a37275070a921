/**
 * Records the raw ring buffer records of a real run, for the pipeline's unit tests
 * (src/run/pipeline.test.ts replays them). Two namespaces, one scenario, the kernel side
 * loaded as the CLI loads it; the records are stored as they came off the ring, with the
 * names (probes, drop reasons) the replay needs, since the numbers are this build's and
 * this kernel's.
 *
 *   node dist/test/helpers/record-ring.js closed-port|output-drop OUT.json
 */
import { writeFileSync } from 'node:fs';
import { parseTraceOptions } from '../../src/cli/options.js';
import { runRequest } from '../../src/cli/request.js';
import { startRunEngine } from '../../src/run/io/engine.js';
import { makeResolver } from '../../src/output/io/resolver.js';
import { kernelRelease } from '../../src/kernel/io/kernel.js';
import { decodeEvent } from '../../src/engine/decode.js';
import { EV_DROP } from '../../src/engine/event.js';
import { withTopology } from './netns.js';
import type { Topology } from './netns.js';

export interface RingRecording {
  readonly scenario: string;
  readonly kernel: string;
  readonly command: string;
  /** probe id -> name */
  readonly probes: Record<string, string>;
  /** drop reason number -> name */
  readonly dropReasons: Record<string, string>;
  /** base64 of each record's payload, in ring order */
  readonly records: string[];
}

const PORT = 9;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const SCENARIOS: Record<string, { args: (topo: Topology) => string[]; act: (topo: Topology) => Promise<void> }> = {
  // a SYN to a closed port: received, dropped NO_SOCKET, answered with a reset
  'closed-port': {
    args: (topo) => ['-H', topo.server.v4, '-P', String(PORT), '--proto', 'tcp'],
    act: async (topo) => void (await topo.connect(topo.client, topo.server.v4, PORT, 2000)),
  },
  // a SYN dropped by an iptables OUTPUT rule in the client: NETFILTER_DROP, never transmitted
  'output-drop': {
    args: (topo) => ['-H', topo.server.v4, '-P', String(PORT), '--proto', 'tcp'],
    act: async (topo) => {
      await topo.exec(topo.client, ['iptables', '-I', 'OUTPUT', '-d', topo.server.v4, '-p', 'tcp', '--dport', String(PORT), '-j', 'DROP']);
      await topo.connect(topo.client, topo.server.v4, PORT, 1000);
    },
  },
};

async function record(scenario: string): Promise<RingRecording> {
  const s = SCENARIOS[scenario];
  if (!s) throw new Error(`unknown scenario ${scenario}: ${Object.keys(SCENARIOS).join(', ')}`);
  return withTopology(
    async (topo) => {
      const args = s.args(topo);
      const opts = parseTraceOptions({ ipaddr: args[1], port: args[3], proto: args[5], backend: 'tracepoints' });
      const engine = startRunEngine(runRequest(opts), () => {});
      const records: Uint8Array[] = [];
      try {
        await s.act(topo);
        await sleep(300);
        engine.drain((_v, bytes, off, len) => void records.push(bytes.slice(off, off + len)), 100_000);
      } finally {
        engine.close();
      }
      const resolver = makeResolver();
      const probes: Record<string, string> = {};
      const dropReasons: Record<string, string> = {};
      for (const r of records) {
        const ev = decodeEvent(new DataView(r.buffer), r, 0, r.length);
        probes[ev.probe] = resolver.probeName(ev.probe);
        if (ev.flags & EV_DROP) dropReasons[ev.dropReason] = resolver.dropReason(ev.dropReason);
      }
      return {
        scenario,
        kernel: kernelRelease(),
        command: `pktpath trace ${args.join(' ')} --backend tracepoints`,
        probes,
        dropReasons,
        records: records.map((r) => Buffer.from(r).toString('base64')),
      };
    },
    { tag: 'record' },
  );
}

const [scenario, out] = process.argv.slice(2);
if (!scenario || !out) {
  process.stderr.write('usage: record-ring closed-port|output-drop OUT.json\n');
  process.exit(2);
}
record(scenario).then(
  (r) => {
    writeFileSync(out, `${JSON.stringify(r, null, 1)}\n`);
    process.stdout.write(`${r.records.length} records\n`);
    process.exit(0);
  },
  (err: unknown) => {
    process.stderr.write(`record-ring: ${(err as Error).stack}\n`);
    process.exit(1);
  },
);
