/**
 * The short default view (pure): a packet's path told by its milestones, about as long as
 * Mytracer's, with every event still one `--verbose` (or `--all`, or `--json`) away.
 *
 * A line is shown for:
 *   - the first event of an skb in a namespace: where it comes out (a socket sends it) or in
 *     (a device hands it over);
 *   - the first milestone of each kind on an skb in that namespace (MILESTONES): the device
 *     it is queued to, the socket lookup, a reset or ICMP error sent or received, forwarding,
 *     bridging, a retransmission;
 *   - every netfilter step (one per base chain and verdict), every drop, every route lookup
 *     (with --route), every event without an skb (socket-side resets);
 *   - a function's return whose value says the packet went no further (-EPERM, NF_DROP,
 *     NULL, a drop reason...).
 * An skb is a new packet when it is freed (a traced free), or when an IPv4 event of it
 * carries another IP ID than its last one: a UDP datagram its socket reads is freed with no
 * tracepoint, and its skb's address comes back for the next datagram.
 * Everything else on the way (the functions between two milestones, returns that let the
 * packet go on, the frees that are no drops) is folded: counted, not printed. What a shown line says is what
 * its event saw; nothing is merged.
 */
import type { RawEvent } from '../engine/event.js';
import { EV_DROP, EV_RET } from '../engine/event.js';
import type { ReturnValue } from '../functions/returns.js';

/** A milestone of a packet's path: the first of each kind on an skb, per namespace, is shown. */
export type Milestone = 'device' | 'socket' | 'reset' | 'reset-in' | 'icmp-error' | 'forward' | 'bridge' | 'retransmit' | 'checksum';

/** Probes (functions and tracepoints alike) that mark a milestone. */
export const MILESTONES: Readonly<Record<string, Milestone>> = {
  __dev_queue_xmit: 'device',
  dev_queue_xmit: 'device',
  net_dev_queue: 'device',
  tcp_v4_rcv: 'socket',
  tcp_v6_rcv: 'socket',
  udp_rcv: 'socket',
  __udp4_lib_rcv: 'socket',
  udpv6_rcv: 'socket',
  __udp6_lib_rcv: 'socket',
  icmp_rcv: 'socket',
  icmpv6_rcv: 'socket',
  tcp_v4_send_reset: 'reset',
  tcp_v6_send_reset: 'reset',
  tcp_send_reset: 'reset',
  tcp_reset: 'reset-in',
  tcp_receive_reset: 'reset-in',
  __icmp_send: 'icmp-error',
  icmp6_send: 'icmp-error',
  icmp_send: 'icmp-error',
  ip_forward: 'forward',
  ip6_forward: 'forward',
  br_handle_frame: 'bridge',
  br_handle_frame_finish: 'bridge',
  br_forward: 'bridge',
  br_dev_xmit: 'bridge',
  tcp_retransmit_skb: 'retransmit',
  tcp_bad_csum: 'checksum',
};

/** Probes shown whenever they fire (each is one decision of the stack, not a step on the way). */
const ALWAYS: ReadonlySet<string> = new Set(['fib_table_lookup', 'fib6_table_lookup']);

/** Probes after which the skb's address may be a new packet's. */
const FREES: ReadonlySet<string> = new Set([
  'kfree_skb', 'consume_skb', '__kfree_skb', 'kfree_skb_reason', 'sk_skb_reason_drop', 'napi_consume_skb',
  'kfree_skb_list_reason', 'dev_kfree_skb_any_reason', 'dev_kfree_skb_irq_reason',
]);

/** skbs remembered at once; the oldest is forgotten first (a forgotten skb only shows one line more). */
const MAX_SKBS = 16_384;

/** Per namespace the skb was seen in: the milestones shown there (0: no namespace known yet); and the packet's IPv4 ID. */
type SkbSeen = Map<number, Set<Milestone>> & { ipId?: number };

/** Names the view needs for an event (src/output/resolver.ts). */
export interface ViewNames {
  probeName(id: number): string;
  returnOf?(id: number, raw: bigint): ReturnValue | undefined;
}

export class ShortView {
  private readonly skbs = new Map<bigint, SkbSeen>();

  /** `evidence`: probes shown whenever they fire (the catalogue's evidence probes: an XDP error, a full accept queue...) */
  constructor(
    private readonly names: ViewNames,
    private readonly evidence: ReadonlySet<string> = new Set(),
  ) {}

  /** Whether the short view prints this event (called once per event, in output order). */
  shows(ev: RawEvent): boolean {
    const name = this.names.probeName(ev.probe);
    const decided = this.always(ev, name);
    if (decided !== null) {
      if (ev.skb && FREES.has(name)) this.skbs.delete(ev.skb);
      return decided;
    }
    // a free ends the skb: no new namespace or milestone there (a clone freed after its transmit, say)
    if (FREES.has(name)) return void this.skbs.delete(ev.skb), false;
    return this.milestone(ev, name);
  }

  /** true or false for the events that are shown or folded whatever came before; null: it depends. */
  private always(ev: RawEvent, name: string): boolean | null {
    if (ev.nf || ev.flags & EV_DROP || ALWAYS.has(name) || this.evidence.has(name)) return true;
    if (ev.flags & EV_RET) return this.names.returnOf?.(ev.probe, ev.location)?.failed === true;
    if (!ev.skb) return MILESTONES[name] !== undefined;
    return null;
  }

  /**
   * The first event of the skb in a namespace, or its first milestone of a kind there (an
   * skb goes back and forth: a veth's transmit returns in the sender's namespace after the
   * receiver's took it). No namespace known (0) counts as the one it was last seen in.
   */
  private milestone(ev: RawEvent, name: string): boolean {
    let seen = this.skbs.get(ev.skb);
    // the skb's address came back for another packet (its free was not traced)
    if (seen && ev.ipId !== undefined && seen.ipId !== undefined && ev.ipId !== seen.ipId) seen = undefined;
    if (!seen) {
      seen = new Map();
      this.remember(ev.skb, seen);
    }
    if (ev.ipId !== undefined) seen.ipId = ev.ipId;
    const ns = ev.netns === 0 && seen.size ? [...seen.keys()].pop()! : ev.netns;
    let milestones = seen.get(ns);
    const first = milestones === undefined;
    if (!milestones) {
      milestones = new Set();
      seen.set(ns, milestones);
    }
    const m = MILESTONES[name];
    if (m === undefined || milestones.has(m)) return first;
    milestones.add(m);
    return true;
  }

  private remember(skb: bigint, seen: SkbSeen): void {
    this.skbs.delete(skb);
    if (this.skbs.size >= MAX_SKBS) this.skbs.delete(this.skbs.keys().next().value!);
    this.skbs.set(skb, seen);
  }
}
