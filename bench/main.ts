/**
 * npm run bench: the numbers behind pktpath's speed claims. Prints a table, then one
 * machine-readable line, last:
 *   bench: ratio_vs_c=<x> events_per_s=<n> lost=<n> format_ns_text=<n> format_ns_json=<n> throughput_kept=<0..1>
 *          ... drops_throughput_kept=<x> drops_flood_pps=<n> drops_count_exact=<0|1>
 * `--only drops` runs the pktpath drops block alone (its table, then its fields on the last line).
 */
import { benchFormat } from './format.js';
import { cConsumer, jsConsumer } from './ringbuf.js';
import { median, throughputKept } from './throughput.js';
import { observerCost } from './netfilter.js';
import { GUEST_CASES, guestUnavailable, runGuestBench } from './functions.js';
import type { GuestBench } from './guest-functions.js';
import { dropsPart } from './drops.js';

const RING_EVENTS = 4_000_000;
const RING_ROUNDS = 5;

const rows: [string, string, string][] = [];
const row = (what: string, value: string, target = ''): void => void rows.push([what, value, target]);

function printRows(): void {
  const w = Math.max(...rows.map((r) => r[0].length));
  const v = Math.max(...rows.map((r) => r[1].length));
  console.log(`${'measure'.padEnd(w)}  ${'value'.padStart(v)}  target`);
  for (const [a, b, tgt] of rows) console.log(`${a.padEnd(w)}  ${b.padStart(v)}  ${tgt}`);
}

async function main(): Promise<void> {
  if (process.geteuid?.() !== 0) {
    process.stderr.write('bench: needs root (loads BPF programs, creates namespaces)\n');
    process.exit(3);
  }
  const only = process.argv.indexOf('--only');
  if (only >= 0 && process.argv[only + 1] === 'drops') {
    const fields = await dropsPart(row);
    printRows();
    console.log(`bench: ${fields}`);
    return;
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
  const t = await throughputKept(5, 2);
  row('veth TCP, no trace (Gbit/s, median)', t.baseGbps.toFixed(2));
  row('veth TCP, trace matching nothing (Gbit/s)', t.tracedGbps.toFixed(2));
  row('throughput kept (median of pairwise ratios)', t.kept.toFixed(3), '>= 0.95');

  // 3b. --iptable on iptables-legacy tables: the BPF netfilter observers on every packet
  let obsKept = 'n/a';
  try {
    const plain = await observerCost(3, 2, false);
    row('--iptable, no legacy tables (nft trace table only): throughput kept', plain.kept.toFixed(3));
    const o = await observerCost(3, 2);
    obsKept = o.kept.toFixed(3);
    row('--iptable, legacy tables: observers hooked', String(o.observers));
    row('--iptable, legacy tables: ns per observer run', o.nsPerRun.toFixed(0));
    row('--iptable, legacy tables: observer runs per s of transfer', o.runsPerS.toFixed(0));
    row('--iptable, legacy tables: throughput kept', obsKept);
  } catch (err) {
    row('--iptable observers', `not measured: ${(err as Error).message.slice(0, 120)}`);
  }

  // 4. function backends, in guest kernels (this host's kernel has none)
  const why = process.argv.includes('--no-guest') ? 'skipped (--no-guest)' : guestUnavailable();
  const guest: GuestBench[] = [];
  if (why) {
    row('function backends (guest kernels)', `not measured: ${why}`);
  } else {
    for (const c of GUEST_CASES) {
      try {
        const g = runGuestBench(c.kernel, c.backend);
        guest.push(g);
        const label = `${c.backend} on ${g.kernel.split('-')[0]}`;
        row(`${label}: attach default set (s)`, `${g.defaults.attachS.toFixed(1)} (${g.defaults.attached}/${g.defaults.funcs} functions)`);
        row(`${label}: detach default set (s)`, g.defaults.detachS.toFixed(1));
        if ('error' in g.all) row(`${label}: --all`, `failed: ${g.all.error.slice(0, 120)}`);
        else {
          row(`${label}: attach --all (s)`, `${g.all.attachS.toFixed(1)} (${g.all.attached}/${g.all.funcs} functions)`);
          row(`${label}: detach --all (s)`, g.all.detachS.toFixed(1));
        }
        const e = g.eventsPerS;
        row(`${label}: events/s, functions / tracepoints`, `${e.functions.toFixed(0)} / ${e.tracepoints.toFixed(0)} = ${(e.functions / e.tracepoints).toFixed(2)} (lost ${e.lostFunctions}/${e.lostTracepoints})`);
      } catch (err) {
        row(`${c.backend} on ${c.kernel}`, `failed: ${(err as Error).message.slice(0, 160)}`);
      }
    }
  }
  const head = guest[0];
  const headAll = head && !('error' in head.all) ? head.all : undefined;

  // 5. pktpath drops
  let drops = 'drops_throughput_kept=n/a drops_flood_pps=n/a drops_count_exact=0';
  try {
    drops = await dropsPart(row);
  } catch (err) {
    row('pktpath drops', `not measured: ${(err as Error).message.slice(0, 160)}`);
  }

  printRows();
  console.log(
    `bench: ratio_vs_c=${ratio.toFixed(2)} events_per_s=${jsRate.toFixed(0)} lost=${lost} ` +
      `format_ns_text=${f.textNs.toFixed(0)} format_ns_json=${f.jsonNs.toFixed(0)} throughput_kept=${t.kept.toFixed(3)} ` +
      `throughput_kept_legacy_observers=${obsKept} ` +
      `attach_default_s=${head ? head.defaults.attachS.toFixed(1) : 'n/a'} attach_all_s=${headAll ? headAll.attachS.toFixed(1) : 'n/a'} ` +
      `all_funcs=${headAll ? headAll.funcs : 'n/a'} ${drops}`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${(err as Error).message}\n`);
  process.exit(1);
});
