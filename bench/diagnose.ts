/**
 * The diagnosis engine's speed: the recorded traces of test/fixtures/diagnose, replayed
 * over and over (each copy shifted in time, with its own skb addresses and ports, so the
 * flows and packets are new) until there are `total` events, pushed through one
 * Diagnoser, then the report. Measured in CPU time of this process (decoding the JSON
 * into RawEvents is done before, and not counted). Run alone: node dist/bench/diagnose.js
 * prints `diagnose_events_per_s=<n>`; bench/main.ts can call benchDiagnose().
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RawEvent } from '../src/engine/event.js';
import { Diagnoser } from '../src/diagnose/engine.js';
import { ReplayResolver, parseJsonLines, rawOfJson } from '../src/diagnose/replay.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test', 'fixtures', 'diagnose');

export interface DiagnoseBench {
  events: number;
  cpuS: number;
  eventsPerS: number;
  findings: number;
  flows: number;
  heapMb: number;
}

/** The recorded events, in order, each file after the other. */
function recorded(r: ReplayResolver): RawEvent[] {
  const out: RawEvent[] = [];
  let offset = 0n;
  for (const f of readdirSync(FIXTURES).filter((x) => x.endsWith('.jsonl')).sort()) {
    const evs = parseJsonLines(readFileSync(join(FIXTURES, f), 'utf8')).map((j) => rawOfJson(j, r));
    const first = evs[0]?.tsNs ?? 0n;
    for (const e of evs) out.push({ ...e, tsNs: e.tsNs - first + offset });
    offset += (evs[evs.length - 1]?.tsNs ?? first) - first + 1_000_000n;
  }
  return out;
}

/**
 * Makes `base` copy k of the trace in place: later in time, other skbs, other source ports
 * (new flows). In place, so feeding the engine allocates nothing on the input side: what
 * is measured is the engine (the decoder's own allocations are the ring reader's cost).
 * Safe because the engine copies what it keeps of these fields when it reads an event.
 */
function shiftTo(base: readonly RawEvent[], orig: readonly { tsNs: bigint; skb: bigint; sport: number }[], k: number, span: bigint, newFlows: boolean): void {
  const dt = span * BigInt(k);
  const dskb = BigInt(k) << 24n;
  for (let i = 0; i < base.length; i++) {
    const e = base[i]!;
    const o = orig[i]!;
    e.tsNs = o.tsNs + dt;
    e.skb = o.skb === 0n ? 0n : o.skb + dskb;
    if (e.tuple && newFlows) e.tuple.sport = (o.sport + k) & 0xffff || 1;
  }
}

/**
 * `newFlows`: each copy has its own source ports, so 1M events make ~16,000 short flows
 * (the engine judges and lets go of flows all the time); without, the same dozen flows
 * go on (a long trace of a few connections).
 */
export function benchDiagnose(total = 1_000_000, newFlows = true): DiagnoseBench {
  const r = new ReplayResolver();
  const base = recorded(r);
  const span = (base[base.length - 1]?.tsNs ?? 0n) + 1_000_000n;
  const orig = base.map((e) => ({ tsNs: e.tsNs, skb: e.skb, sport: e.tuple?.sport ?? 0 }));
  const d = new Diagnoser(r);
  let events = 0;
  // one measure around the whole feed: shifting the copies in place is counted with it (1%
  // of the time), where a process.cpuUsage() pair per copy of the traces cost 5%
  const before = process.cpuUsage();
  for (let k = 0; events < total; k++) {
    shiftTo(base, orig, k, span, newFlows);
    const n = Math.min(base.length, total - events);
    for (let i = 0; i < n; i++) d.push(base[i]!);
    events += n;
  }
  const rep = d.report();
  const used = process.cpuUsage(before);
  const cpuUs = used.user + used.system;
  const cpuS = cpuUs / 1e6;
  return { events, cpuS, eventsPerS: events / cpuS, findings: rep.findings.length, flows: rep.inputs.flows, heapMb: process.memoryUsage().heapUsed / 1048576 };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const n = Number(process.argv[2] ?? 1_000_000);
  const few = benchDiagnose(n, false);
  const many = benchDiagnose(n, true);
  for (const [what, b] of [['few long flows', few], ['many short flows', many]] as const) {
    process.stdout.write(`diagnose (${what}): ${b.events} events in ${b.cpuS.toFixed(2)} s CPU, ${b.flows} flows, ${b.findings} findings, heap ${b.heapMb.toFixed(0)} MB\n`);
  }
  process.stdout.write(`diagnose_events_per_s=${Math.round(many.eventsPerS)} diagnose_events_per_s_long_flows=${Math.round(few.eventsPerS)}\n`);
}
