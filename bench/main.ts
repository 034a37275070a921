/**
 * npm run bench: the numbers behind pktpath's speed claims. Prints a table, then one
 * machine-readable line, last:
 *   bench: ratio_vs_c=<x> events_per_s=<n> lost=<n> format_ns_text=<n> format_ns_json=<n> throughput_kept=<0..1> ...
 *     flood_rss_mb=<n> flood_lost=<n> flood_exit_ms=<n> pcapfilter_throughput_kept=<0..1>
 *     drops_throughput_kept=<x> drops_flood_pps=<n> drops_count_exact=<0|1>
 *     exit_ms_fentry=<n> exit_ms_kprobe.multi=<n> exit_ms_kprobe=<n>
 *     diagnose_events_per_s=<n> analyze_pkts_per_s=<n> pcapng_lost=<n>
 *
 * Parts run alone with `node dist/bench/main.js --only flood` (a comma-separated list of
 * ring, format, throughput, netfilter, guest, flood, pcapfilter, drops, diagnose, analyze,
 * pcapng); `--no-guest` leaves the guest part out.
 * A part not run shows n/a on the last line.
 */
import { benchFormat } from './format.js';
import { cConsumer, jsConsumer } from './ringbuf.js';
import { median, throughputKept } from './throughput.js';
import { observerCost } from './netfilter.js';
import { BENCH_EXPRESSION, filterTiming, pcapFilterKept } from './pcapfilter.js';
import { GUEST_CASES, guestUnavailable, runGuestBench } from './functions.js';
import type { GuestBench } from './guest-functions.js';
import { flood } from '../test/helpers/flood.js';
import { dropsPart as dropsBlock } from './drops.js';
import { benchDiagnose } from './diagnose.js';
import { benchAnalyze } from './analyze.js';
import { benchPcapng } from './pcapng.js';
import { benchTraceReplay } from './trace-replay.js';

const RING_EVENTS = 4_000_000;
const RING_ROUNDS = 5;
/** the flood of the memory issue: iperf3 over veth, every packet traced, stdout to a file */
const FLOOD_SECONDS = 30;

const PARTS = ['ring', 'format', 'throughput', 'netfilter', 'guest', 'flood', 'pcapfilter', 'drops', 'diagnose', 'analyze', 'pcapng'] as const;
type Part = (typeof PARTS)[number];

const rows: [string, string, string][] = [];
const row = (what: string, value: string, target = ''): void => void rows.push([what, value, target]);
/** key=value pairs of the last line, in order; parts not run leave n/a */
const line = new Map<string, string>(
  [
    'ratio_vs_c', 'events_per_s', 'lost', 'format_ns_text', 'format_ns_json', 'throughput_kept', 'throughput_kept_legacy_observers',
    'attach_default_s', 'attach_all_s', 'all_funcs', 'flood_rss_mb', 'flood_lost', 'flood_exit_ms', 'pcapfilter_throughput_kept',
    'drops_throughput_kept', 'drops_flood_pps', 'drops_count_exact',
    ...GUEST_CASES.map((c) => `exit_ms_${c.backend}`),
    'diagnose_events_per_s', 'analyze_pkts_per_s', 'pcapng_lost',
  ].map((k) => [k, 'n/a']),
);

/** 1. ring buffer: same producer, C (libbpf ring_buffer__poll) vs pktpath's in-place reader */
async function ringPart(): Promise<void> {
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
  row('ring: C libbpf consumer (events/s, median)', median(c).toFixed(0));
  row('ring: pktpath JS reader (events/s, median)', median(js).toFixed(0), '>= 2,000,000');
  row('ring: JS / C (median of per-round ratios)', median(ratios).toFixed(2), '>= 0.8');
  row('ring: JS reader + full decode (events/s)', decoded.eventsPerS.toFixed(0));
  row('ring: events lost (all rounds)', String(lost), '0');
  line.set('ratio_vs_c', median(ratios).toFixed(2)).set('events_per_s', median(js).toFixed(0)).set('lost', String(lost));
}

/** 2. formatting */
async function formatPart(): Promise<void> {
  const f = benchFormat(300_000);
  row('format: text (ns/event)', f.textNs.toFixed(0), '< 900');
  row('format: JSON (ns/event)', f.jsonNs.toFixed(0), '< 900');
  line.set('format_ns_text', f.textNs.toFixed(0)).set('format_ns_json', f.jsonNs.toFixed(0));
}

/** 3. a running trace on a TCP transfer over veth */
async function throughputPart(): Promise<void> {
  const t = await throughputKept(5, 2);
  row('veth TCP, no trace (Gbit/s, median)', t.baseGbps.toFixed(2));
  row('veth TCP, trace matching nothing (Gbit/s)', t.tracedGbps.toFixed(2));
  row('throughput kept (median of pairwise ratios)', t.kept.toFixed(3), '>= 0.95');
  line.set('throughput_kept', t.kept.toFixed(3));
}

