/**
 * The live flows, bounded. IPv4 flows are found by two numbers (each endpoint's address
 * and port, the protocol folded in) in an open-addressing hash table of typed arrays:
 * no string is built per packet. IPv6 flows use a Map keyed by a string. When the table
 * is full, CLOCK picks the flow to finish early: the hand skips (and clears) flows that
 * had a packet since it last passed, and evicts the first one that did not. A flow that
 * comes back after eviction starts anew.
 */
import type { Flow } from './flow.js';

/** Linear-probing map from (k1, k2) to a slot number; deletion by backward shift. */
class NumIndex {
  private readonly mask: number;
  private readonly k1: Float64Array;
  private readonly k2: Float64Array;
  /** slot + 1; 0 is empty */
  private readonly val: Int32Array;

  constructor(entries: number) {
    let cap = 16;
    while (cap < entries * 2) cap *= 2;
    this.mask = cap - 1;
    this.k1 = new Float64Array(cap);
    this.k2 = new Float64Array(cap);
    this.val = new Int32Array(cap);
  }

  private home(a: number, b: number): number {
    const h = Math.imul((a >>> 0) ^ Math.imul((a / 4294967296) | 0, 0x9e3779b1), 0x85ebca6b) ^ Math.imul((b >>> 0) ^ Math.imul((b / 4294967296) | 0, 0x27d4eb2f), 0xc2b2ae35);
    return (h ^ (h >>> 15)) & this.mask;
  }

  get(a: number, b: number): number {
    const { k1, k2, val, mask } = this;
    for (let i = this.home(a, b); val[i] !== 0; i = (i + 1) & mask) {
      if (k1[i] === a && k2[i] === b) return val[i]! - 1;
    }
    return -1;
  }

  set(a: number, b: number, slot: number): void {
    let i = this.home(a, b);
    while (this.val[i] !== 0) i = (i + 1) & this.mask;
    this.k1[i] = a;
    this.k2[i] = b;
    this.val[i] = slot + 1;
  }

  delete(a: number, b: number): void {
    const { k1, k2, val, mask } = this;
    let i = this.home(a, b);
    while (val[i] !== 0 && !(k1[i] === a && k2[i] === b)) i = (i + 1) & mask;
    if (val[i] === 0) return;
    // backward shift: pull later entries of the run into the hole when their home allows
    let hole = i;
    for (let j = (i + 1) & mask; val[j] !== 0; j = (j + 1) & mask) {
      const h = this.home(k1[j]!, k2[j]!);
      const between = hole <= j ? hole < h && h <= j : hole < h || h <= j;
      if (between) continue;
      k1[hole] = k1[j]!;
      k2[hole] = k2[j]!;
      val[hole] = val[j]!;
      hole = j;
    }
    val[hole] = 0;
  }
}

export class FlowTable {
  private readonly v4: NumIndex;
  private readonly v6 = new Map<string, number>();
  private readonly slots: (Flow | null)[] = [];
  private hand = 0;
  private live = 0;
  evicted = 0;

  constructor(
    readonly max: number,
    private readonly evict: (f: Flow) => void,
  ) {
    this.v4 = new NumIndex(max);
  }

  get size(): number {
    return this.live;
  }

  get4(k1: number, k2: number): Flow | undefined {
    const s = this.v4.get(k1, k2);
    return s < 0 ? undefined : this.slots[s]!;
  }

  get6(key: string): Flow | undefined {
    const s = this.v6.get(key);
    return s === undefined ? undefined : this.slots[s]!;
  }

  add(f: Flow): void {
    const slot = this.live < this.max ? this.slots.length : this.evictOne();
    if (slot === this.slots.length) this.slots.push(f);
    else this.slots[slot] = f;
    this.live++;
    if (f.family === 4) this.v4.set(f.k1, f.k2, slot);
    else this.v6.set(f.key, slot);
  }

  /** Frees the slot of the flow CLOCK picks and returns it. */
  private evictOne(): number {
    for (;;) {
      const f = this.slots[this.hand]!;
      const slot = this.hand;
      this.hand = (this.hand + 1) % this.max;
      if (f.touched) {
        f.touched = false; // a second chance
        continue;
      }
      if (f.family === 4) this.v4.delete(f.k1, f.k2);
      else this.v6.delete(f.key);
      this.slots[slot] = null;
      this.live--;
      this.evicted++;
      this.evict(f);
      return slot;
    }
  }

  /** Every live flow, oldest first; the table is empty afterwards. */
  drain(): Flow[] {
    const all = this.slots.filter((f): f is Flow => f !== null).sort((a, b) => a.id - b.id);
    this.slots.length = 0;
    this.v6.clear();
    this.live = 0;
    return all;
  }
}
