/**
 * Per-stage latency, over every event of a run (not only those the page keeps): the
 * time a packet spends in a stage is the time from its event there to the packet's next
 * event (the same span the Perfetto slices show). Streaming and bounded: the last event
 * of at most `maxOpen` skbs is remembered; bins are fixed (1-2-5 steps from 100 ns to 10 s).
 */
import type { BoxKind } from './model.js';
import { ends } from './kinds.js';

/** Upper bounds of the bins, ns; the last bin is everything above 10 s. */
export const BIN_EDGES: readonly number[] = (() => {
  const out: number[] = [];
  for (let d = 100; d <= 1e10; d *= 10) out.push(d, 2 * d, 5 * d);
  return out.filter((x) => x <= 1e10);
})();

/** Two events of one skb further apart than this belong to two packets (the engine's LIFE_GAP_NS). */
const GAP_NS = 5e9;

export interface StageRow {
  readonly stage: BoxKind;
  readonly count: number;
  /** counts per bin: BIN_EDGES.length + 1 bins */
  readonly bins: readonly number[];
  /** the bins holding the median and the 99th percentile (binLabel names them) */
  readonly p50Bin: number;
  readonly p99Bin: number;
  readonly maxNs: number;
}

function binOf(ns: number): number {
  let lo = 0;
  let hi = BIN_EDGES.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ns < BIN_EDGES[mid]!) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

export class StageLatency {
  private readonly last = new Map<bigint | string, { kind: BoxKind; ts: number }>();
  private readonly bins = new Map<BoxKind, number[]>();
  private readonly maxes = new Map<BoxKind, number>();

  constructor(private readonly maxOpen = 65_536) {}

  /**
   * One event, in time order; skb 0 (nft trace steps, route lookups) carries no packet
   * time. A qdisc's time comes from `waitNs` (the queue's own measure), not from the skb,
   * which a shaper may have replaced by its segments.
   */
  add(skb: bigint | string, ts: number, kind: BoxKind, waitNs: number | null = null): void {
    if (waitNs !== null) this.sample('qdisc', waitNs);
    if (skb === 0n || skb === '0x0' || skb === '') return;
    const prev = this.last.get(skb);
    if (prev && prev.kind !== 'qdisc' && ts >= prev.ts && ts - prev.ts <= GAP_NS) this.sample(prev.kind, ts - prev.ts);
    if (ends(kind)) {
      this.last.delete(skb);
      return;
    }
    if (prev) this.last.delete(skb); // re-insert: the map's order is the eviction order
    else if (this.last.size >= this.maxOpen) this.last.delete(this.last.keys().next().value!);
    this.last.set(skb, { kind, ts });
  }

  private sample(kind: BoxKind, ns: number): void {
    let b = this.bins.get(kind);
    if (!b) this.bins.set(kind, (b = new Array<number>(BIN_EDGES.length + 1).fill(0)));
    b[binOf(ns)]!++;
    if (ns > (this.maxes.get(kind) ?? -1)) this.maxes.set(kind, ns);
  }

  /** One row per stage that has samples, in road order. */
  rows(): StageRow[] {
    const order: BoxKind[] = ['socket', 'receive', 'netfilter', 'route', 'icmp', 'queue', 'qdisc', 'transmit', 'func', 'other'];
    return order
      .filter((k) => this.bins.has(k))
      .map((k) => {
        const bins = this.bins.get(k)!;
        const count = bins.reduce((a, b) => a + b, 0);
        const max = this.maxes.get(k) ?? 0;
        return { stage: k, count, bins: [...bins], p50Bin: quantileBin(bins, count, 0.5), p99Bin: quantileBin(bins, count, 0.99), maxNs: max };
      });
  }
}

/** The bin holding the q-quantile. */
function quantileBin(bins: readonly number[], count: number, q: number): number {
  const want = Math.max(1, Math.ceil(q * count));
  let acc = 0;
  for (let i = 0; i < bins.length; i++) {
    acc += bins[i]!;
    if (acc >= want) return i;
  }
  return bins.length - 1;
}

/** "<100 ns", "1-2 us", ">10 s" */
export function binLabel(i: number): string {
  const t = (ns: number): string => (ns >= 1e9 ? `${ns / 1e9} s` : ns >= 1e6 ? `${ns / 1e6} ms` : ns >= 1e3 ? `${ns / 1e3} us` : `${ns} ns`);
  if (i === 0) return `<${t(BIN_EDGES[0]!)}`;
  if (i >= BIN_EDGES.length) return `>${t(BIN_EDGES[BIN_EDGES.length - 1]!)}`;
  return `${t(BIN_EDGES[i - 1]!)}-${t(BIN_EDGES[i]!)}`;
}
