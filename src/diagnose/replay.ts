/**
 * A saved `pktpath trace --json` run, read back as RawEvents for the engine: the names
 * in the lines (probes, drop reasons, locations, namespaces) become numbers again, and a
 * resolver built from the same lines turns them back into the same names. Used by the
 * scenario tests, the benchmark, and `diagnose` on a recorded trace.
 *
 * Fields the kernel side may add later are read when present, under these JSON names:
 * ttl, ip_id, tcp_seq, tcp_ack, tcp_win, gso_size, gso_segs, mtu, icmp_mtu, inner (a
 * tuple like `tuple`).
 */
import { EV_DROP, EV_FROM_FLOW, EV_HAS_TUPLE, EV_KEPT, EV_RET } from '../engine/event.js';
import type { RawEvent, RawTuple, Tuple } from '../engine/event.js';
import type { Names as EngineNames } from './normalize.js';
import { TCP_FLAG_ORDER } from '../output/tuple.js';
import { parseAddr } from '../shared/addr.js';

/** One line of `trace --json`, as far as the engine reads it. */
export interface JsonEvent {
  ts_ns: number | string;
  netns: number;
  netns_name?: string;
  ifname?: string;
  ifindex?: number;
  dst_mac?: string;
  skb?: string;
  pkt_type?: number;
  mark?: number;
  len?: number;
  pid?: number;
  cpu?: number;
  comm?: string;
  probe: string;
  tuple?: JsonTuple | null;
  drop_reason?: string;
  location?: string;
  kept?: boolean;
  info?: Record<string, number | string>;
  nf?: RawEvent['nf'];
  route?: { table: number; type: string; oif: string; gw: string; err: number };
  related?: boolean;
  /** a function return's value (function backends) */
  ret?: number | string;
  ttl?: number;
  ip_id?: number;
  tcp_seq?: number;
  tcp_ack?: number;
  tcp_win?: number;
  gso_size?: number;
  gso_segs?: number;
  mtu?: number;
  icmp_mtu?: number;
  inner?: JsonTuple | null;
}

/** A tuple as --json writes it: the decoded event's own. */
export type JsonTuple = Tuple;

const L4: Readonly<Record<string, number>> = { tcp: 6, udp: 17, icmp: 1, icmpv6: 58 };
const RTN = ['unspec', 'unicast', 'local', 'broadcast', 'anycast', 'multicast', 'blackhole', 'unreachable', 'prohibit', 'throw', 'nat', 'xresolve'];
const FLAG_BIT = new Map(TCP_FLAG_ORDER.map(([bit, name]) => [name, bit]));

function tupleOf(t: JsonTuple | null | undefined): RawTuple | null {
  if (!t) return null;
  const s = parseAddr(t.saddr);
  const d = parseAddr(t.daddr);
  const family = s?.family ?? d?.family ?? 0;
  const flags = t.flags ? t.flags.split(',').reduce((b, f) => b | (FLAG_BIT.get(f.trim()) ?? 0), 0) : 0;
  return {
    family,
    saddr: s?.bytes ?? new Uint8Array(family === 6 ? 16 : 4),
    daddr: d?.bytes ?? new Uint8Array(family === 6 ? 16 : 4),
    sport: t.sport,
    dport: t.dport,
    l3proto: t.proto === 'arp' ? 0x0806 : family === 6 ? 0x86dd : family === 4 ? 0x0800 : 0,
    l4proto: L4[t.proto] ?? (Number.isInteger(Number(t.proto)) ? Number(t.proto) : 0),
    tcpFlags: flags,
    icmpType: t.icmp_type ?? 0,
    icmpCode: t.icmp_code ?? 0,
    icmpId: t.icmp_id ?? 0,
  };
}

function macOf(text: string | undefined): Uint8Array {
  const m = new Uint8Array(6);
  (text ?? '').split(':').forEach((h, i) => i < 6 && (m[i] = parseInt(h, 16) || 0));
  return m;
}

/** Turns names into numbers and back, consistently over one replay. */
export class ReplayResolver implements EngineNames {
  private readonly probeIds = new Map<string, number>();
  private readonly probeNames: string[] = [];
  private readonly reasonIds = new Map<string, number>();
  private readonly reasonNames: string[] = [];
  private readonly locAddrs = new Map<string, bigint>();
  private readonly locNames = new Map<bigint, string>();
  readonly netnsNames = new Map<number, string>();

