/**
 * npm run bench: the numbers behind pktpath's speed claims. Prints a table, then one
 * machine-readable line, last:
 *   bench: ratio_vs_c=<x> events_per_s=<n> lost=<n> format_ns_text=<n> format_ns_json=<n> throughput_kept=<0..1>
 */
import { benchFormat } from '../src/core/format-bench.js';
import { cConsumer, jsConsumer } from './ringbuf.js';
import { throughputKept } from './throughput.js';

const RING_EVENTS = 4_000_000;
const RING_ROUNDS = 5;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const rows: [string, string, string][] = [];
const row = (what: string, value: string, target = ''): void => void rows.push([what, value, target]);

async function main(): Promise<void> {
  if (process.geteuid?.() !== 0) {
    process.stderr.write('bench: needs root (loads BPF programs, creates namespaces)\n');
    process.exit(3);
  }
  // 1. ring buffer: same producer, C (libbpf ring_buffer__poll) vs pktpath's in-place reader
  const c: number[] = [];
  const js: number[] = [];
  const ratios: number[] = [];
  let lost = 0;
  for (let i = 0; i < RING_ROUNDS; i++) {
    const rc = cConsumer(RING_EVENTS);
    const rj = await jsConsumer(RING_EVENTS, false);
    c.push(rc.eventsPerS);
    js.push(rj.eventsPerS);
    ratios.push(rj.eventsPerS / rc.eventsPerS);
    lost += rc.lost + rj.lost;
  }
  const decoded = await jsConsumer(RING_EVENTS / 2, true);
  lost += decoded.lost;
  const jsRate = median(js);
  const ratio = median(ratios);
  row('ring: C libbpf consumer (events/s, median)', median(c).toFixed(0));
  row('ring: pktpath JS reader (events/s, median)', jsRate.toFixed(0), '>= 2,000,000');
  row('ring: JS / C (median of per-round ratios)', ratio.toFixed(2), '>= 0.8');
  row('ring: JS reader + full decode (events/s)', decoded.eventsPerS.toFixed(0));
  row('ring: events lost (all rounds)', String(lost), '0');

  // 2. formatting
  const f = benchFormat(300_000);
  row('format: text (ns/event)', f.textNs.toFixed(0), '< 900');
  row('format: JSON (ns/event)', f.jsonNs.toFixed(0), '< 900');

  // 3. a running trace on a TCP transfer over veth
  const t = await throughputKept(3, 2);
  row('veth TCP, no trace (Gbit/s, median)', t.baseGbps.toFixed(2));
  row('veth TCP, trace matching nothing (Gbit/s)', t.tracedGbps.toFixed(2));
  row('throughput kept', t.kept.toFixed(3), '>= 0.95');

  const w = Math.max(...rows.map((r) => r[0].length));
  const v = Math.max(...rows.map((r) => r[1].length));
  console.log(`${'measure'.padEnd(w)}  ${'value'.padStart(v)}  target`);
  for (const [a, b, tgt] of rows) console.log(`${a.padEnd(w)}  ${b.padStart(v)}  ${tgt}`);
  console.log(
    `bench: ratio_vs_c=${ratio.toFixed(2)} events_per_s=${jsRate.toFixed(0)} lost=${lost} ` +
      `format_ns_text=${f.textNs.toFixed(0)} format_ns_json=${f.jsonNs.toFixed(0)} throughput_kept=${t.kept.toFixed(3)}`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${(err as Error).message}\n`);
  process.exit(1);
});
