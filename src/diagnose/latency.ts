/**
 * Bounded latency summaries: exact percentiles while a hop has few samples, a
 * quarter-octave log histogram (about 19% wide buckets, 180 counters) beyond that.
 */

const EXACT = 64;
const BUCKETS = 180;

function bucketOf(ns: number): number {
  if (ns < 1) return 0;
  const b = Math.floor(Math.log2(ns) * 4) + 1;
  return b >= BUCKETS ? BUCKETS - 1 : b;
}

/** The middle of a bucket, in ns. */
function bucketValue(b: number): number {
  return b === 0 ? 0 : Math.round(2 ** ((b - 0.5) / 4));
}

function insertionSort(a: number[]): void {
  for (let i = 1; i < a.length; i++) {
    const v = a[i]!;
    let j = i - 1;
    while (j >= 0 && a[j]! > v) {
      a[j + 1] = a[j]!;
      j--;
    }
    a[j + 1] = v;
  }
}

export class Histogram {
  count = 0;
  max = 0;
  sum = 0;
  private readonly exact: number[] = [];
  private buckets: Uint32Array | null = null;
  /** the exact samples are in order (they are sorted in place when asked for a quantile) */
  private sorted = true;

  add(ns: number): void {
    const v = ns < 0 ? 0 : ns;
    this.sorted = false;
    this.count++;
    this.sum += v;
    if (v > this.max) this.max = v;
    if (this.buckets === null) {
      this.exact.push(v);
      if (this.exact.length <= EXACT) return;
      this.buckets = new Uint32Array(BUCKETS);
      for (const x of this.exact) this.buckets[bucketOf(x)]!++;
      this.exact.length = 0;
      return;
    }
    this.buckets[bucketOf(v)]!++;
  }

  /** The q-quantile (0..1) in ns: exact for small counts, the bucket's middle otherwise. */
  quantile(q: number): number {
    if (this.count === 0) return 0;
    if (this.buckets === null) {
      if (!this.sorted) {
        insertionSort(this.exact); // at most EXACT values: no allocation, unlike Array#sort
        this.sorted = true;
      }
      const s = this.exact;
      return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
    }
    const want = Math.max(1, Math.ceil(q * this.count));
    let acc = 0;
    for (let b = 0; b < BUCKETS; b++) {
      acc += this.buckets[b]!;
      if (acc >= want) return Math.min(bucketValue(b), this.max);
    }
    return this.max;
  }
}

/** "1.25 ms", "830 us", "2.1 s" */
export function durationText(ns: number): string {
  if (ns >= 1e9) return `${(ns / 1e9).toFixed(ns >= 1e10 ? 0 : 1)} s`;
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(ns >= 1e8 ? 0 : ns >= 1e7 ? 1 : 2)} ms`;
  if (ns >= 1e3) return `${Math.round(ns / 1e3)} us`;
  return `${Math.round(ns)} ns`;
}
