/**
 * Micro-benchmark of the event formatters (src/output/text.ts, json.ts).
 *
 * A fixed mix of synthetic events, like a real trace: IPv4 TCP mostly, some IPv6 and UDP,
 * each skb seen by several probes in a row, a few drops and per-probe extras, the
 * timestamp moving about 1.3 us per event. The resolver is an in-memory stand-in so only
 * formatting is measured. Each formatted string is touched (charCodeAt) so V8 has to
 * flatten it, as writing it to a stream would. The result is the mean of the fastest of
 * five rounds, so that other work on the machine disturbs it less.
 *
 * Runs alone too (no root needed): node dist/bench/format.js [events]
 *   format: text_ns=<n> json_ns=<n> text_cpu_ns=<n> json_cpu_ns=<n> text_norepeat_ns=<n> json_norepeat_ns=<n>
 */
import { fileURLToPath } from 'node:url';
import { probeFieldTable, probeNames } from '../src/engine/catalog.js';
import type { RawEvent, RawTuple } from '../src/engine/event.js';
import { EV_DROP, EV_HAS_TUPLE } from '../src/engine/event.js';
import { catalog } from '../src/engine/io/catalog.js';
import type { Resolver } from '../src/output/resolver.js';
import { makeJsonFormatter, makeTextFormatter } from '../src/output/index.js';
import type { Formatter } from '../src/output/index.js';

export interface BenchResult {
  /** mean wall-clock ns per event, text formatter */
  textNs: number;
  /** mean wall-clock ns per event, JSON formatter */
  jsonNs: number;
  /** mean CPU ns per event (user+system of this process), text formatter */
  textCpuNs: number;
  /** mean CPU ns per event, JSON formatter */
  jsonCpuNs: number;
  /** the same, wall clock, when consecutive events never share a packet (worst case for the caches) */
  textNoRepeatNs: number;
  jsonNoRepeatNs: number;
}

function benchResolver(): Resolver {
  const offset = 1_667_528_786_000_000_000n;
  const syms = new Map<bigint, string>([[0xffffffff81a00010n, 'tcp_v4_rcv+0x6d3']]);
  const names = probeNames(catalog());
  const fields = probeFieldTable(catalog());
  return {
    probeName: (id) => names[id] ?? String(id),
    probeFields: (id) => fields[id],
    dropReason: (v) => (v === 2 ? 'NO_SOCKET' : String(v)),
    symbol: (a) => syms.get(a) ?? '0x' + a.toString(16),
    netnsName: (inode) => (inode === 4026533234 ? 'pod-a' : undefined),
    wallClockNs: (mono) => mono + offset,
  };
}

function v4(a: number, b: number, c: number, d: number): Uint8Array {
  const x = new Uint8Array(16);
  x[0] = a; x[1] = b; x[2] = c; x[3] = d;
  return x;
}

function tuple(i: number): RawTuple {
  if (i % 10 === 7) {
    const s = new Uint8Array(16);
    const d = new Uint8Array(16);
    s[0] = 0xfd; s[15] = 1; d[0] = 0xfd; d[15] = 2; d[14] = i & 0xff;
    return { family: 6, saddr: s, daddr: d, sport: 40000 + i, dport: 443, l3proto: 0x86dd, l4proto: 6, tcpFlags: 0x18, icmpType: 0, icmpCode: 0, icmpId: 0 };
  }
  if (i % 10 === 3) {
    return { family: 4, saddr: v4(10, 0, 0, 1), daddr: v4(10, 0, 0, 53), sport: 50000 + i, dport: 53, l3proto: 0x0800, l4proto: 17, tcpFlags: 0, icmpType: 0, icmpCode: 0, icmpId: 0 };
  }
  return {
    family: 4, saddr: v4(192, 168, 88, 154), daddr: v4(192, 168, 40, (230 + i) & 0xff), sport: 34060 + i, dport: 8080,
    l3proto: 0x0800, l4proto: 6, tcpFlags: [0x02, 0x12, 0x10, 0x18, 0x14][i % 5]!, icmpType: 0, icmpCode: 0, icmpId: 0,
  };
}

