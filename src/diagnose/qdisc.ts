/**
 * Qdisc sojourn: how long a packet waited between qdisc_enqueue and qdisc_dequeue.
 *
 * The same skb is not always on both sides: a shaper such as tbf segments a GSO packet
 * on enqueue (the 7 KB skb is consumed, its 1.5 KB segments come out), so the wait is
 * measured per queue (namespace, device, qdisc handle) as a FIFO of bytes: each dequeued
 * packet's payload is taken from the oldest enqueued one that still has payload left.
 * Exact for FIFO shapers (tbf, pfifo), an estimate for fair-queueing ones.
 */
import type { DEvent } from './model.js';

interface Item {
  readonly ts: number;
  readonly skb: bigint;
  /** payload bytes not yet seen leaving */
  left: number;
}

/** Bytes of headers per packet assumed when splitting a GSO packet into its segments. */
const HEADERS = 66;
/** Items remembered per queue. */
const MAX_ITEMS = 4096;
const MAX_QUEUES = 1024;

export class QdiscWaits {
  /** netns -> device -> qdisc handle -> its queue (no key string made per event) */
  private readonly queues = new Map<number, Map<string, Map<number, Item[]>>>();
  private count = 0;

  private queueOf(e: DEvent): Item[] {
    let byDev = this.queues.get(e.netns);
    let byHandle = byDev?.get(e.dev);
    let q = byHandle?.get(e.aux);
    if (q) return q;
    if (this.count >= MAX_QUEUES) {
      this.queues.clear();
      this.count = 0;
      byDev = byHandle = undefined;
    }
    if (!byDev) this.queues.set(e.netns, (byDev = new Map()));
    if (!byHandle) byDev.set(e.dev, (byHandle = new Map()));
    byHandle.set(e.aux, (q = []));
    this.count++;
    return q;
  }

  enqueue(e: DEvent): void {
    const q = this.queueOf(e);
    if (q.length >= MAX_ITEMS) q.shift();
    q.push({ ts: e.ts, skb: e.skb, left: Math.max(1, e.len - HEADERS) });
  }

  /** The wait of a dequeued packet in ns, or null when its enqueue was not seen. */
  dequeue(e: DEvent): number | null {
    const q = this.queueOf(e);
    const same = q.findIndex((i) => i.skb === e.skb);
    if (same >= 0) {
      const [item] = q.splice(same, 1);
      return e.ts - item!.ts;
    }
    let bytes = Math.max(1, e.len - HEADERS);
    const head = q[0];
    if (!head || head.ts > e.ts) return null;
    const wait = e.ts - head.ts;
    while (bytes > 0 && q.length) {
      const h = q[0]!;
      const take = Math.min(h.left, bytes);
      h.left -= take;
      bytes -= take;
      if (h.left <= 0) q.shift();
    }
    return wait;
  }
}
