/**
 * A trace under a flood: an iperf3 TCP transfer over a veth pair (every packet matches
 * the trace's filter), traced with `pktpath trace --json -H <server> -P 5201` whose stdout
 * goes to a file, /dev/null, or a pipe nobody reads. Measures the trace's peak RSS, what
 * it counted as lost (ring full, and dropped for back-pressure), and how long it takes to
 * exit after SIGINT while the transfer still runs.
 * Used by `npm run bench` (bench/main.ts, part "flood") and test/integration/flood.test.ts.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PKTPATH_EXEC, REPO_ROOT, withTopology } from './netns.js';
import type { Topology } from './netns.js';

export type FloodSink = 'file' | 'devnull' | 'stalled';

export interface FloodResult {
  readonly sink: FloodSink;
  /** the trace's peak resident set (VmHWM), MiB */
  readonly peakRssMb: number;
  readonly events: number;
  /** events the ring buffer had no room for */
  readonly ringLost: number;
  /** events read and not written because stdout did not keep up (absent from the summary: 0) */
  readonly backpressure: number;
  /** SIGINT to exit, ms */
  readonly exitMs: number;
  /** SIGINT to the summary line on stderr, ms */
  readonly summaryMs: number;
  readonly code: number | null;
  readonly signal: string | null;
  /** bytes the trace wrote to its file (sink "file") */
  readonly bytesOut: number;
  readonly stderr: string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function vmKb(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0; // gone
  }
}

/** The numbers of the summary line: "N events, M lost[, K dropped for back-pressure]". */
export function parseSummary(stderr: string): { events: number; folded: number; lost: number; backpressure: number } | null {
  // the short text view says how many events it folded into those it printed: "N events (and M folded into them: ...), L lost"
  const m = /pktpath: (\d+) events(?: \(and (\d+) folded[^)]*\))?, (\d+) lost(?: \(ring buffer full\))?(?:, (\d+) dropped for back-pressure)?/.exec(stderr);
  return m ? { events: Number(m[1]), folded: Number(m[2] ?? 0), lost: Number(m[3]), backpressure: Number(m[4] ?? 0) } : null;
}

/** Starts an iperf3 server in the server namespace; resolves once it listens. */
async function iperfServer(topo: Topology): Promise<ChildProcess> {
  const srv = spawn('ip', ['netns', 'exec', topo.server.ns, 'iperf3', '-s', '-B', topo.server.v4], { stdio: 'ignore' });
  for (let i = 0; i < 50; i++) {
    const r = await topo.exec(topo.server, ['ss', '-Hltn', `sport = :5201`], { allowFail: true });
    if (r.stdout.trim()) return srv;
    await sleep(100);
  }
  srv.kill('SIGKILL');
  throw new Error('iperf3 server never listened');
}

interface StartedTrace {
  child: ChildProcess;
  stderr: () => string;
  closed: Promise<{ code: number | null; signal: string | null }>;
}

/** `pktpath trace --json -H <server> -P 5201` with stdout on `fd` (or a pipe left unread); resolves when ready. */
async function startTrace(server: string, stdout: number | 'pipe'): Promise<StartedTrace> {
  const [cmd, ...pre] = PKTPATH_EXEC;
  const child = spawn(cmd, [...pre, 'trace', '--json', '-H', server, '-P', '5201'], {
    stdio: ['ignore', stdout, 'pipe'],
    cwd: REPO_ROOT,
  });
  // a pipe nobody reads: the child's writes stall once the pipe (and this end's buffer) is full
  child.stdout?.pause();
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const closed = new Promise<{ code: number | null; signal: string | null }>((r) => child.on('close', (code, signal) => r({ code, signal })));
  const by = Date.now() + 30_000;
  while (!/\bready\b/.test(stderr)) {
    if (child.exitCode !== null || Date.now() > by) {
      child.kill('SIGKILL');
      throw new Error(`pktpath trace did not get ready: ${stderr}`);
    }
    await sleep(50);
  }
  return { child, stderr: () => stderr, closed };
}

/** Runs the flood for `seconds` and measures the trace (see the file comment). */
export async function flood(sink: FloodSink, seconds: number): Promise<FloodResult> {
  return withTopology(
    async (topo) => {
      const dir = mkdtempSync(join(tmpdir(), 'pktpath-flood-'));
      const outPath = join(dir, 'out.json');
      const fd = sink === 'file' ? openSync(outPath, 'w') : sink === 'devnull' ? openSync('/dev/null', 'w') : 'pipe';
      const srv = await iperfServer(topo);
      let client: ChildProcess | undefined;
      let trace: StartedTrace | undefined;
      try {
        trace = await startTrace(topo.server.v4, fd);
        const pid = trace.child.pid!;
        // the transfer outlives the trace: SIGINT comes under load
        client = spawn('ip', ['netns', 'exec', topo.client.ns, 'iperf3', '-c', topo.server.v4, '-t', String(seconds + 10)], { stdio: 'ignore' });
        let peak = 0;
        const sampler = setInterval(() => (peak = Math.max(peak, vmKb(pid, 'VmHWM'))), 100);
        await sleep(seconds * 1000);
        peak = Math.max(peak, vmKb(pid, 'VmHWM'));
        const t0 = performance.now();
        let summaryMs = NaN;
        trace.child.stderr!.on('data', () => {
          if (Number.isNaN(summaryMs) && / events, \d+ lost/.test(trace!.stderr())) summaryMs = performance.now() - t0;
        });
        trace.child.kill('SIGINT');
        const timer = setTimeout(() => trace!.child.kill('SIGKILL'), 30_000);
        const end = await trace.closed;
        const exitMs = performance.now() - t0;
        clearTimeout(timer);
        clearInterval(sampler);
        const s = parseSummary(trace.stderr());
        let bytesOut = 0;
        if (sink === 'file') bytesOut = statSync(outPath).size; // the file may be larger than a Buffer can hold
        return {
          sink,
          peakRssMb: Math.round(peak / 1024),
          events: s?.events ?? NaN,
          ringLost: s?.lost ?? NaN,
          backpressure: s?.backpressure ?? NaN,
          exitMs: Math.round(exitMs),
          summaryMs: Math.round(summaryMs),
          code: end.code,
          signal: end.signal,
          bytesOut,
          stderr: trace.stderr(),
        };
      } finally {
        trace?.child.kill('SIGKILL');
        client?.kill('SIGKILL');
        srv.kill('SIGKILL');
        if (typeof fd === 'number') closeSync(fd);
        rmSync(dir, { recursive: true, force: true });
      }
    },
    { tag: 'flood' },
  );
}
