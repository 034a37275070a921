/**
 * Runs INSIDE a guest kernel (scripts/vm/guest.sh) for test/guest/diagnose.test.ts: the
 * no-listener, REJECT (ICMP admin-prohibited, TCP reset) and PMTU black hole scenes of
 * the diagnosis, recorded by one `pktpath trace --json --backend B` over all of them per
 * backend, the traces side by side, to a JSON file the host side diagnoses and asserts on.
 *
 *   node dist/test/guest/diagnose-scenarios.js fentry,kprobe.multi OUT.json
 *
 * Loading the BPF object takes most of a minute under TCG, so the traces load together,
 * the scenes are built and set up meanwhile, and their traffic runs one case after the
 * other once every trace is ready.
 * The runner only drives traffic and records; it checks nothing.
 */
import { writeFileSync } from 'node:fs';
import { kernelRelease } from '../../src/kernel/io/kernel.js';
import { spawnTrace } from '../helpers/netns.js';
import type { TraceRun } from '../helpers/netns.js';
import { buildScene, flagFile } from '../helpers/scenes.js';
import type { Scene } from '../helpers/scenes.js';
import { FUNC_REGEX, GUEST_CASES, SCENES_FILTER } from './diagnose-cases.js';
import type { DiagnoseResults, GuestCase } from './diagnose-cases.js';

const READY_MS = 240_000;
const STOP_MS = 120_000;
/** replies, resets and the PMTU retransmissions still come after the clients gave up */
const SETTLE_MS = 1500;
const BASE_PORT = 21000;

interface Live {
  readonly g: GuestCase;
  readonly s: Scene;
  readonly port: number;
}

async function prepare(g: GuestCase, i: number): Promise<Live> {
  const s = buildScene(g.key.replace(/[^a-z]/g, '').slice(0, 6), g.c.router);
  const port = BASE_PORT + i;
  await g.c.setup?.(s, port);
  return { g, s, port };
}

/** Starts one trace per backend, all loading at once (under TCG the load takes most of a minute). */
function startTraces(backends: readonly string[], res: DiagnoseResults, held: TraceRun[]): Promise<TraceRun[]> {
  const t0 = Date.now();
  const all = Promise.all(
    backends.map(async (backend) => {
      // tracepoints: the same run on a host without function backends (working on the runner)
      const args = ['--backend', backend, ...(backend === 'tracepoints' ? [] : ['--func', FUNC_REGEX]), SCENES_FILTER];
      const run = (res.runs[backend] = { args, readyMs: 0 });
      const t = await spawnTrace(args, { readyTimeoutMs: READY_MS });
      run.readyMs = Date.now() - t0;
      held.push(t);
      return t;
    }),
  );
  all.catch(() => undefined); // a failed start is thrown where it is awaited
  return all;
}

async function main(): Promise<void> {
  const [list, out] = process.argv.slice(2);
  if (!list || !out) throw new Error('usage: diagnose-scenarios.js BACKEND[,BACKEND...] OUT.json');
  const backends = list.split(',');
  const res: DiagnoseResults = { kernel: kernelRelease(), runs: {}, scenes: [], notes: [] };
  const live: Live[] = [];
  const held: TraceRun[] = [];
  try {
    const t0 = Date.now();
    const tracing = startTraces(backends, res, held);
    // sequential: the scenes' ip/iptables commands are slow enough under TCG without contention
    for (const [i, g] of GUEST_CASES.entries()) live.push(await prepare(g, i));
    res.notes.push(`scenes ready after ${Date.now() - t0} ms`);
    const traces = await tracing;
    // one case at a time: four python clients starting at once under TCG outlive their 5 s limit
    const outcomes: string[] = [];
    for (const l of live) outcomes.push(await l.g.c.run(l.s, l.port));
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    res.scenes = live.map((l, i) => ({ key: l.g.key, port: l.port, ns: l.s.ns, inode: l.s.inode, outcome: outcomes[i]! }));
    const results = await Promise.all(traces.map((t) => t.stop(STOP_MS)));
    backends.forEach((b, i) => (res.runs[b]!.trace = results[i]));
  } finally {
    if (backends.some((b) => !res.runs[b]?.trace)) {
      for (const t of held) res.notes.push(`a trace stopped after a failure: ${(await t.stop(STOP_MS)).stderr.slice(-1500)}`);
    }
    for (const l of live) {
      writeFileSync(flagFile(l.port), ''); // the case's listeners close
      l.s.destroy();
    }
    writeFileSync(out, JSON.stringify(res));
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`diagnose-scenarios: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
