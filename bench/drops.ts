/**
 * Cost of `pktpath drops`, in two parts:
 *
 *   quiet   the veth TCP transfer of bench/throughput.ts, without and with `pktpath
 *           drops` running (alternating runs): the throughput kept, with no drops to count
 *   flood   UDP datagrams from several build/udp-flood senders (sendmmsg) in the client
 *           namespace to a port the server's nft rule drops, for a few seconds while
 *           `pktpath drops --json` runs: the drops per second (the rule's counter), whether
 *           pktpath's count for that rule equals the rule's counter with nothing lost, the
 *           CPU pktpath itself used (utime + stime from /proc/PID/stat, as a share of one
 *           core), and the kernel program's ns per drop (kernel.bpf_stats_enabled)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { withTopology } from '../test/helpers/netns.js';
import type { Topology } from '../test/helpers/netns.js';
import { runProc } from '../test/helpers/traffic.js';
import { bpfIdsOf, DROP_PORT, nftDropped, setUpDrops, spawnDrops } from '../test/helpers/drops-run.js';
import { BUILD_DIR } from '../src/shared/io/paths.js';
import { iperf, median } from './throughput.js';
import { cpuTicks, USER_HZ } from './proc.js';

const FLOOD = join(BUILD_DIR, 'udp-flood');
const STATS = '/proc/sys/kernel/bpf_stats_enabled';

export interface QuietCost {
  readonly baseGbps: number;
  readonly withGbps: number;
  /** median of with/without over back-to-back pairs */
  readonly kept: number;
  /** pktpath's CPU during the transfers, share of one core */
  readonly cpu: number;
  /** drops pktpath counted per second of transfer, anywhere on the host (hidden ones too) */
  readonly runsPerS: number;
}

export interface FloodCost {
  readonly pps: number;
  readonly ruleCount: number;
  readonly pktpathCount: number;
  readonly lost: number;
  readonly exact: boolean;
  /** pktpath's CPU during the flood, share of one core */
  readonly cpu: number;
  /** the kfree_skb program's mean run time */
  readonly nsPerDrop: number;
  readonly senders: number;
  readonly seconds: number;
}

/** The veth TCP transfer without and with `pktpath drops` (nothing to drop). */
export async function dropsQuietCost(runs = 3, seconds = 2): Promise<QuietCost> {
  return withTopology(
    async (topo) => {
      const base: number[] = [];
      const traced: number[] = [];
      let ticks = 0;
      let wall = 0;
      let drops = 0;
      for (let i = 0; i < runs; i++) {
        base.push(iperf(topo.client.ns, topo.server.ns, topo.server.v4, seconds));
        const run = spawnDrops(['--json', '--interval', '1s']);
        await run.ready;
        try {
          const [c0, t0] = [cpuTicks(run.pid), performance.now()];
          traced.push(iperf(topo.client.ns, topo.server.ns, topo.server.v4, seconds));
          [ticks, wall] = [ticks + cpuTicks(run.pid) - c0, wall + performance.now() - t0];
        } finally {
          run.kill('SIGTERM');
          const done = await run.done;
          if (done.code !== 0) throw new Error(`pktpath drops: exit ${done.code}: ${done.stderr}`);
          drops += countedIn(done.stdout);
        }
      }
      const kept = median(base.map((b, i) => traced[i]! / b));
      return { baseGbps: median(base), withGbps: median(traced), kept, cpu: ticks / USER_HZ / (wall / 1000), runsPerS: drops / (runs * seconds) };
    },
    { tag: 'benchdq' },
  );
}

interface JsonTotal {
  rows: { reason: string; netns: string; total: number }[];
  hidden: { total: number };
  lost: { samples: number; uncounted: number };
}

/** Drops a run counted, shown and hidden: its last JSON line (the total). */
function countedIn(stdout: string): number {
  const total = JSON.parse(stdout.trim().split('\n').at(-1)!) as JsonTotal;
  return total.rows.reduce((s, r) => s + r.total, 0) + total.hidden.total;
}

function progRun(id: number): { ns: number; cnt: number } {
  const r = spawnSync('bpftool', ['-j', 'prog', 'show', 'id', String(id)], { encoding: 'utf8' });
  const p = JSON.parse(r.stdout || '{}') as { run_time_ns?: number; run_cnt?: number };
  return { ns: p.run_time_ns ?? 0, cnt: p.run_cnt ?? 0 };
}

