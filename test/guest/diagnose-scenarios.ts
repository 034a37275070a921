/**
 * Runs INSIDE a guest kernel (scripts/vm/guest.sh) for test/guest/diagnose.test.ts: the
 * no-listener, REJECT (ICMP admin-prohibited, TCP reset) and PMTU black hole scenes of
 * the diagnosis, recorded by ONE `pktpath trace --json --backend BACKEND` over all of
 * them, to a JSON file the host side diagnoses and asserts on.
 *
 *   node dist/test/guest/diagnose-scenarios.js BACKEND OUT.json
 *
 * Loading the BPF object takes most of a minute under TCG, so the scenes are built and
 * set up while the trace loads; their traffic runs one case after the other once it is ready.
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

async function main(): Promise<void> {
  const [backend, out] = process.argv.slice(2);
  if (!backend || !out) throw new Error('usage: diagnose-scenarios.js BACKEND OUT.json');
  // tracepoints: the same run on a host without function backends (working on the runner)
  const args = ['--backend', backend, ...(backend === 'tracepoints' ? [] : ['--func', FUNC_REGEX]), SCENES_FILTER];
  const res: DiagnoseResults = { backend, kernel: kernelRelease(), args, readyMs: 0, scenes: [], notes: [] };
  const live: Live[] = [];
  const held: { trace: TraceRun | null } = { trace: null };
  try {
    const t0 = Date.now();
    const tracing = spawnTrace(args, { readyTimeoutMs: READY_MS }).then((t) => {
      res.readyMs = Date.now() - t0;
      held.trace = t;
      return t;
    });
    tracing.catch(() => undefined); // a failed start is thrown where it is awaited, below
    // sequential: the scenes' ip/iptables commands are slow enough under TCG without contention
    for (const [i, g] of GUEST_CASES.entries()) live.push(await prepare(g, i));
    res.notes.push(`scenes ready after ${Date.now() - t0} ms`);
    const trace = await tracing;
    // one case at a time: four python clients starting at once under TCG outlive their 5 s limit
    const outcomes: string[] = [];
    for (const l of live) outcomes.push(await l.g.c.run(l.s, l.port));
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    res.scenes = live.map((l, i) => ({ key: l.g.key, port: l.port, ns: l.s.ns, inode: l.s.inode, outcome: outcomes[i]! }));
    res.trace = await trace.stop(STOP_MS);
  } finally {
    if (!res.trace && held.trace) res.notes.push(`trace stopped after a failure: ${(await held.trace.stop(STOP_MS)).stderr.slice(-1500)}`);
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
