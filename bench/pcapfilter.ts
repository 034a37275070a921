/**
 * Cost of a pcap-filter expression at the probes. On real traffic: a bounded iperf3 TCP
 * transfer over veth, traced with an expression that matches nothing, next to the same
 * filter given as flags (alternating back-to-back pairs), with the probes' mean run time
 * from the kernel's BPF statistics (steadier than the rate on a shared machine). And the
 * filter alone, timed with
 * BPF_PROG_TEST_RUN on one packet: the translation pktpath uses next to the bpf_loop
 * interpreter it was measured against (test/bpf/pcap-run.bpf.c).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
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
  /** mean ns per probe run during the transfers (kernel BPF statistics), flags / expression */
  readonly flagsNsPerRun: number;
  readonly expressionNsPerRun: number;
}

const STATS = '/proc/sys/kernel/bpf_stats_enabled';

interface ProgStat {
  readonly id: number;
  readonly name?: string;
  readonly run_time_ns?: number;
  readonly run_cnt?: number;
}
function progs(): ProgStat[] {
  const r = spawnSync('bpftool', ['-j', 'prog', 'show'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`bpftool prog show: ${r.stderr}`);
  return JSON.parse(r.stdout) as ProgStat[];
}
/** run time and count summed over the tracepoint programs in `ids` */
function probeStats(ids: ReadonlySet<number>): { ns: number; cnt: number } {
  let ns = 0;
  let cnt = 0;
  for (const p of progs()) {
    if (!ids.has(p.id) || !/^(tpbtf|rawtp)_/.test(p.name ?? '')) continue;
    ns += p.run_time_ns ?? 0;
    cnt += p.run_cnt ?? 0;
  }
  return { ns, cnt };
}

type Topo = { client: { ns: string }; server: { ns: string; v4: string } };

/** One traced transfer: its rate, and the probes' mean run time (the programs this trace loaded). */
async function traced(args: readonly string[], topo: Topo, seconds: number): Promise<{ gbps: number; nsPerRun: number }> {
  const before = new Set(progs().map((p) => p.id));
  const trace = await spawnTrace(args);
  try {
    const mine = new Set(progs().map((p) => p.id).filter((id) => !before.has(id)));
    const statsWas = readFileSync(STATS, 'utf8').trim();
    writeFileSync(STATS, '1');
    try {
      const s0 = probeStats(mine);
      const gbps = iperf(topo.client.ns, topo.server.ns, topo.server.v4, seconds);
      const s1 = probeStats(mine);
      return { gbps, nsPerRun: s1.cnt > s0.cnt ? (s1.ns - s0.ns) / (s1.cnt - s0.cnt) : 0 };
    } finally {
      writeFileSync(STATS, statsWas);
    }
  } finally {
    const res = await trace.stop();
    if (res.events.length) throw new Error(`pktpath ${args.join(' ')} printed ${res.events.length} events`);
  }
}

export async function pcapFilterKept(runs = 5, seconds = 2): Promise<PcapFilterResult> {
  return withTopology(
    async (topo) => {
      const flags: { gbps: number; nsPerRun: number }[] = [];
      const expr: { gbps: number; nsPerRun: number }[] = [];
      for (let i = 0; i < runs; i++) {
        flags.push(await traced(SAME_AS_FLAGS, topo, seconds));
        expr.push(await traced([BENCH_EXPRESSION], topo, seconds));
      }
      return {
        flagsGbps: median(flags.map((f) => f.gbps)),
        expressionGbps: median(expr.map((e) => e.gbps)),
        kept: median(expr.map((e, i) => e.gbps / flags[i]!.gbps)),
        flagsNsPerRun: median(flags.map((f) => f.nsPerRun)),
        expressionNsPerRun: median(expr.map((e) => e.nsPerRun)),
      };
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