async function flood(topo: Topology, senders: number, seconds: number): Promise<void> {
  const runs = Array.from({ length: senders }, () =>
    runProc('ip', ['netns', 'exec', topo.client.ns, FLOOD, topo.server.v4, String(DROP_PORT), String(seconds)], (seconds + 10) * 1000),
  );
  for (const r of await Promise.all(runs)) if (r.code !== 0) throw new Error(`udp-flood: ${r.stderr}`);
}


/** A drop flood against an nft rule while `pktpath drops --json` runs. */
export async function dropsFloodCost(seconds = 5, senders = 2): Promise<FloodCost> {
  return withTopology(
    async (topo) => {
      setUpDrops(topo);
      const statsWas = readFileSync(STATS, 'utf8').trim();
      const run = spawnDrops(['--json', '--interval', '1s'], (seconds + 60) * 1000);
      await run.ready;
      const prog = bpfIdsOf(run.pid).progs[0]!;
      const rule0 = nftDropped(topo);
      writeFileSync(STATS, '1');
      const [cpu0, s0, t0] = [cpuTicks(run.pid), progRun(prog), performance.now()];
      try {
        await flood(topo, senders, seconds);
        await new Promise((r) => setTimeout(r, 300));
      } finally {
        writeFileSync(STATS, statsWas);
      }
      const [cpu1, s1, t1] = [cpuTicks(run.pid), progRun(prog), performance.now()];
      const ruleCount = nftDropped(topo) - rule0;
      run.kill('SIGTERM');
      const done = await run.done;
      if (done.code !== 0) throw new Error(`pktpath drops: exit ${done.code}: ${done.stderr}`);
      const total = JSON.parse(done.stdout.trim().split('\n').at(-1)!) as JsonTotal;
      const pktpathCount = total.rows.filter((r) => r.reason === 'NETFILTER_DROP' && r.netns === topo.server.ns).reduce((s, r) => s + r.total, 0);
      const lost = total.lost.samples + total.lost.uncounted;
      return {
        pps: ruleCount / seconds,
        ruleCount,
        pktpathCount,
        lost,
        exact: pktpathCount === ruleCount && lost === 0,
        cpu: (cpu1 - cpu0) / USER_HZ / ((t1 - t0) / 1000),
        nsPerDrop: s1.cnt > s0.cnt ? (s1.ns - s0.ns) / (s1.cnt - s0.cnt) : 0,
        senders,
        seconds,
      };
    },
    { tag: 'benchdf' },
  );
}

/**
 * The drops part of bench/main.ts: its table rows through `row`, and its fields for the
 * last line: drops_throughput_kept, drops_flood_pps, drops_count_exact.
 */
export async function dropsPart(row: (what: string, value: string, target?: string) => void): Promise<Record<string, string>> {
  const q = await dropsQuietCost(5, 2);
  row('veth TCP, pktpath drops running (Gbit/s, median)', `${q.withGbps.toFixed(2)} (without: ${q.baseGbps.toFixed(2)})`);
  row('pktpath drops: throughput kept (median of pairwise ratios)', q.kept.toFixed(3), '>= 0.98');
  row('  pktpath CPU during the transfers (share of one core) / drops per s', `${q.cpu.toFixed(3)} / ${q.runsPerS.toFixed(0)}`);
  const f = await dropsFloodCost(5, 3);
  row(`drop flood: nft DROP rule hits/s (${f.senders} udp-flood senders, ${f.seconds} s)`, f.pps.toFixed(0), '>= 200,000');
  row("drop flood: pktpath count / the rule's counter", `${f.pktpathCount} / ${f.ruleCount}`, 'equal');
  row('drop flood: lost (samples + uncounted)', String(f.lost), '0');
  row('drop flood: pktpath CPU (share of one core)', f.cpu.toFixed(3), '< 0.05');
  row('drop flood: kfree_skb program, ns per drop', f.nsPerDrop.toFixed(0));
  return { drops_throughput_kept: q.kept.toFixed(3), drops_flood_pps: f.pps.toFixed(0), drops_count_exact: f.exact ? '1' : '0' };
}
