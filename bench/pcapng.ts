/**
 * `trace -w` under load: one UDP flow of small packets (64-byte payloads) paced at 100k
 * packets/s (build/udp-flood, sendmmsg in batches of 16) to a reader (recvmmsg) in another
 * namespace, traced with `-w FILE` (events to /dev/null). Reports the packet rate sent,
 * the trace's events (those the short text view printed and those it folded into them),
 * the trace's CPU time per event while the traffic ran, and pcapng_lost: events the ring
 * had no room for plus packet blocks the pcapng output could not take.
 *
 *   node dist/bench/pcapng.js [pps]   ->   pcapng_lost=<n> pcapng_pkts_per_s=<n> pcapng_events=<n> ...
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, openSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PKTPATH_EXEC, REPO_ROOT, withTopology } from '../test/helpers/netns.js';
import { parseSummary } from '../test/helpers/flood.js';
import { cpuTicks, USER_HZ } from './proc.js';
import { BUILD_DIR } from '../src/shared/io/paths.js';

const FLOW = join(BUILD_DIR, 'udp-flood');

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface PcapngBench {
  readonly lost: number;
  readonly pktsPerS: number;
  readonly events: number;
  readonly copies: number;
  /** CPU time (user + system) the trace process used while the traffic ran, per event it took (us) */
  readonly cpuUsPerEvent: number;
  readonly fileBytes: number;
}

async function waitReady(stderr: () => string, child: { exitCode: number | null }): Promise<void> {
  const by = Date.now() + 30_000;
  while (!/\bready\b/.test(stderr())) {
    if (child.exitCode !== null || Date.now() > by) throw new Error(`pktpath trace did not get ready: ${stderr()}`);
    await sleep(50);
  }
}

/** The sent count of `udp-flood ... PPS` ("sent <datagrams> <seconds>"). */
function sentRate(out: string, seconds: number): number {
  const m = /sent (\d+) ([\d.]+)/.exec(out);
  return m ? Math.round(Number(m[1]) / Number(m[2])) : NaN;
}

export async function benchPcapng(seconds = 3, pps = 100_000): Promise<PcapngBench> {
  return withTopology(
    async (topo) => {
      const dir = mkdtempSync(join(tmpdir(), 'pktpath-bench-pcapng-'));
      const file = join(dir, 'flow.pcapng');
      // the flow (and the softirq work of its packets) on CPU 0, the trace on CPU 1: the trace has one core, and
      // pcapng_cpu_us_per_event says what an event costs it (PKTPATH_BENCH_NO_PIN=1: no pinning)
      const pin = (cpu: string): string[] => (process.env.PKTPATH_BENCH_NO_PIN ? [] : ['taskset', '-c', cpu]);
      const [cmd, ...pre] = [...pin('1'), ...PKTPATH_EXEC] as [string, ...string[]];
      const trace = spawn(cmd, [...pre, 'trace', '-H', topo.server.v4, '-P', '5201', '--proto', 'udp', ...(process.env.PKTPATH_BENCH_NO_W ? [] : ['-w', file])], { stdio: ['ignore', openSync('/dev/null', 'w'), 'pipe'], cwd: REPO_ROOT });
      let stderr = '';
      trace.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      const closed = new Promise((r) => trace.on('close', r));
      const reader = spawn('ip', ['netns', 'exec', topo.server.ns, ...pin('0'), FLOW, '-l', '5201', String(seconds + 2)], { stdio: 'ignore' });
      try {
        await waitReady(() => stderr, trace);
        await sleep(300);
        const ticksAtReady = cpuTicks(trace.pid!);
        const c = spawnSync('ip', ['netns', 'exec', topo.client.ns, ...pin('0'), FLOW, topo.server.v4, '5201', String(seconds), String(pps)], { encoding: 'utf8', timeout: (seconds + 20) * 1000 });
        if (c.status !== 0) throw new Error(`udp-flood: ${c.stderr || c.error?.message}`);
        await sleep(500);
        const cpuUs = ((cpuTicks(trace.pid!) - ticksAtReady) * 1e6) / USER_HZ;
        trace.kill('SIGINT');
        await closed;
        const s = parseSummary(stderr);
        const copies = Number(/pcapng: (\d+) packet copies/.exec(stderr)?.[1] ?? NaN);
        const pcapLost = Number(/, (\d+) lost \(its reader/.exec(stderr)?.[1] ?? 0);
        return {
          lost: (s?.lost ?? NaN) + pcapLost,
          pktsPerS: sentRate(c.stdout, seconds),
          events: s ? s.events + s.folded : NaN,
          copies,
          cpuUsPerEvent: s ? cpuUs / (s.events + s.folded) : NaN,
          fileBytes: process.env.PKTPATH_BENCH_NO_W ? 0 : statSync(file).size,
        };
      } finally {
        trace.kill('SIGKILL');
        reader.kill('SIGKILL');
        rmSync(dir, { recursive: true, force: true });
      }
    },
    { tag: 'benchpcap' },
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const r = await benchPcapng(3, Number(process.argv[2] ?? 100_000));
  process.stdout.write(`pcapng_lost=${r.lost} pcapng_pkts_per_s=${r.pktsPerS} pcapng_events=${r.events} pcapng_copies=${r.copies} pcapng_cpu_us_per_event=${r.cpuUsPerEvent.toFixed(2)} pcapng_file_bytes=${r.fileBytes}\n`);
}
