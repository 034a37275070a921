/**
 * When each finding of rules.ts holds for a finished flow, and the words it takes. A
 * flow is judged once, when the capture ends or when the table evicts it; what a flow
 * kept (counters, a few resets and ICMP errors, the worst retransmitted segment) is all
 * the evidence there is.
 */
import type { Flow, RstRecord, Side } from './flow.js';
import type { Level } from './rules.js';
import { closeStall } from './tcp.js';
import { make, sideWords } from './found.js';
import type { Found } from './found.js';
import { resetWords } from './judge-rst.js';
import { pmtuFindings } from './judge-pmtu.js';
import { icmpFindings } from './judge-icmp.js';
import { retransWords } from './judge-retrans.js';

/** Closes what is still open at the end (a zero window nobody reopened). */
function settle(f: Flow): void {
  for (const side of f.sides) {
    if (side.zw.since >= 0) {
      side.zw.openAtEnd = true;
      closeStall(side.zw, f.lastT);
    }
  }
}

export function judgeFlow(f: Flow): Found[] {
  settle(f);
  const out: Found[] = [];
  if (f.proto === 6) {
    out.push(...resets(f));
    const syn = synUnanswered(f);
    if (syn) out.push(syn);
    const pmtu = pmtuFindings(f);
    out.push(...pmtu.found);
    for (const s of [0, 1] as const) {
      // a black hole explains its side's retransmissions
      const r = pmtu.holes[s] ? null : retransmissions(f, s);
      if (r) out.push(r);
      const z = zeroWindow(f, s);
      if (z) out.push(z);
      const o = offload(f, s);
      if (o) out.push(o);
    }
  }
  out.push(...icmpFindings(f));
  return out;
}

function resets(f: Flow): Found[] {
  const out: Found[] = [];
  const seen = new Set<string>();
  for (const r of f.rsts) {
    const w = resetWords(f, r);
    const key = `${w.id}/${r.side}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const same = f.rsts.filter((x) => x.side === r.side && resetWords(f, x).id === w.id).map((x: RstRecord) => x.n);
    out.push(make(w.id, f, { ...sideWords(f, r.side), ...w.words }, same));
  }
  return out;
}

function synUnanswered(f: Flow): Found | null {
  const b = f.sides[1];
  if (f.synCount < 2 || f.synAckCount > 0 || b.pkts > 0 || f.icmpCount > 0) return null;
  const gaps = f.synGaps.map((g) => `${Math.round(g / 1e8) / 10} s`).join(', ');
  return make('tcp.syn-unanswered', f, { ...sideWords(f, 0), count: String(f.synCount), gaps, first: String(f.synN) }, [f.synN]);
}

function retransmissions(f: Flow, s: 0 | 1): Found | null {
  const me = f.sides[s];
  const r = me.retrans;
  const count = r.count - r.syn;
  if (count <= 0) return null;
  const w = retransWords(r, count);
  // a few fast retransmissions in a long transfer are TCP working, not trouble
  const level: Level = r.rto === 0 && count * 100 < me.pkts ? 'info' : 'warn';
  return make('tcp.retransmit', f, { ...sideWords(f, s), ...w, count: String(count), first: String(r.firstN) }, [r.firstN], level);
}

function zeroWindow(f: Flow, s: 0 | 1): Found | null {
  const z = f.sides[s].zw;
  if (z.count === 0) return null;
  const dur = (ns: number): string => (ns >= 1e9 ? `${Math.round(ns / 1e7) / 100} s` : `${Math.round(ns / 1e5) / 10} ms`);
  return make(
    'tcp.zero-window',
    f,
    {
      ...sideWords(f, s),
      count: String(z.count),
      first: String(z.firstN),
      total: dur(z.total),
      longest: dur(z.longest),
      open: z.openAtEnd ? ' (still zero when the capture ends)' : '',
      probes: String(z.probes),
    },
    [z.firstN],
  );
}

function offload(f: Flow, s: 0 | 1): Found | null {
  const me: Side = f.sides[s];
  if (me.over === 0) return null;
  const peer = f.sides[s === 0 ? 1 : 0];
  const [inb, outb] = [me.overIn, me.overOut];
  const where =
    outb > 0 && inb === 0
      ? 'before the kernel or the NIC cut them to size (TSO/GSO: the capture host was sending them)'
      : inb > 0 && outb === 0
        ? 'after the NIC or the kernel merged them (GRO/LRO: the capture host was receiving them)'
        : `before segmentation (TSO/GSO) if ${sideWords(f, s).src} is the capture host, or after merging (GRO/LRO) if it received them`;
  const mss = peer.mss > 0 ? String(peer.mss) : f.family === 4 ? '1460 (no SYN seen: a 1500-byte MTU assumed)' : '1440 (no SYN seen: a 1500-byte MTU assumed)';
  return make('capture.offload', f, { ...sideWords(f, s), count: String(me.over), size: String(me.maxSeg), mss, first: String(me.overN), where }, [me.overN]);
}
