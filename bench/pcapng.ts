/**
 * `trace -w` under load: one UDP flow of small packets (iperf3, 64-byte payloads, about
 * 120k packets/s) between two namespaces, traced with `-w FILE` (events to /dev/null).
 * Reports the packet rate iperf3 reached, the trace's events (those the short text view
 * printed and those it folded into them), the trace's CPU time per event while the
 * traffic ran, and pcapng_lost: events the ring had no room for plus packet blocks the
 * pcapng output could not take.
 *
 *   node dist/bench/pcapng.js   ->   pcapng_lost=<n> pcapng_pkts_per_s=<n> pcapng_events=<n>
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, openSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PKTPATH_EXEC, REPO_ROOT, withTopology } from '../test/helpers/netns.js';
import { parseSummary } from '../test/helpers/flood.js';
import { cpuTicks, USER_HZ } from './proc.js';

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

export async function benchPcapng(seconds = 3, rate = '62M'): Promise<PcapngBench> {
  return withTopology(
    async (topo) => {
      const dir = mkdtempSync(join(tmpdir(), 'pktpath-bench-pcapng-'));
      const file = join(dir, 'flow.pcapng');
      // iperf3 (and the softirq work of its packets) on CPU 0, the trace on CPU 1: the trace has one core, and
      // pcapng_cpu_us_per_event says what an event costs it (PKTPATH_BENCH_NO_PIN=1: no pinning)
      const pin = (cpu: string): string[] => (process.env.PKTPATH_BENCH_NO_PIN ? [] : ['taskset', '-c', cpu]);
      const srv = spawn('ip', ['netns', 'exec', topo.server.ns, ...pin('0'), 'iperf3', '-s', '-1', '-B', topo.server.v4], { stdio: 'ignore' });
      const [cmd, ...pre] = [...pin('1'), ...PKTPATH_EXEC] as [string, ...string[]];
      const trace = spawn(cmd, [...pre, 'trace', '-H', topo.server.v4, '-P', '5201', '--proto', 'udp', ...(process.env.PKTPATH_BENCH_NO_W ? [] : ['-w', file])], { stdio: ['ignore', openSync('/dev/null', 'w'), 'pipe'], cwd: REPO_ROOT });
      let stderr = '';
      trace.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      const closed = new Promise((r) => trace.on('close', r));
      try {
        await waitReady(() => stderr, trace);
        await sleep(300);
        const ticksAtReady = cpuTicks(trace.pid!);
        const c = spawnSync('ip', ['netns', 'exec', topo.client.ns, ...pin('0'), 'iperf3', '-u', '-l', '64', '-b', rate, '-t', String(seconds), '-J', '-c', topo.server.v4], { encoding: 'utf8', timeout: (seconds + 20) * 1000 });
        const sum = (JSON.parse(c.stdout || '{}') as { end?: { sum?: { packets?: number; seconds?: number } } }).end?.sum;
        await sleep(500);
        const cpuUs = ((cpuTicks(trace.pid!) - ticksAtReady) * 1e6) / USER_HZ;
        trace.kill('SIGINT');
        await closed;
        const s = parseSummary(stderr);
        const copies = Number(/pcapng: (\d+) packet copies/.exec(stderr)?.[1] ?? NaN);
        const pcapLost = Number(/, (\d+) lost \(its reader/.exec(stderr)?.[1] ?? 0);
        return {
          lost: (s?.lost ?? NaN) + pcapLost,
          pktsPerS: Math.round((sum?.packets ?? NaN) / (sum?.seconds ?? seconds)),
          events: s ? s.events + s.folded : NaN,
          copies,
          cpuUsPerEvent: s ? cpuUs / (s.events + s.folded) : NaN,
          fileBytes: process.env.PKTPATH_BENCH_NO_W ? 0 : statSync(file).size,
        };
      } finally {
        trace.kill('SIGKILL');
        srv.kill('SIGKILL');
        rmSync(dir, { recursive: true, force: true });
      }
    },
    { tag: 'benchpcap' },
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const r = await benchPcapng();
  process.stdout.write(`pcapng_lost=${r.lost} pcapng_pkts_per_s=${r.pktsPerS} pcapng_events=${r.events} pcapng_copies=${r.copies} pcapng_cpu_us_per_event=${r.cpuUsPerEvent.toFixed(2)} pcapng_file_bytes=${r.fileBytes}\n`);
}
