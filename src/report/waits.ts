/**
 * Qdisc waits for the report, measured as the diagnosis measures them (per queue, a FIFO
 * of bytes: a shaper segments a GSO packet, so the skb that leaves is not the one that
 * entered) from RawEvents: the wait of each dequeued packet, or null.
 */
import type { DEvent } from '../diagnose/model.js';
import { QdiscWaits } from '../diagnose/qdisc.js';
import type { RawEvent } from '../engine/event.js';

export class QueueWaits {
  private readonly waits = new QdiscWaits();

  /** Feeds a qdisc event; returns the wait of a dequeue whose enqueue was seen. */
  of(ev: RawEvent, probe: string): number | null {
    if (probe !== 'qdisc_enqueue' && probe !== 'qdisc_dequeue') return null;
    // the fields QdiscWaits reads: the queue (netns, device, handle), time, skb and length
    const e = { netns: ev.netns, dev: ev.ifname, aux: ev.aux, ts: Number(ev.tsNs), skb: ev.skb, len: ev.len } as DEvent;
    if (probe === 'qdisc_enqueue') {
      this.waits.enqueue(e);
      return null;
    }
    return this.waits.dequeue(e);
  }
}
