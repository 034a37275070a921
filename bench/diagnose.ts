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

/** Copy k of the trace: later in time, other skbs, other source ports (new flows). */
function shifted(base: readonly RawEvent[], k: number, span: bigint): RawEvent[] {
  const dt = span * BigInt(k);
  const dskb = BigInt(k) << 24n;
  return base.map((e) => ({
    ...e,
    tsNs: e.tsNs + dt,
    skb: e.skb === 0n ? 0n : e.skb + dskb,
    tuple: e.tuple ? { ...e.tuple, sport: (e.tuple.sport + k) & 0xffff || 1, dport: e.tuple.dport } : null,
  }));
}

export function benchDiagnose(total = 1_000_000): DiagnoseBench {
  const r = new ReplayResolver();
  const base = recorded(r);
  const span = (base[base.length - 1]?.tsNs ?? 0n) + 1_000_000n;
  const d = new Diagnoser(r);
  let events = 0;
  let cpuUs = 0;
  // copies are made one at a time, outside the measured windows, so the live heap stays
  // that of a running trace (events come and go) and only the engine's work is counted
  for (let k = 0; events < total; k++) {
    const copy = shifted(base, k, span).slice(0, total - events);
    const before = process.cpuUsage();
    for (const e of copy) d.push(e);
    const used = process.cpuUsage(before);
    cpuUs += used.user + used.system;
    events += copy.length;
  }
  const before = process.cpuUsage();
  const rep = d.report();
  const used = process.cpuUsage(before);
  cpuUs += used.user + used.system;
  const cpuS = cpuUs / 1e6;
  return { events, cpuS, eventsPerS: events / cpuS, findings: rep.findings.length, flows: rep.inputs.flows, heapMb: process.memoryUsage().heapUsed / 1048576 };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const b = benchDiagnose(Number(process.argv[2] ?? 1_000_000));
  process.stdout.write(`diagnose: ${b.events} events in ${b.cpuS.toFixed(2)} s CPU, ${b.flows} flows, ${b.findings} findings, heap ${b.heapMb.toFixed(0)} MB\n`);
  process.stdout.write(`diagnose_events_per_s=${Math.round(b.eventsPerS)}\n`);
}
