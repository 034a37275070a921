/**
 * The packet lives that `-w` holds until each packet is freed, in typed arrays.
 *
 * A life can wait long: a UDP datagram read by its socket is freed with no traced free,
 * so its life ends only when its skb is reused, thousands of events later. Lives held as
 * arrays of step objects (each with its strings and a copy of the packet's bytes) were
 * promoted to V8's old generation and made every major collection trace them: at 100k
 * packets/s that cost more than the rest of the run. Here a waiting life is numbers in
 * preallocated arrays and its bytes sit in one slab, so there is nothing for the
 * collector to trace; names are interned once per run.
 *
 * Slots: `maxLives` lives of at most `maxSteps` steps; copies (the bytes of the packet at
 * one namespace and device) come from a pool of `maxCopies`, `snaplen` bytes each.
 */

/** The extras a few steps carry (netfilter, drop, finding): kept as objects, they are rare. */
export type StepExtra = object;

export interface CopyIn {
  readonly bytes: Uint8Array;
  /** the packet's length from the network header on */
  readonly len: number;
  readonly protocol: number;
  readonly ifindex: number;
  /** 0: none, 1: in, 2: out */
  readonly dir: number;
  readonly mac: Uint8Array | null;
  readonly summary: string;
}

export interface StepIn {
  readonly n: number;
  readonly tsNs: bigint;
  /** where and what: place(probe, netns, dev) */
  readonly place: number;
  readonly extra: StepExtra | null;
}

/** One step of a life as read back when it is written. */
export interface StepOut {
  readonly n: number;
  readonly dtNs: number;
  readonly probe: string;
  readonly netns: string;
  readonly dev: string;
  /** the copy taken at this step, or -1 */
  readonly copy: number;
  readonly extra: StepExtra | null;
}

/** Strings to small numbers and back, for one run (few: probes, namespaces, devices). */
class Interned {
  private readonly ids = new Map<string, number>();
  readonly names: string[] = [];

  id(s: string): number {
    let id = this.ids.get(s);
    if (id === undefined) {
      id = this.names.length;
      this.ids.set(s, id);
      this.names.push(s);
    }
    return id;
  }
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
  private readonly count: Uint16Array;
  private readonly probes = new Interned();
  private readonly netnsNames = new Interned();
  private readonly devNames = new Interned();
  // per step: slot * maxSteps + i
  private readonly stepN: Float64Array;
  private readonly stepDt: Float64Array;
  /** probe, netns and device of the step as one number (place()) */
  private readonly stepPlace: Float64Array;
  private readonly stepCopy: Int32Array;
  private readonly extras = new Map<number, StepExtra>();
  // per copy
  private readonly freeCopies: Int32Array;
  private freeCopyTop: number;
  private readonly bytes: Uint8Array;
  private readonly capLen: Uint16Array;
  private readonly origLen: Uint32Array;
  private readonly protocol: Uint16Array;
  private readonly ifindex: Uint32Array;
  private readonly dir: Uint8Array;
  private readonly macs = new Map<number, Uint8Array>();
  private readonly summaries: string[];

  constructor(private readonly o: LifeTableOptions) {
    const steps = o.maxLives * o.maxSteps;
    this.freeSlots = Int32Array.from({ length: o.maxLives }, (_, i) => o.maxLives - 1 - i);
    this.freeSlotTop = o.maxLives;
    this.t0 = new BigInt64Array(o.maxLives);
    this.count = new Uint16Array(o.maxLives);
    this.stepN = new Float64Array(steps);
    this.stepDt = new Float64Array(steps);
    this.stepPlace = new Float64Array(steps);
    this.stepCopy = new Int32Array(steps);
    this.freeCopies = Int32Array.from({ length: o.maxCopies }, (_, i) => o.maxCopies - 1 - i);
    this.freeCopyTop = o.maxCopies;
    this.bytes = new Uint8Array(o.maxCopies * o.snaplen);
    this.capLen = new Uint16Array(o.maxCopies);
    this.origLen = new Uint32Array(o.maxCopies);
    this.protocol = new Uint16Array(o.maxCopies);
    this.ifindex = new Uint32Array(o.maxCopies);
    this.dir = new Uint8Array(o.maxCopies);
    this.summaries = new Array<string>(o.maxCopies).fill('');
  }

  get size(): number {
    return this.slotOf.size;
  }

  /** Whether no slot or no copy is free: the caller ends the oldest life first. */
  full(): boolean {
    return this.freeSlotTop === 0 || this.freeCopyTop === 0;
  }

  /** Whether a copy can be kept now. */
  canCopy(): boolean {
    return this.freeCopyTop > 0;
  }

