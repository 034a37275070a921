/**
 * What the pcapng writer (trace-pcapng.ts) takes from a kernel event for a packet copy: its
 * one-line summary (the same words the text output uses, so a packet's comment and the
 * events of the run agree) and the network protocol of its bytes.
 */
import type { RawEvent } from '../engine/event.js';
import { protoName, tcpFlagsText, IPPROTO_TCP } from '../output/tuple.js';
import { formatAddr } from '../shared/addr.js';
import { hash3 } from '../shared/hash.js';

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
export function protocolOf(ev: RawEvent): number {
  if (ev.tuple?.l3proto) return ev.tuple.l3proto;
  const v = ev.bytes?.[0] !== undefined ? ev.bytes[0] >> 4 : 0;
  return v === 6 ? 0x86dd : 0x0800;
}

const SLOTS = 64;

/**
 * packetSummary for a run's copies: a flow's packets share one summary (TCP's differ by
 * their flags), so the text made for a tuple is kept in a small direct-mapped cache, and
 * a copy costs a compare of its tuple, not new strings.
 */
export class SummaryCache {
  /** per slot: family | l4proto << 8 | tcpFlags << 16, sport << 16 | dport, l3proto */
  private readonly meta = new Uint32Array(SLOTS * 3);
  private readonly addrs = new Uint8Array(SLOTS * 32);
  private readonly texts: string[] = new Array<string>(SLOTS).fill('');

  of(ev: RawEvent): string {
    const t = ev.tuple;
    if (!t || t.family === 0) return packetSummary(ev);
    const m0 = t.family | (t.l4proto << 8) | (t.tcpFlags << 16);
    const m1 = ((t.sport << 16) | t.dport) >>> 0;
    const slot = hash3(m0, m1, (t.saddr[t.saddr.length - 1]! << 8) | t.daddr[t.daddr.length - 1]!) & (SLOTS - 1);
    if (this.texts[slot] && this.meta[slot * 3] === m0 && this.meta[slot * 3 + 1] === m1 && this.meta[slot * 3 + 2] === t.l3proto && this.sameAddrs(slot, t.saddr, t.daddr)) return this.texts[slot]!;
    const text = packetSummary(ev);
    this.meta[slot * 3] = m0;
    this.meta[slot * 3 + 1] = m1;
    this.meta[slot * 3 + 2] = t.l3proto;
    this.addrs.fill(0, slot * 32, slot * 32 + 32);
    this.addrs.set(t.saddr, slot * 32);
    this.addrs.set(t.daddr, slot * 32 + 16);
    this.texts[slot] = text;
    return text;
  }

  private sameAddrs(slot: number, s: Uint8Array, d: Uint8Array): boolean {
    const a = this.addrs;
    for (let i = 0; i < s.length; i++) if (a[slot * 32 + i] !== s[i]) return false;
    for (let i = 0; i < d.length; i++) if (a[slot * 32 + 16 + i] !== d[i]) return false;
    return true;
  }
}
