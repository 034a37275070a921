/**
 * Cost of --iptable, and of its iptables-legacy observers: a bounded iperf3 TCP transfer over
 * a veth pair whose two namespaces have legacy raw, mangle, nat and filter tables (with
 * conntrack on, as a NAT rule turns it on), without a trace and with `--iptable` and a
 * filter that matches nothing. Every packet then passes two observers per legacy table
 * at every hook. Alternating runs; the per-run cost of the observer programs comes from
 * the kernel's BPF statistics (kernel.bpf_stats_enabled) during the traced transfers.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { withTopology, spawnTrace, UNUSED_V4, exec } from '../test/helpers/netns.js';
import { iperf, median } from './throughput.js';
import { netfilterLinks } from '../test/helpers/bpf.js';

export interface ObserverCost {
  readonly kept: number;
  /** mean ns per observer program run */
  readonly nsPerRun: number;
  /** observer runs per second of transfer */
  readonly runsPerS: number;
  /** observer links hooked */
  readonly observers: number;
  readonly runs: number;
}

const STATS = '/proc/sys/kernel/bpf_stats_enabled';

/** run_time_ns and run_cnt summed over the loaded nf_obs_* programs. */
function observerStats(): { ns: number; cnt: number } {
  const r = spawnSync('bpftool', ['-j', 'prog', 'show'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`bpftool prog show: ${r.stderr}`);
  let ns = 0;
  let cnt = 0;
  for (const p of JSON.parse(r.stdout) as { name?: string; run_time_ns?: number; run_cnt?: number }[]) {
    if (!p.name?.startsWith('nf_obs_')) continue;
    ns += p.run_time_ns ?? 0;
    cnt += p.run_cnt ?? 0;
  }
  return { ns, cnt };
}

const netfilterLinkCount = (): number => netfilterLinks()?.length ?? 0;

/** With `legacy` false the namespaces have no legacy tables: the cost of --iptable's nft tracing table alone. */
export async function observerCost(runs = 3, seconds = 2, legacy = true): Promise<ObserverCost> {
  return withTopology(
    async (topo) => {
      for (const ns of legacy ? [topo.client.ns, topo.server.ns] : []) {
        for (const table of ['raw', 'mangle']) await exec(ns, ['iptables-legacy', '-t', table, '-L', '-n']);
        await exec(ns, ['iptables-legacy', '-A', 'OUTPUT', '-d', UNUSED_V4, '-j', 'DROP']);
        await exec(ns, ['iptables-legacy', '-t', 'nat', '-A', 'OUTPUT', '-d', UNUSED_V4, '-p', 'udp', '-j', 'DNAT', '--to-destination', UNUSED_V4]);
      }
      const statsWas = readFileSync(STATS, 'utf8').trim();
      const base: number[] = [];
      const traced: number[] = [];
      let ns = 0;
      let cnt = 0;
      let observers = 0;
      try {
        for (let i = 0; i < runs; i++) {
          base.push(iperf(topo.client.ns, topo.server.ns, topo.server.v4, seconds));
          const before = netfilterLinkCount();
          const trace = await spawnTrace(['--iptable', '-H', UNUSED_V4]);
          try {
            observers = netfilterLinkCount() - before;
            writeFileSync(STATS, '1');
            const s0 = observerStats();
            traced.push(iperf(topo.client.ns, topo.server.ns, topo.server.v4, seconds));
            const s1 = observerStats();
            writeFileSync(STATS, statsWas);
            ns += s1.ns - s0.ns;
            cnt += s1.cnt - s0.cnt;
          } finally {
            const res = await trace.stop();
            if (res.events.length) throw new Error(`the non-matching trace printed ${res.events.length} events`);
          }
        }
      } finally {
        writeFileSync(STATS, statsWas);
      }
      const ratios = base.map((b, i) => traced[i]! / b);
      return { kept: median(ratios), nsPerRun: cnt ? ns / cnt : 0, runsPerS: cnt / (runs * seconds), observers, runs };
    },
    { tag: 'bench-nf' },
  );
}