/** 3b. --iptable on iptables-legacy tables: the BPF netfilter observers on every packet */
async function netfilterPart(): Promise<void> {
  try {
    const plain = await observerCost(3, 2, false);
    row('--iptable, no legacy tables (nft trace table only): throughput kept', plain.kept.toFixed(3));
    const o = await observerCost(3, 2);
    row('--iptable, legacy tables: observers hooked', String(o.observers));
    row('--iptable, legacy tables: ns per observer run', o.nsPerRun.toFixed(0));
    row('--iptable, legacy tables: observer runs per s of transfer', o.runsPerS.toFixed(0));
    row('--iptable, legacy tables: throughput kept', o.kept.toFixed(3));
    line.set('throughput_kept_legacy_observers', o.kept.toFixed(3));
  } catch (err) {
    row('--iptable observers', `not measured: ${(err as Error).message.slice(0, 120)}`);
  }
}

function guestRows(g: GuestBench, backend: string): void {
  const label = `${backend} on ${g.kernel.split('-')[0]}`;
  row(`${label}: attach default set (s)`, `${g.defaults.attachS.toFixed(1)} (${g.defaults.attached}/${g.defaults.funcs} functions)`);
  row(`${label}: detach default set (s)`, g.defaults.detachS.toFixed(1));
  if ('error' in g.all) row(`${label}: --all`, `failed: ${g.all.error.slice(0, 120)}`);
  else {
    row(`${label}: attach --all (s)`, `${g.all.attachS.toFixed(1)} (${g.all.attached}/${g.all.funcs} functions)`);
    row(`${label}: detach --all (s)`, g.all.detachS.toFixed(1));
  }
  const e = g.eventsPerS;
  row(`${label}: events/s, functions / tracepoints`, `${e.functions.toFixed(0)} / ${e.tracepoints.toFixed(0)} = ${(e.functions / e.tracepoints).toFixed(2)} (lost ${e.lostFunctions}/${e.lostTracepoints})`);
  const x = g.exit;
  if ('error' in x) row(`${label}: SIGINT to exit`, `failed: ${x.error.slice(0, 120)}`);
  else {
    row(`${label}: SIGINT to summary / to exit (ms, median of ${x.runs})`, `${x.summaryMs} / ${x.exitMs}`, backend === 'kprobe.multi' ? 'exit < 1000' : 'summary < 1000');
    line.set(`exit_ms_${backend}`, String(x.exitMs));
  }
}

/** 4. function backends, in guest kernels (this host's kernel has none) */
async function guestPart(): Promise<void> {
  const why = process.argv.includes('--no-guest') ? 'skipped (--no-guest)' : guestUnavailable();
  if (why) return void row('function backends (guest kernels)', `not measured: ${why}`);
  const guest: GuestBench[] = [];
  for (const c of GUEST_CASES) {
    try {
      const g = runGuestBench(c.kernel, c.backend);
      guest.push(g);
      guestRows(g, c.backend);
    } catch (err) {
      row(`${c.backend} on ${c.kernel}`, `failed: ${(err as Error).message.slice(0, 160)}`);
    }
  }
  const head = guest[0];
  const headAll = head && !('error' in head.all) ? head.all : undefined;
  if (head) line.set('attach_default_s', head.defaults.attachS.toFixed(1));
  if (headAll) line.set('attach_all_s', headAll.attachS.toFixed(1)).set('all_funcs', String(headAll.funcs));
}

/** 5. a trace under an iperf3 flood with stdout to a file: memory stays bounded, loss is counted */
async function floodPart(): Promise<void> {
  const f = await flood('file', FLOOD_SECONDS);
  const lost = f.ringLost + f.backpressure;
  row(`flood ${FLOOD_SECONDS} s, stdout to a file: peak RSS (MiB)`, String(f.peakRssMb), '< 200');
  row('flood: events written / lost (ring full) / dropped for back-pressure', `${f.events} / ${f.ringLost} / ${f.backpressure}`);
  row('flood: SIGINT to summary / to exit, under load (ms)', `${f.summaryMs} / ${f.exitMs}`, '< 1000');
  if (f.code !== 0) row('flood: exit', `code ${f.code} signal ${f.signal}: ${f.stderr.slice(-200)}`);
  line.set('flood_rss_mb', String(f.peakRssMb)).set('flood_lost', String(lost)).set('flood_exit_ms', String(f.exitMs));
}

/** a pcap-filter expression matching nothing, next to the same filter given as flags; the filter alone, translated vs interpreted */
async function pcapfilterPart(): Promise<void> {
  try {
    const ft = filterTiming();
    row('pcap-filter alone, ns per packet: translated / bpf_loop interpreter', `${ft.translatedNs - ft.floorNs} / ${ft.interpretedNs - ft.floorNs}`);
    const p = await pcapFilterKept(5, 2);
    row(`veth TCP, '${BENCH_EXPRESSION}' / same as flags (Gbit/s)`, `${p.expressionGbps.toFixed(2)} / ${p.flagsGbps.toFixed(2)}`);
    row('  ns per probe run (BPF stats): expression / flags', `${p.expressionNsPerRun.toFixed(0)} / ${p.flagsNsPerRun.toFixed(0)}`);
    row('pcap-filter: throughput kept vs the flags (median of pairs)', p.kept.toFixed(3), '>= 0.95');
    line.set('pcapfilter_throughput_kept', p.kept.toFixed(3));
  } catch (err) {
    row('pcap-filter', `not measured: ${(err as Error).message.slice(0, 120)}`);
  }
}

