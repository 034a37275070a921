/**
 * The packet lives that `-w` holds until each packet is freed, in typed arrays.
 *
 * A life can wait long: a UDP datagram read by its socket is freed with no traced free,
 * so its life ends only when its skb is reused, thousands of events later. Lives held as
 * arrays of step objects (each with its strings and a copy of the packet's bytes) were
 * promoted to V8's old generation and made every major collection trace them: at 100k
 * packets/s that cost more than the rest of the run. Here a waiting life is numbers in
 * preallocated arrays (places are numbers: places.ts) and its bytes sit in one pool, so
 * there is nothing for the collector to trace.
 *
 * Slots: `maxLives` lives of at most `maxSteps` steps; copies (the bytes of the packet at
 * one namespace and device) come from a pool of `maxCopies`, `snaplen` bytes each.
 */

/** The extras a few steps carry (netfilter, drop): kept as objects, they are rare. */
export type StepExtra = object;

export interface CopyIn {
  readonly bytes: Uint8Array;
  /** the packet's length from the network header on */
  readonly len: number;
  readonly protocol: number;
  readonly summary: string;
}

export interface LifeTableOptions {
  readonly maxLives: number;
  readonly maxSteps: number;
  readonly maxCopies: number;
  readonly snaplen: number;
}

export class LifeTable {
  private readonly slotOf = new Map<bigint, number>();
  private readonly freeSlots: Int32Array;
  private freeSlotTop: number;
  private readonly t0: BigInt64Array;
  /** t0 as a number, for the steps' times without a bigint made per event (exact below 2^53 ns: 104 days of uptime) */
  private readonly t0f: Float64Array;
  private readonly count: Uint16Array;
  // per step: slot * maxSteps + i
  private readonly stepNs: Float64Array;
  private readonly stepDts: Float64Array;
  private readonly stepPlaces: Int32Array;
  private readonly stepWheres: Int32Array;
  private readonly stepCopies: Int32Array;
  private readonly extras = new Map<number, StepExtra>();
  // per copy
  private readonly freeCopies: Int32Array;
  private freeCopyTop: number;
  private readonly bytes: Uint8Array;
  private readonly capLen: Uint16Array;
  private readonly origLen: Uint32Array;
  private readonly protocol: Uint16Array;
  private readonly summaries: string[];

  constructor(private readonly o: LifeTableOptions) {
    const steps = o.maxLives * o.maxSteps;
    this.freeSlots = Int32Array.from({ length: o.maxLives }, (_, i) => o.maxLives - 1 - i);
    this.freeSlotTop = o.maxLives;
    this.t0 = new BigInt64Array(o.maxLives);
    this.t0f = new Float64Array(o.maxLives);
    this.count = new Uint16Array(o.maxLives);
    this.stepNs = new Float64Array(steps);
    this.stepDts = new Float64Array(steps);
    this.stepPlaces = new Int32Array(steps);
    this.stepWheres = new Int32Array(steps);
    this.stepCopies = new Int32Array(steps);
    this.freeCopies = Int32Array.from({ length: o.maxCopies }, (_, i) => o.maxCopies - 1 - i);
    this.freeCopyTop = o.maxCopies;
    this.bytes = new Uint8Array(o.maxCopies * o.snaplen);
    this.capLen = new Uint16Array(o.maxCopies);
    this.origLen = new Uint32Array(o.maxCopies);
    this.protocol = new Uint16Array(o.maxCopies);
    this.summaries = new Array<string>(o.maxCopies).fill('');
  }

  get size(): number {
    return this.slotOf.size;
  }

  /** Whether no slot is free: the caller ends the oldest life first. */
  full(): boolean {
    return this.freeSlotTop === 0;
  }

  /** Whether a copy can be kept now. */
  canCopy(): boolean {
    return this.freeCopyTop > 0;
  }

  /** The slot of skb's life, or -1: the other calls take it, so one event looks its skb up once. */
  slot(skb: bigint): number {
    return this.slotOf.get(skb) ?? -1;
  }

  /** The skb of the life that waited longest, other than `except`. */
  oldest(except?: bigint): bigint | undefined {
    for (const skb of this.slotOf.keys()) if (skb !== except) return skb;
    return undefined;
  }

  skbs(): bigint[] {
    return [...this.slotOf.keys()];
  }

  /** Starts a life for `skb` (the table must not be full); its slot. */
  open(skb: bigint, tsNs: bigint): number {
    const slot = this.freeSlots[--this.freeSlotTop]!;
    this.slotOf.set(skb, slot);
    this.t0[slot] = tsNs;
    this.t0f[slot] = Number(tsNs);
    this.count[slot] = 0;
    return slot;
  }

