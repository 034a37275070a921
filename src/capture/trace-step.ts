/**
 * A kernel event as a step of a packet's life for the pcapng writer (trace-pcapng.ts):
 * names from the run's resolver, the same ones the text and --json output print, so a
 * packet's comment and the events of the run agree.
 */
import type { RawEvent } from '../engine/event.js';
import { EV_DROP } from '../engine/event.js';
import type { Resolver } from '../output/resolver.js';
import { protoName, tcpFlagsText, IPPROTO_TCP } from '../output/tuple.js';
import { formatAddr } from '../shared/addr.js';
import type { Direction } from './pcapng.js';
import type { TraceStep } from './trace-pcapng.js';

/** Probes where a device receives the packet, and where it hands it to a device. */
const IN = new Set(['netif_receive_skb', 'napi_gro_receive_entry', 'netif_rx']);
const OUT = new Set(['net_dev_queue', 'net_dev_start_xmit', 'net_dev_xmit', 'qdisc_enqueue', 'qdisc_dequeue']);
/** Probes that end an skb's life. */
const END = new Set(['kfree_skb', 'consume_skb']);

export function directionOf(probe: string): Direction | null {
  return IN.has(probe) ? 'in' : OUT.has(probe) ? 'out' : null;
}

/** "tcp 10.0.0.1:40000 -> 10.0.0.2:8080 [SYN]" as the tuple says; "packet of N bytes" without one. */
export function packetSummary(ev: RawEvent): string {
  const t = ev.tuple;
  if (!t || t.family === 0) return `packet of ${ev.len} bytes`;
  const fam: 4 | 6 = t.family;
  const a = (addr: Uint8Array, port: number): string => {
    const s = formatAddr(addr, fam);
    const host = fam === 6 ? `[${s}]` : s;
    return port ? `${host}:${port}` : host;
  };
  const flags = t.l4proto === IPPROTO_TCP ? ` [${tcpFlagsText(t.tcpFlags)}]` : '';
  return `${protoName(t.l4proto, t.l3proto)} ${a(t.saddr, t.sport)} -> ${a(t.daddr, t.dport)}${flags}`;
}

/** The network protocol of the captured bytes: the tuple's, else the IP version nibble. */
function protocolOf(ev: RawEvent): number {
  if (ev.tuple?.l3proto) return ev.tuple.l3proto;
  const v = ev.bytes?.[0] !== undefined ? ev.bytes[0] >> 4 : 0;
  return v === 6 ? 0x86dd : 0x0800;
}

export function traceStep(ev: RawEvent, n: number, names: Resolver): TraceStep {
  const probe = names.probeName(ev.probe);
  const drop = ev.flags & EV_DROP ? { reason: names.dropReason(ev.dropReason), location: names.symbol(ev.location) } : null;
  const nf = ev.nf ? { hook: `${ev.nf.pf}.${ev.nf.table}.${ev.nf.chain}`, verdict: ev.nf.verdict, rule: ev.nf.rule } : null;
  return {
    n,
    tsNs: names.wallClockNs(ev.tsNs),
    skb: ev.skb,
    probe,
    netns: names.netnsName(ev.netns) ?? String(ev.netns),
    dev: ev.ifname,
    ifindex: ev.ifindex,
    dir: directionOf(probe),
    bytes: ev.bytes ?? null,
    len: ev.len,
    protocol: protocolOf(ev),
    // the cooked header's address is the sender's MAC; the event has the destination's: none rather than a wrong one
    mac: null,
    summary: () => packetSummary(ev),
    netfilter: nf,
    drop,
    last: drop !== null || END.has(probe),
  };
}
