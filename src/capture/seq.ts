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

/** The last RING segments a side sent: sequence range, time, frame, IP ID, capture interface. */
export class SegRing {
  readonly start = new Uint32Array(RING);
  readonly end = new Uint32Array(RING);
  readonly t = new Float64Array(RING);
  readonly n = new Float64Array(RING);
  readonly ipId = new Int32Array(RING);
  readonly ifKey = new Int32Array(RING);
  /** how many times the segment was sent again */
  readonly resent = new Uint8Array(RING);
  /** next slot to write */
  head = 0;
  size = 0;
  /** index (0..size) of the oldest segment not yet acknowledged, counted from the oldest */
  private acked = 0;

  push(start: number, end: number, t: number, n: number, ipId: number, ifKey: number): void {
    const k = this.head;
    this.start[k] = start;
    this.end[k] = end;
    this.t[k] = t;
    this.n[k] = n;
    this.ipId[k] = ipId;
    this.ifKey[k] = ifKey;
    this.resent[k] = 0;
    this.head = (k + 1) % RING;
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
      if (this.start[k] === seq) return k;
    }
    return -1;
  }

  /**
   * Marks the segments `ack` covers as acknowledged; returns the round trip to the newest
   * of them that was sent once (Karn: a resent segment's ACK is ambiguous), or -1.
   */
  ackUpTo(ack: number, now: number): number {
    let rtt = -1;
    while (this.acked < this.size) {
      const k = this.slot(this.acked);
      if (!seqLe(this.end[k]!, ack)) break;
      rtt = this.resent[k] === 0 ? now - this.t[k]! : -1;
      this.acked++;
    }
    return rtt;
  }
}