  /**
   * Adds a step to a life: event `n` at `tsNs`, at `place` (a probe at a namespace and
   * device: places.ts) whose (namespace, device) is `where`, with the copy it takes if a
   * copy is free; false when the life has maxSteps already.
   */
  add(slot: number, n: number, tsNs: bigint, place: number, where: number, extra: StepExtra | null, copy: CopyIn | null): boolean {
    const i = this.count[slot]!;
    if (i >= this.o.maxSteps) return false;
    const at = slot * this.o.maxSteps + i;
    this.stepNs[at] = n;
    const t0 = this.t0f[slot]!;
    this.stepDts[at] = t0 < 2 ** 53 ? Number(tsNs) - t0 : Number(tsNs - this.t0[slot]!);
    this.stepPlaces[at] = place;
    this.stepWheres[at] = where;
    this.stepCopies[at] = copy && this.freeCopyTop > 0 ? this.keepCopy(copy) : -1;
    if (extra) this.extras.set(at, extra);
    this.count[slot] = i + 1;
    return true;
  }

  private keepCopy(c: CopyIn): number {
    const k = this.freeCopies[--this.freeCopyTop]!;
    const n = Math.min(c.bytes.length, this.o.snaplen);
    this.bytes.set(n === c.bytes.length ? c.bytes : c.bytes.subarray(0, n), k * this.o.snaplen);
    this.capLen[k] = n;
    this.origLen[k] = c.len;
    this.protocol[k] = c.protocol;
    this.summaries[k] = c.summary;
    return k;
  }

  /** Whether the life in `slot` has passed `place` (the same probe at the same namespace and device) already. */
  passed(slot: number, place: number): boolean {
    const base = slot * this.o.maxSteps;
    for (let at = base, end = base + this.count[slot]!; at < end; at++) if (this.stepPlaces[at] === place) return true;
    return false;
  }

  /** Whether the life in `slot` holds the packet's bytes at `where` (a namespace and device) already. */
  hasCopyAt(slot: number, where: number): boolean {
    const base = slot * this.o.maxSteps;
    for (let at = base, end = base + this.count[slot]!; at < end; at++) if (this.stepWheres[at] === where && this.stepCopies[at]! >= 0) return true;
    return false;
  }

  /** Ends skb's life: its slot (-1: none), whose steps stay readable until release(). */
  close(skb: bigint): number {
    const slot = this.slotOf.get(skb);
    if (slot === undefined) return -1;
    this.slotOf.delete(skb);
    return slot;
  }

  /** Frees a closed life's slot (its copies stay until releaseCopy). */
  release(slot: number): void {
    const base = slot * this.o.maxSteps;
    if (this.extras.size) for (let at = base, end = base + this.count[slot]!; at < end; at++) this.extras.delete(at);
    this.count[slot] = 0;
    this.freeSlots[this.freeSlotTop++] = slot;
  }

  /** A life's steps, and when its first one was. */
  steps(slot: number): number {
    return this.count[slot]!;
  }

  start(slot: number): bigint {
    return this.t0[slot]!;
  }

  /** Step i of a life: its event number, time since the first step, place, copy (-1: none) and extra. */
  stepN(slot: number, i: number): number {
    return this.stepNs[slot * this.o.maxSteps + i]!;
  }

  stepDt(slot: number, i: number): number {
    return this.stepDts[slot * this.o.maxSteps + i]!;
  }

  stepPlace(slot: number, i: number): number {
    return this.stepPlaces[slot * this.o.maxSteps + i]!;
  }

  stepCopy(slot: number, i: number): number {
    return this.stepCopies[slot * this.o.maxSteps + i]!;
  }

  stepExtra(slot: number, i: number): StepExtra | null {
    return this.extras.size ? (this.extras.get(slot * this.o.maxSteps + i) ?? null) : null;
  }

  /** A copy's bytes (a view of the pool: valid until releaseCopy) and what the EPB needs of it. */
  copy(k: number): { bytes: Uint8Array; len: number; protocol: number; summary: string } {
    const at = k * this.o.snaplen;
    return { bytes: this.bytes.subarray(at, at + this.capLen[k]!), len: this.origLen[k]!, protocol: this.protocol[k]!, summary: this.summaries[k]! };
  }

  releaseCopy(k: number): void {
    this.summaries[k] = '';
    this.freeCopies[this.freeCopyTop++] = k;
  }
}