  probeId(name: string): number {
    return intern(name, this.probeIds, this.probeNames);
  }
  reasonId(name: string): number {
    return intern(name, this.reasonIds, this.reasonNames);
  }
  locationAddr(sym: string): bigint {
    let a = this.locAddrs.get(sym);
    if (a === undefined) {
      a = 0xffffffff81000000n + BigInt(this.locAddrs.size) * 0x1000n;
      this.locAddrs.set(sym, a);
      this.locNames.set(a, sym);
    }
    return a;
  }
  probeName(id: number): string {
    return this.probeNames[id] ?? `probe#${id}`;
  }
  dropReason(value: number): string {
    return this.reasonNames[value] ?? String(value);
  }
  symbol(addr: bigint): string {
    return this.locNames.get(addr) ?? `0x${addr.toString(16)}`;
  }
  netnsName(inode: number): string | undefined {
    return this.netnsNames.get(inode);
  }
  wallClockNs(monoNs: bigint): bigint {
    return monoNs;
  }
}

function intern(name: string, ids: Map<string, number>, names: string[]): number {
  let id = ids.get(name);
  if (id === undefined) {
    id = names.length;
    ids.set(name, id);
    names.push(name);
  }
  return id;
}

function auxOf(j: JsonEvent): { aux: number; aux2: number } {
  const i = j.info ?? {};
  const num = (v: unknown): number => (typeof v === 'string' ? parseInt(v, v.startsWith('0x') ? 16 : 10) : typeof v === 'number' ? v : 0) | 0;
  if (j.probe === 'icmp_send') return { aux: (num(i.type) << 8) | num(i.code), aux2: 0 };
  if (j.route) return { aux: j.route.err, aux2: j.route.table };
  return { aux: num(i.rc ?? i.reason ?? i.err ?? i.handle), aux2: num(i.table ?? i.parent) };
}

/** One JSON line -> RawEvent (names interned in `r`). */
export function rawOfJson(j: JsonEvent, r: ReplayResolver): RawEvent {
  if (j.netns_name) r.netnsNames.set(j.netns, j.netns_name);
  const tuple = tupleOf(j.tuple);
  const route = j.route;
  const gw = route?.gw ? parseAddr(route.gw) : null;
  const { aux, aux2 } = auxOf(j);
  const flags = (j.drop_reason ? EV_DROP : 0) | (tuple ? EV_HAS_TUPLE : 0) | (route ? EV_FROM_FLOW : 0) | (j.kept ? EV_KEPT : 0) | (j.ret !== undefined ? EV_RET : 0);
  const ev: RawEvent = {
    tsNs: BigInt(j.ts_ns),
    skb: j.skb ? BigInt(j.skb) : 0n,
    location: j.location ? r.locationAddr(j.location) : 0n,
    netns: j.netns,
    ifindex: j.ifindex ?? 0,
    mark: j.mark ?? 0,
    len: j.len ?? 0,
    pid: j.pid ?? 0,
    dropReason: j.drop_reason ? r.reasonId(j.drop_reason) : 0,
    aux,
    aux2,
    aux3: route ? Math.max(0, RTN.indexOf(route.type)) : 0,
    probe: r.probeId(j.probe),
    cpu: j.cpu ?? 0,
    pktType: j.pkt_type ?? 0,
    flags,
    dstMac: macOf(j.dst_mac),
    ifname: route ? route.oif : (j.ifname ?? ''),
    comm: j.comm ?? '',
    tuple,
    stack: null,
    auxAddr: gw ? { family: gw.family, bytes: gw.bytes } : null,
  };
  if (j.nf) ev.nf = j.nf;
  return withOptional(ev, j);
}

function withOptional(ev: RawEvent, j: JsonEvent): RawEvent {
  if (j.ttl !== undefined) ev.ipTtl = j.ttl;
  if (j.ip_id !== undefined) ev.ipId = j.ip_id;
  if (j.tcp_seq !== undefined) ev.tcpSeq = j.tcp_seq;
  if (j.tcp_ack !== undefined) ev.tcpAck = j.tcp_ack;
  if (j.tcp_win !== undefined) ev.tcpWin = j.tcp_win;
  if (j.gso_size !== undefined) ev.gsoSize = j.gso_size;
  if (j.gso_segs !== undefined) ev.gsoSegs = j.gso_segs;
  if (j.mtu !== undefined) ev.mtu = j.mtu;
  if (j.icmp_mtu !== undefined) ev.icmpMtu = j.icmp_mtu;
  if (j.inner) ev.inner = tupleOf(j.inner);
  if (j.related) ev.related = true;
  return ev;
}

/** Parses `trace --json` text (one object per line); lines that are not events are skipped. */
export function parseJsonLines(text: string): JsonEvent[] {
  const out: JsonEvent[] = [];
  for (const line of text.split('\n')) {
    const l = line.trim();
    if (!l.startsWith('{')) continue;
    try {
      const o = JSON.parse(l) as JsonEvent;
      if (o && typeof o.probe === 'string' && o.ts_ns !== undefined) out.push(o);
    } catch {
      /* a partial last line */
    }
  }
  return out;
}
