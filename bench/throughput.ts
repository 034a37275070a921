/**
 * Cost of a running trace on real traffic: a bounded iperf3 TCP transfer over a veth
 * pair between two namespaces, without a trace and with a trace whose filter matches
 * nothing (every probe still runs its filter on every packet). Alternating runs.
 */
import { spawnSync } from 'node:child_process';
import { withTopology, spawnTrace, UNUSED_V4 } from '../test/helpers/netns.js';

export interface ThroughputResult {
  readonly baseGbps: number;
  readonly tracedGbps: number;
  /** median of traced/base over back-to-back pairs of runs (the machine's load drifts between pairs) */
  readonly kept: number;
  readonly runs: number;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

export function iperf(clientNs: string, serverNs: string, server: string, seconds: number): number {
  const srv = spawnSync('ip', ['netns', 'exec', serverNs, 'iperf3', '-s', '-1', '-D', '-B', server], { encoding: 'utf8' });
  if (srv.status !== 0) throw new Error(`iperf3 server: ${srv.stderr}`);
  let why = 'never connected';
  for (let i = 0; i < 20; i++) {
    const r = spawnSync('ip', ['netns', 'exec', clientNs, 'iperf3', '-c', server, '-t', String(seconds), '-J'], {
      encoding: 'utf8',
      timeout: (seconds + 10) * 1000,
    });
    // a run iperf3 ends early (its JSON then has an "error" and no sum) is tried again, as one that did not connect
    const j = r.status === 0 ? (JSON.parse(r.stdout) as { end?: { sum_received?: { bits_per_second: number } }; error?: string }) : null;
    const bps = j?.end?.sum_received?.bits_per_second;
    if (bps !== undefined) return bps / 1e9;
    why = j?.error ?? (r.stderr || why);
    // a one-off server that took a test has gone: start another
    if (j) spawnSync('ip', ['netns', 'exec', serverNs, 'iperf3', '-s', '-1', '-D', '-B', server]);
    spawnSync('sleep', ['0.1']); // the daemon may not be listening yet
  }
  throw new Error(`iperf3 client: ${why}`);
}

export async function throughputKept(runs = 3, seconds = 2): Promise<ThroughputResult> {
  return withTopology(
    async (topo) => {
      const base: number[] = [];
      const traced: number[] = [];
      for (let i = 0; i < runs; i++) {
        base.push(iperf(topo.client.ns, topo.server.ns, topo.server.v4, seconds));
        const trace = await spawnTrace(['-H', UNUSED_V4]);
        try {
          traced.push(iperf(topo.client.ns, topo.server.ns, topo.server.v4, seconds));
        } finally {
          const res = await trace.stop();
          if (res.events.length) throw new Error(`the non-matching trace printed ${res.events.length} events`);
        }
      }
      const ratios = base.map((b, i) => traced[i]! / b);
      return { baseGbps: median(base), tracedGbps: median(traced), kept: median(ratios), runs };
    },
    { tag: 'bench' },
  );
}
