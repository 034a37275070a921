/**
 * Runs INSIDE a guest kernel (scripts/vm/guest.sh) for `npm run bench`: attach and
 * detach time of the function backends for the default set and for --all, and the
 * event rate through a function backend against the tracepoint engine on the same
 * (guest) machine.
 *
 *   node dist/bench/guest-functions.js BACKEND OUT.json [--defaults-only]
 *
 * --defaults-only: the default set's attach and detach times alone (no --all, no traffic).
 */
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { parseTraceOptions } from '../src/cli/options.js';
import { runRequest } from '../src/cli/request.js';
import { planFunctions } from '../src/functions/io/plan.js';
import { native } from '../src/engine/io/native.js';
import { kernelRelease } from '../src/kernel/io/kernel.js';
import { RingReader } from '../src/engine/io/ringbuf.js';
import { loadTrace } from '../src/engine/io/loader.js';
import type { FuncBackend } from '../src/engine/io/loader.js';
import { createTopology } from '../test/helpers/netns.js';

export interface AttachFigures {
  readonly funcs: number;
  readonly attached: number;
  readonly attachS: number;
  readonly detachS: number;
}

export interface GuestBench {
  readonly kernel: string;
  readonly backend: string;
  readonly defaults: AttachFigures;
  readonly all: AttachFigures | { error: string };
  /** events consumed per second during the transfer, and events the ring had to drop */
  readonly eventsPerS: { functions: number; tracepoints: number; lostFunctions: number; lostTracepoints: number };
}

function attachFigures(backend: FuncBackend, all: boolean): AttachFigures {
  const req = runRequest(parseTraceOptions({ ipaddr: '10.199.250.250', backend, all }));
  const planned = planFunctions(req.functions!);
  const t0 = process.hrtime.bigint();
  const trace = loadTrace(req.config, { ringBytes: 1 << 20, functions: planned.plan });
  const t1 = process.hrtime.bigint();
  const attached = trace.probes.filter((p) => p.attached && p.via === backend).length;
  trace.close();
  const t2 = process.hrtime.bigint();
  return { funcs: planned.plan.funcs.length, attached, attachS: Number(t1 - t0) / 1e9, detachS: Number(t2 - t1) / 1e9 };
}

/** Events per second the pipeline receives while a bounded TCP transfer runs, all of it matching. */
async function eventRate(backend: FuncBackend | null, server: string, serverNs: string, clientNs: string): Promise<{ rate: number; lost: number }> {
  const req = runRequest(parseTraceOptions({ ipaddr: server, proto: 'tcp', backend: backend ?? 'tracepoints' }), { ringMb: '32' });
  const functions = req.functions ? planFunctions(req.functions).plan : undefined;
  const trace = loadTrace(req.config, { ringBytes: req.ringBytes, functions });
  const n = native();
  const reader = new RingReader(trace.ring);
  let events = 0;
  const sink = (): void => void events++;
  const poller = n.pollStart(trace.ringFd, () => reader.drain(sink));
  spawnSync('ip', ['netns', 'exec', serverNs, 'iperf3', '-s', '-1', '-D', '-B', server]);
  spawnSync('sleep', ['0.5']);
  const t0 = process.hrtime.bigint();
  // the client runs in a child while this process keeps draining the ring
  await new Promise<void>((resolve) => {
    const c = spawn('ip', ['netns', 'exec', clientNs, 'iperf3', '-c', server, '-t', '3'], { stdio: 'ignore' });
    c.on('exit', () => resolve());
  });
  const dt = Number(process.hrtime.bigint() - t0) / 1e9;
  reader.drain(sink);
  n.pollStop(poller);
  const { lost } = trace.stats();
  trace.close();
  return { rate: events / dt, lost };
}

async function main(): Promise<void> {
  const [backend, out, mode] = process.argv.slice(2) as [FuncBackend, string, string | undefined];
  const defaults = attachFigures(backend, false);
  if (mode === '--defaults-only') {
    // the same set detached one link after another, as close() did before it detached in parallel
    native().setDetachThreads(1);
    const serial = attachFigures(backend, false);
    writeFileSync(out, JSON.stringify({ kernel: kernelRelease(), backend, defaults, serialDetachS: serial.detachS }));
    return;
  }
  let all: AttachFigures | { error: string };
  try {
    all = attachFigures(backend, true);
  } catch (err) {
    all = { error: (err as Error).message };
  }
  const topo = createTopology({ tag: 'gbench' });
  let eventsPerS = { functions: 0, tracepoints: 0, lostFunctions: 0, lostTracepoints: 0 };
  try {
    const tp = await eventRate(null, topo.server.v4, topo.server.ns, topo.client.ns);
    const fn = await eventRate(backend, topo.server.v4, topo.server.ns, topo.client.ns);
    eventsPerS = { functions: fn.rate, tracepoints: tp.rate, lostFunctions: fn.lost, lostTracepoints: tp.lost };
  } finally {
    await topo.destroy();
  }
  const res: GuestBench = { kernel: kernelRelease(), backend, defaults, all, eventsPerS };
  writeFileSync(out, JSON.stringify(res));
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`guest bench: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