/** 1024 events: 128 skbs, 8 probes each. */
export function benchEvents(): RawEvent[] {
  const events: RawEvent[] = [];
  const path = [1, 3, 9, 4, 5, 6, 8, 16];
  let ts = 5_000_000_000_000n;
  for (let k = 0; k < 128; k++) {
    const t = tuple(k);
    const skb = 0xffff9fdef19eb600n + BigInt(k * 256);
    for (let j = 0; j < path.length; j++) {
      let probe = path[j]!;
      let flags = EV_HAS_TUPLE;
      if (j === 7 && k % 16 === 5) {
        probe = 15;
        flags |= EV_DROP;
      }
      ts += 1_300n;
      events.push({
        tsNs: ts, skb, location: flags & EV_DROP ? 0xffffffff81a00010n : 0n,
        netns: k % 4 === 0 ? 4026533234 : 4026531992, ifindex: 2, mark: 0, len: 60 + k, pid: k % 3 ? 0 : 1234,
        dropReason: flags & EV_DROP ? 2 : 0, aux: probe === 5 || probe === 6 ? 0x10000 : probe === 9 ? 0 : 0,
        aux2: probe === 9 ? 254 : 0, probe, cpu: k % 8, pktType: 0, flags,
        dstMac: Uint8Array.from([0x00, 0x16, 0x3e, 0x0c, 0xb8, 0x38]), ifname: k % 2 ? 'eth0' : 'veth1a2b3c',
        comm: k % 3 ? 'swapper/3' : 'curl', tuple: t, stack: null,
      });
    }
  }
  return events;
}

const ROUNDS = 5;

/**
 * Mean ns per event over the fastest of ROUNDS rounds of n/ROUNDS events, by the wall clock
 * and by this process's CPU time (other load on the machine slows rounds down; the CPU-time
 * figure leaves out the time the process was not running at all).
 */
function run(f: Formatter, events: RawEvent[], n: number): { wall: number; cpu: number } {
  const mask = events.length - 1; // power of two
  let sink = 0;
  const warm = Math.min(n, 50_000);
  for (let i = 0; i < warm; i++) {
    const s = f.format(events[i & mask]!);
    sink ^= s.charCodeAt(s.length - 1);
  }
  const per = Math.max(1, Math.floor(n / ROUNDS));
  let wall = Infinity;
  let cpu = Infinity;
  for (let r = 0; r < ROUNDS; r++) {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < per; i++) {
      const s = f.format(events[i & mask]!);
      sink ^= s.charCodeAt(s.length - 1);
    }
    wall = Math.min(wall, Number(process.hrtime.bigint() - t0) / per);
    const c = process.cpuUsage(c0);
    cpu = Math.min(cpu, ((c.user + c.system) * 1000) / per);
  }
  if (sink === -1) console.log(sink); // keep the loop observable
  return { wall, cpu };
}

/** Events reordered so that neighbours are different skbs (and mostly different tuples). */
function interleaved(events: RawEvent[]): RawEvent[] {
  const out: RawEvent[] = [];
  for (let j = 0; j < 8; j++) for (let k = 0; k < events.length / 8; k++) out.push({ ...events[k * 8 + j]! });
  let ts = 5_000_000_000_000n;
  for (const e of out) e.tsNs = ts += 1_300n;
  return out;
}

/** Formats about n events with each formatter (twice: realistic order, then worst order); ns per event. */
export function benchFormat(n: number): BenchResult {
  const events = benchEvents();
  const mixed = interleaved(events);
  const r = benchResolver();
  const opts = { time: 'datetime', stack: false } as const;
  const text = run(makeTextFormatter(r, opts), events, n);
  const json = run(makeJsonFormatter(r, opts), events, n);
  const textMixed = run(makeTextFormatter(r, opts), mixed, n);
  const jsonMixed = run(makeJsonFormatter(r, opts), mixed, n);
  return {
    textNs: text.wall,
    jsonNs: json.wall,
    textCpuNs: text.cpu,
    jsonCpuNs: json.cpu,
    textNoRepeatNs: textMixed.wall,
    jsonNoRepeatNs: jsonMixed.wall,
  };
}

/** One machine-readable line of benchFormat's figures. */
export function formatBenchLine(r: BenchResult): string {
  return (
    `format: text_ns=${r.textNs.toFixed(0)} json_ns=${r.jsonNs.toFixed(0)} text_cpu_ns=${r.textCpuNs.toFixed(0)} ` +
    `json_cpu_ns=${r.jsonCpuNs.toFixed(0)} text_norepeat_ns=${r.textNoRepeatNs.toFixed(0)} json_norepeat_ns=${r.jsonNoRepeatNs.toFixed(0)}`
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const n = Number(process.argv[2] ?? 300_000);
  if (!Number.isInteger(n) || n < 1000) {
    process.stderr.write(`bench/format: events must be an integer >= 1000, got ${JSON.stringify(process.argv[2])}\n`);
    process.exit(2);
  }
  console.log(formatBenchLine(benchFormat(n)));
}
