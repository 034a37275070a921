/**
 * TCP sequence arithmetic (32-bit, wrapping) and a small ring of the segments one side
 * sent, for retransmission gaps and data-to-ACK round trips. The ring is fixed-size, so
 * a flow's memory does not grow with its length: the oldest segment falls out.
 */

/** a < b in sequence space */
export function seqLt(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}

/** a <= b in sequence space */
export function seqLe(a: number, b: number): boolean {
  return ((a - b) | 0) <= 0;
}

export function seqAdd(a: number, n: number): number {
  return (a + n) >>> 0;
}

export const RING = 32;

/** Fields of one slot, in one Float64Array (one allocation per ring, not seven). */
const START = 0;
const END = 1;
const T = 2;
const N = 3;
const IPID = 4;
const IFKEY = 5;
const RESENT = 6;
const STRIDE = 7;

/** The last RING segments a side sent: sequence range, time, frame, IP ID, capture interface, resends. */
export class SegRing {
  private readonly a = new Float64Array(RING * STRIDE);
  /** next slot to write */
  head = 0;
  size = 0;
  /** index (0..size) of the oldest segment not yet acknowledged, counted from the oldest */
  private acked = 0;

  push(start: number, end: number, t: number, n: number, ipId: number, ifKey: number): void {
    const o = this.head * STRIDE;
    const a = this.a;
    a[o + START] = start;
    a[o + END] = end;
    a[o + T] = t;
    a[o + N] = n;
    a[o + IPID] = ipId;
    a[o + IFKEY] = ifKey;
    a[o + RESENT] = 0;
    this.head = (this.head + 1) % RING;
    if (this.size < RING) this.size++;
    else if (this.acked > 0) this.acked--;
  }

  /** slot of the i-th oldest segment */
  slot(i: number): number {
    return (this.head - this.size + i + RING) % RING;
  }

  /** slot of the newest segment starting at `seq`, or -1 */
  find(seq: number): number {
    for (let i = this.size - 1; i >= 0; i--) {
      const k = this.slot(i);
      if (this.a[k * STRIDE + START] === seq) return k;
    }
    return -1;
  }

  t(k: number): number {
    return this.a[k * STRIDE + T]!;
  }

  n(k: number): number {
    return this.a[k * STRIDE + N]!;
  }

  ipId(k: number): number {
    return this.a[k * STRIDE + IPID]!;
  }

  ifKey(k: number): number {
    return this.a[k * STRIDE + IFKEY]!;
  }

  resent(k: number): number {
    return this.a[k * STRIDE + RESENT]!;
  }

  /** Counts one more copy of slot k, sent at t; returns how many copies after the first. */
  resend(k: number, t: number): number {
    this.a[k * STRIDE + T] = t;
    return ++this.a[k * STRIDE + RESENT]!;
  }

  /** The newest slot (just pushed) was itself a resend of a segment no longer in the ring. */
  markNewestResent(): void {
    this.a[((this.head + RING - 1) % RING) * STRIDE + RESENT] = 1;
  }

  /**
   * Marks the segments `ack` covers as acknowledged; returns the round trip to the newest
   * of them that was sent once (Karn: a resent segment's ACK is ambiguous), or -1.
   */
  ackUpTo(ack: number, now: number): number {
    let rtt = -1;
    const a = this.a;
    while (this.acked < this.size) {
      const o = this.slot(this.acked) * STRIDE;
      if (!seqLe(a[o + END]!, ack)) break;
      rtt = a[o + RESENT] === 0 ? now - a[o + T]! : -1;
      this.acked++;
    }
    return rtt;
  }
}