/** pktpath drops: throughput kept with it running, and a drop flood counted against the rule's counter (bench/drops.ts) */
async function dropsPart(): Promise<void> {
  try {
    for (const [k, v] of Object.entries(await dropsBlock(row))) line.set(k, v);
  } catch (err) {
    row('pktpath drops', `not measured: ${(err as Error).message.slice(0, 120)}`);
  }
}

/** the diagnosis engine on replayed traces (bench/diagnose.ts): many short flows, the hard case, on the line */
async function diagnosePart(): Promise<void> {
  const few = benchDiagnose(1_000_000, false);
  const many = benchDiagnose(1_000_000, true);
  row(`diagnose, ${many.flows} short flows: events/s of CPU (${many.cpuS.toFixed(2)} s per 1M)`, many.eventsPerS.toFixed(0), '>= 500,000');
  row(`diagnose, ${few.flows} long flows: events/s of CPU`, few.eventsPerS.toFixed(0));
  line.set('diagnose_events_per_s', many.eventsPerS.toFixed(0));
}

/** pktpath analyze on a generated 1M-packet pcap (bench/analyze.ts), median of 3 */
async function analyzePart(): Promise<void> {
  const a = await benchAnalyze();
  row('analyze 1M-packet pcap: packets/s (wall / CPU)', `${a.analyzePktsPerS} / ${a.analyzeCpuPktsPerS}`);
  row('  capture reader alone: packets/s (wall)', String(a.readPktsPerS));
  line.set('analyze_pkts_per_s', String(a.analyzePktsPerS));
}

/** trace -w on one UDP flow paced at 100k packets/s over veth (bench/pcapng.ts), and its user side replayed (bench/trace-replay.ts) */
async function pcapngPart(): Promise<void> {
  const replay = await benchTraceReplay(500_000, true);
  const plain = await benchTraceReplay(500_000, false);
  row('trace replayed (user side only), CPU per event (us): with -w / without', `${replay.usPerEvent.toFixed(2)} / ${plain.usPerEvent.toFixed(2)}`);
  try {
    const p = await benchPcapng();
    row('trace -w, UDP flow: packets/s sent / events / packet copies', `${p.pktsPerS} / ${p.events} / ${p.copies}`);
    row('trace -w: events lost (ring full + pcapng writer)', String(p.lost), '0');
    row('trace -w: file (MiB)', (p.fileBytes / 1048576).toFixed(1));
    // what one core can take: 100k packets/s of ~5 events each needs <= 2 us per event
    row('trace -w: CPU per event on its own core (us)', p.cpuUsPerEvent.toFixed(2), '<= 2');
    line.set('pcapng_lost', String(p.lost));
  } catch (err) {
    row('trace -w', `not measured: ${(err as Error).message.slice(0, 120)}`);
  }
}

const RUN: Record<Part, () => Promise<void>> = {
  ring: ringPart,
  format: formatPart,
  throughput: throughputPart,
  netfilter: netfilterPart,
  guest: guestPart,
  flood: floodPart,
  pcapfilter: pcapfilterPart,
  drops: dropsPart,
  diagnose: diagnosePart,
  analyze: analyzePart,
  pcapng: pcapngPart,
};

function chosenParts(argv: readonly string[]): Part[] {
  const i = argv.indexOf('--only');
  if (i < 0) return [...PARTS];
  const want = (argv[i + 1] ?? '').split(',').filter(Boolean);
  const bad = want.filter((p) => !(PARTS as readonly string[]).includes(p));
  if (!want.length || bad.length) {
    process.stderr.write(`bench: --only takes a comma-separated list of ${PARTS.join(', ')}\n`);
    process.exit(2);
  }
  return want as Part[];
}

async function main(): Promise<void> {
  const parts = chosenParts(process.argv);
  if (process.geteuid?.() !== 0) {
    process.stderr.write('bench: needs root (loads BPF programs, creates namespaces)\n');
    process.exit(3);
  }
  for (const p of parts) await RUN[p]();
  const w = Math.max(...rows.map((r) => r[0].length));
  const v = Math.max(...rows.map((r) => r[1].length));
  console.log(`${'measure'.padEnd(w)}  ${'value'.padStart(v)}  target`);
  for (const [a, b, tgt] of rows) console.log(`${a.padEnd(w)}  ${b.padStart(v)}  ${tgt}`);
  console.log(`bench: ${[...line].map(([k, val]) => `${k}=${val}`).join(' ')}`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${(err as Error).message}\n`);
  process.exit(1);
});
