/**
 * Cost of a pcap-filter expression at the probes. On real traffic: a bounded iperf3 TCP
 * transfer over veth, traced with an expression that matches nothing, next to the same
 * filter given as flags (alternating back-to-back pairs). And the filter alone, timed with
 * BPF_PROG_TEST_RUN on one packet: the translation pktpath uses next to the bpf_loop
 * interpreter it was measured against (test/bpf/pcap-run.bpf.c).
 */
import { withTopology, spawnTrace } from '../test/helpers/netns.js';
import { loadFilter } from '../test/helpers/pcap-run.js';
import { iperf, median } from './throughput.js';

export const BENCH_EXPRESSION = 'tcp port 9 and host 10.255.0.1';
const SAME_AS_FLAGS = ['--proto', 'tcp', '-P', '9', '-H', '10.255.0.1'];

export interface PcapFilterResult {
  readonly flagsGbps: number;
  readonly expressionGbps: number;
  /** median of expression/flags over back-to-back pairs */
  readonly kept: number;
}

async function tracedGbps(args: readonly string[], topo: { client: { ns: string }; server: { ns: string; v4: string } }, seconds: number): Promise<number> {
  const trace = await spawnTrace(args);
  try {
    return iperf(topo.client.ns, topo.server.ns, topo.server.v4, seconds);
  } finally {
    const res = await trace.stop();
    if (res.events.length) throw new Error(`pktpath ${args.join(' ')} printed ${res.events.length} events`);
  }
}

export async function pcapFilterKept(runs = 3, seconds = 2): Promise<PcapFilterResult> {
  return withTopology(
    async (topo) => {
      const flags: number[] = [];
      const expr: number[] = [];
      for (let i = 0; i < runs; i++) {
        flags.push(await tracedGbps(SAME_AS_FLAGS, topo, seconds));
        expr.push(await tracedGbps([BENCH_EXPRESSION], topo, seconds));
      }
      return { flagsGbps: median(flags), expressionGbps: median(expr), kept: median(expr.map((e, i) => e / flags[i]!)) };
    },
    { tag: 'bench' },
  );
}

export interface FilterTiming {
  /** BPF_PROG_TEST_RUN's own cost (an XDP program that returns at once) */
  readonly floorNs: number;
  /** window copy + translated filter */
  readonly translatedNs: number;
  /** window copy + bpf_loop interpreter */
  readonly interpretedNs: number;
}

/** ns per run on a TCP SYN the expression does not match (median of 5 x 200k runs each). */
export function filterTiming(): FilterTiming {
  const r = loadFilter(BENCH_EXPRESSION, { interp: true });
  try {
    const syn = new Uint8Array([
      ...[2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00],
      ...[0x45, 0, 0, 40, 0, 1, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2],
      ...[0x9c, 0x40, 0x14, 0x51, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0],
    ]);
    if (r.run('run_l2', syn) !== 0 || r.run('run_interp', syn) !== 0) throw new Error('the bench packet matched');
    const t = (v: 'run_l2' | 'run_interp' | 'run_nothing'): number => median([0, 1, 2, 3, 4].map(() => r.time(v, syn, 200_000)));
    return { floorNs: t('run_nothing'), translatedNs: t('run_l2'), interpretedNs: t('run_interp') };
  } finally {
    r.close();
  }
}