  has(skb: bigint): boolean {
    return this.slotOf.has(skb);
  }

  /** The skb of the life that waited longest, other than `except`. */
  oldest(except?: bigint): bigint | undefined {
    for (const skb of this.slotOf.keys()) if (skb !== except) return skb;
    return undefined;
  }

  *skbs(): Generator<bigint> {
    yield* [...this.slotOf.keys()];
  }

  /** Starts a life for `skb` (the table must not be full). */
  open(skb: bigint, tsNs: bigint): void {
    const slot = this.freeSlots[--this.freeSlotTop]!;
    this.slotOf.set(skb, slot);
    this.t0[slot] = tsNs;
    this.count[slot] = 0;
  }

  /**
   * A probe at a namespace and device as one number: probe * 2^32 + netns * 2^16 + dev,
   * each interned (a run meets few), so a life's steps compare without strings.
   */
  place(probe: string, netns: string, dev: string): number {
    return this.probes.id(probe) * 2 ** 32 + (this.netnsNames.id(netns) & 0xffff) * 2 ** 16 + (this.devNames.id(dev) & 0xffff);
  }

  /** Adds a step to skb's life; false when the life has maxSteps already. */
  add(skb: bigint, st: StepIn, copy: CopyIn | null): boolean {
    const slot = this.slotOf.get(skb)!;
    const i = this.count[slot]!;
    if (i >= this.o.maxSteps) return false;
    const at = slot * this.o.maxSteps + i;
    this.stepN[at] = st.n;
    this.stepDt[at] = Number(st.tsNs - this.t0[slot]!);
    this.stepPlace[at] = st.place;
    this.stepCopy[at] = copy && this.freeCopyTop > 0 ? this.keepCopy(copy) : -1;
    if (st.extra) this.extras.set(at, st.extra);
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
    this.ifindex[k] = c.ifindex;
    this.dir[k] = c.dir;
    this.summaries[k] = c.summary;
    if (c.mac) this.macs.set(k, c.mac);
    return k;
  }

  /** Whether skb's life has passed this place (the same probe at the same namespace and device) already. */
  passed(skb: bigint, place: number): boolean {
    return this.find(skb, (at) => this.stepPlace[at] === place);
  }

  /** Whether skb's life holds the packet's bytes at the namespace and device of `place` already. */
  hasCopyAt(skb: bigint, place: number): boolean {
    const where = place % 2 ** 32;
    return this.find(skb, (at) => this.stepCopy[at]! >= 0 && this.stepPlace[at]! % 2 ** 32 === where);
  }

  private find(skb: bigint, test: (at: number) => boolean): boolean {
    const slot = this.slotOf.get(skb);
    if (slot === undefined) return false;
    const base = slot * this.o.maxSteps;
    for (let at = base, end = base + this.count[slot]!; at < end; at++) if (test(at)) return true;
    return false;
  }

  /** Ends skb's life: its first time and steps, read before the slot and its copies are freed. */
  close(skb: bigint): { t0: bigint; steps: StepOut[] } | null {
    const slot = this.slotOf.get(skb);
    if (slot === undefined) return null;
    this.slotOf.delete(skb);
    this.freeSlots[this.freeSlotTop++] = slot;
    const steps: StepOut[] = [];
    const base = slot * this.o.maxSteps;
    for (let at = base, end = base + this.count[slot]!; at < end; at++) {
      const place = this.stepPlace[at]!;
      const extra = this.extras.get(at) ?? null;
      if (extra) this.extras.delete(at);
      steps.push({ n: this.stepN[at]!, dtNs: this.stepDt[at]!, probe: this.probes.names[Math.floor(place / 2 ** 32)]!, netns: this.netnsNames.names[Math.floor(place / 2 ** 16) & 0xffff]!, dev: this.devNames.names[place & 0xffff]!, copy: this.stepCopy[at]!, extra });
    }
    return { t0: this.t0[slot]!, steps };
  }

  /** A copy's bytes and what the EPB needs of it; valid until releaseCopy. */
  copy(k: number): { bytes: Uint8Array; len: number; protocol: number; ifindex: number; dir: number; mac: Uint8Array | null; summary: string } {
    const at = k * this.o.snaplen;
    return { bytes: this.bytes.subarray(at, at + this.capLen[k]!), len: this.origLen[k]!, protocol: this.protocol[k]!, ifindex: this.ifindex[k]!, dir: this.dir[k]!, mac: this.macs.get(k) ?? null, summary: this.summaries[k]! };
  }

  releaseCopy(k: number): void {
    this.macs.delete(k);
    this.summaries[k] = '';
    this.freeCopies[this.freeCopyTop++] = k;
  }
}
