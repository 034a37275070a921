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

function insertionSort(a: number[], n: number): void {
  for (let i = 1; i < n; i++) {
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
  /**
   * The largest sample once the buckets took over (while exact, the samples tell): null
   * until then, so that a short flow's hop holds no boxed number (a number field that ever
   * holds a value past 2^31 is boxed in every object of its class).
   */
  private bucketMax: number | null = null;
  /**
   * The exact samples: the first `count` slots, in an array sized 4, 8, 16, 32, then EXACT + 1
   * (a hop of a short flow has a few samples, and thousands of flows hold their hops: an
   * array grown by push holds 17 slots at once). null once the buckets take over.
   */
  private exact: number[] | null = null;
  private buckets: Uint32Array | null = null;
  /** the exact samples are in order (they are sorted in place when asked for a quantile) */
  private sorted = true;

  add(ns: number): void {
    const v = ns < 0 ? 0 : ns;
    this.sorted = false;
    const i = this.count++;
    if (this.buckets !== null) {
      if (v > this.bucketMax!) this.bucketMax = v;
      this.buckets[bucketOf(v)]!++;
      return;
    }
    if (i < EXACT) {
      this.exactRoom(i)[i] = v;
      return;
    }
    this.bucketMax = Math.max(this.exactMax(i), v);
    this.buckets = new Uint32Array(BUCKETS);
    const x = this.exact!;
    for (let k = 0; k < i; k++) this.buckets[bucketOf(x[k]!)]!++;
    this.buckets[bucketOf(v)]!++;
    this.exact = null;
  }

  /** The largest sample (0 when none) while exact, or the buckets' largest. */
  get max(): number {
    return this.buckets === null ? this.exactMax(this.count) : this.bucketMax!;
  }

  private exactMax(n: number): number {
    const x = this.exact;
    let m = 0;
    for (let k = 0; k < n; k++) if (x![k]! > m) m = x![k]!;
    return m;
  }

  /** The exact array, with room for slot i. */
  private exactRoom(i: number): number[] {
    const x = this.exact;
    if (x !== null && i < x.length) return x;
    const grown = new Array<number>(i === 0 ? 4 : Math.min(i * 2, EXACT)).fill(0);
    for (let k = 0; k < i; k++) grown[k] = x![k]!;
    return (this.exact = grown);
  }

  /** The q-quantile (0..1) in ns: exact for small counts, the bucket's middle otherwise. */
  quantile(q: number): number {
    if (this.count === 0) return 0;
    if (this.buckets === null) {
      const s = this.exact!;
      const n = this.count;
      if (!this.sorted) {
        insertionSort(s, n); // at most EXACT values: no allocation, unlike Array#sort
        this.sorted = true;
      }
      return s[Math.min(n - 1, Math.floor(q * n))]!;
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
