/**
 * RawEvent + Resolver -> DEvent: names looked up once per distinct value, the flow
 * interned (one FlowId per conversation, either direction), the stage classified.
 * Bounded: the flow table holds at most `maxFlows` entries (the engine evicts).
 */
import { EV_DROP, EV_FROM_FLOW, EV_RET } from '../engine/event.js';
import type { RawEvent, RawTuple } from '../engine/event.js';
import type { Resolver } from '../output/resolver.js';

/** What the engine asks of a resolver: names for probes, drop reasons, addresses, namespaces. */
export type Names = Pick<Resolver, 'probeName' | 'dropReason' | 'symbol' | 'netnsName'>;
import { IPPROTO_TCP, IPPROTO_UDP, protoName } from '../output/tuple.js';
import { formatAddr } from '../shared/addr.js';
import { routeOf, ROUTE_PROBES } from '../route/route.js';
import type { DEvent, FlowId, Stage } from './model.js';
import { stageOf } from './stages.js';
import { Ev, macHi, macLo, makeSpot, NO_RARE, packIp, packShape } from './devent.js';
import type { RareParts, Site, Spot } from './devent.js';

const IPPROTO_ICMP = 1;
const IPPROTO_ICMPV6 = 58;

function isEcho(l4: number, type: number): boolean {
  return l4 === IPPROTO_ICMPV6 ? type === 128 || type === 129 : type === 0 || type === 8;
}

function addrKey(b: Uint8Array, family: 4 | 6): string {
  if (family === 4) return String((((b[0] ?? 0) << 24) | ((b[1] ?? 0) << 16) | ((b[2] ?? 0) << 8) | (b[3] ?? 0)) >>> 0);
  let s = '';
  for (let i = 0; i < 16; i++) s += (b[i] ?? 0).toString(16).padStart(2, '0');
  return s;
}

/** "tcp 10.0.0.1:40000 -> 10.0.0.2:8080" (IPv6 in brackets), "icmp 10.0.0.1 -> 10.0.0.2". */
export function flowText(f: FlowId, dir: 0 | 1 = 0): string {
  const [x, y] = dir === 0 ? [f.a, f.b] : [f.b, f.a];
  const ports = f.proto === 'tcp' || f.proto === 'udp';
  const w = (a: string): string => (f.family === 6 && ports ? `[${a}]` : a);
  return ports ? `${f.proto} ${w(x.addr)}:${x.port} -> ${w(y.addr)}:${y.port}` : `${f.proto} ${x.addr} -> ${y.addr}`;
}

/** A tuple looked up lately, copied: consecutive events are mostly the same packet, or its reply. */
class LastTuple {
  fam = 0;
  l4 = -1;
  sp = -1;
  dp = -1;
  readonly s = new Uint8Array(16);
  readonly d = new Uint8Array(16);
  flow: FlowId | null = null;
  dir: 0 | 1 = 0;

  same(t: RawTuple, sp: number, dp: number): boolean {
    if (this.flow === null || t.family !== this.fam || t.l4proto !== this.l4 || sp !== this.sp || dp !== this.dp) return false;
    const n = t.family === 4 ? 4 : 16;
    for (let i = 0; i < n; i++) if (t.saddr[i] !== this.s[i] || t.daddr[i] !== this.d[i]) return false;
    return true;
  }

  remember(t: RawTuple, sp: number, dp: number, flow: FlowId, dir: 0 | 1): void {
    this.fam = t.family;
    this.l4 = t.l4proto;
    this.sp = sp;
    this.dp = dp;
    const n = t.family === 4 ? 4 : 16;
    for (let i = 0; i < n; i++) {
      this.s[i] = t.saddr[i] ?? 0;
      this.d[i] = t.daddr[i] ?? 0;
    }
    this.flow = flow;
    this.dir = dir;
  }
}

function v4(b: Uint8Array): number {
  return (((b[0] ?? 0) << 24) | ((b[1] ?? 0) << 16) | ((b[2] ?? 0) << 8) | (b[3] ?? 0)) >>> 0;
}


export class FlowTable {
  /** l4 protocol -> lower endpoint -> higher endpoint -> flow */
  private readonly byProto: (Map<string | number, Map<string | number, FlowId>> | undefined)[] = [];
  private next = 1;
  /** the last two tuples looked up (a packet and its reply take turns): the newest, then the other */
  private last = new LastTuple();
  private other = new LastTuple();

  /**
   * The direction of the tuple last found in its flow (0: a -> b), set by lookup(): not an
   * answer object per flow and direction (thousands of flows are held).
   */
  dir: 0 | 1 = 0;

  /** The flow of a tuple (its direction in it: `dir`); null for tuples without addresses. */
  lookup(t: RawTuple | null, create: boolean): FlowId | null {
    if (!t || (t.family !== 4 && t.family !== 6)) return null;
    const icmp = t.l4proto === IPPROTO_ICMP || t.l4proto === IPPROTO_ICMPV6;
    const echoId = icmp && isEcho(t.l4proto, t.icmpType) ? t.icmpId : 0;
    const sp = icmp ? echoId : t.sport;
    const dp = icmp ? echoId : t.dport;
    if (this.last.same(t, sp, dp)) return this.found(this.last.flow, this.last.dir);
    const older = this.other;
    this.other = this.last;
    this.last = older;
    if (older.same(t, sp, dp)) return this.found(older.flow, older.dir);
    const fam = t.family;
    let s: string | number;
    let d: string | number;
    if (fam === 4) {
      // IPv4: each endpoint as one number (address * 65536 + port), no strings
      s = v4(t.saddr) * 65536 + sp;
      d = v4(t.daddr) * 65536 + dp;
    } else {
      s = addrKey(t.saddr, fam) + ':' + sp;
      d = addrKey(t.daddr, fam) + ':' + dp;
    }
    const lo = s < d ? s : d;
    const hi = s < d ? d : s;
    let byLo = this.byProto[t.l4proto & 0xff]?.get(lo);
    let flow = byLo?.get(hi);
    if (!flow) {
      if (!create) return null;
      flow = {
        id: this.next++,
        proto: protoName(t.l4proto, t.l3proto),
        family: fam,
        a: { addr: formatAddr(t.saddr, fam), port: sp },
        b: { addr: formatAddr(t.daddr, fam), port: dp },
        l4: t.l4proto & 0xff,
        aKey: s,
        bKey: d,
      };
      const byP = (this.byProto[t.l4proto & 0xff] ??= new Map());
      if (!byLo) byP.set(lo, (byLo = new Map()));
      byLo.set(hi, flow);
    }
    // a is the first sender; same addresses both ways (a packet to itself) count as a -> b
    const dir = s === flow.aKey ? 0 : 1;
    this.last.remember(t, sp, dp, flow, dir);
    return this.found(flow, dir);
  }

  private found(flow: FlowId | null, dir: 0 | 1): FlowId | null {
    this.dir = dir;
    return flow;
  }

  /** Forgets a flow: its place in the tables is its keys' (a table of keys, and a key string, were ten objects more per flow). */
  delete(flow: FlowId): void {
    const s = flow.aKey;
    const d = flow.bKey;
    const lo = s < d ? s : d;
    const hi = s < d ? d : s;
    const byP = this.byProto[flow.l4];
    const byLo = byP?.get(lo);
    if (byLo?.get(hi) === flow) {
      byLo.delete(hi);
      if (byLo.size === 0) byP!.delete(lo);
    }
    this.last.flow = null;
    this.other.flow = null;
  }
}

/**
 * The function of a location symbol: "tcp_v4_rcv+0x9e" -> "tcp_v4_rcv". A module's symbol
 * carries its module too ("nft_do_chain+0x40f [nf_tables]", "veth_xdp_rcv_skb+0x1f2 [veth]"
 * on distribution kernels): rules match the bare function name.
 */
export function functionOf(symbol: string): string {
  return symbol.replace(/\+0x[0-9a-f]+(\/0x[0-9a-f]+)?( \[[\w.-]+\])?$/, '');
}

export interface ProbeInfo {
  readonly name: string;
  readonly stage: Stage;
  readonly route: boolean;
  /** the Spots of this probe's last two events: the next one is mostly at one of them (a packet and its reply; NameCache.spot) */
  last: Spot | null;
  prev: Spot | null;
}

function probeInfo(name: string): ProbeInfo {
  return { name, stage: stageOf(name), route: ROUTE_PROBES.has(name), last: null, prev: null };
}

/** A Site as NameCache keeps it: with the chain of its Spots. */
interface SiteEntry extends Site {
  spots: Spot | null;
}

/** Spots kept per Site; beyond, an event's Spot is its own (a Site has a few: stage, protocol, MAC). */
const MAX_SPOTS = 64;

function sameSpot(s: Spot, netns: number, dev: string, stage: Stage, proto: string, hi: number, lo: number): boolean {
  return s.netns === netns && s.dev === dev && s.stage === stage && s.proto === proto && s.macHi === hi && s.macLo === lo;
}

/** Names for numbers, memoized: the same few probes, reasons and locations recur. */
export class NameCache {
  private readonly probes = new Map<number, ProbeInfo>();
  private readonly reasons = new Map<number, string>();
  private readonly symbols = new Map<bigint, string>();
  private readonly places = new Map<number, Map<string, Map<string, SiteEntry>>>();
  private readonly ends = new Map<string | null, Map<string | null, RareParts>>();
  /** the netfilter steps' probe (its `last` is this cache's) */
  readonly nfProbe = probeInfo('netfilter');
  constructor(readonly r: Names) {}

  /** "probe@netns/dev", interned: netns -> probe -> dev */
  place(probe: string, netns: number, dev: string): string {
    return this.site(probe, netns, dev).place;
  }

  /** The Site of (probe, netns, dev), interned: netns -> probe -> dev */
  site(probe: string, netns: number, dev: string): SiteEntry {
    let byNs = this.places.get(netns);
    if (!byNs) {
      if (this.places.size > 4096) this.places.clear();
      this.places.set(netns, (byNs = new Map()));
    }
    let byProbe = byNs.get(probe);
    if (!byProbe) byNs.set(probe, (byProbe = new Map()));
    let v = byProbe.get(dev);
    if (v === undefined) {
      if (byProbe.size > 1024) byProbe.clear();
      byProbe.set(dev, (v = { probe, netns, dev, place: probe + '@' + netns + '/' + dev, spots: null }));
    }
    return v;
  }

  /** The Spot of an event of probe `info`: one of its last two when the same, else the Site's (interned). */
  spot(info: ProbeInfo, netns: number, dev: string, stage: Stage, proto: string, mac: Uint8Array): Spot {
    const hi = macHi(mac);
    const lo = macLo(mac);
    const last = info.last;
    if (last !== null && sameSpot(last, netns, dev, stage, proto, hi, lo)) return last;
    const prev = info.prev;
    const s = prev !== null && sameSpot(prev, netns, dev, stage, proto, hi, lo) ? prev : this.interned(info.name, netns, dev, stage, proto, hi, lo);
    info.prev = last;
    info.last = s;
    return s;
  }

  private interned(probe: string, netns: number, dev: string, stage: Stage, proto: string, hi: number, lo: number): Spot {
    const site = this.site(probe, netns, dev);
    let n = 0;
    let tail: Spot | null = null;
    for (let s = site.spots; s !== null; s = s.next, n++) {
      if (sameSpot(s, netns, dev, stage, proto, hi, lo)) return s;
      tail = s;
    }
    const made = makeSpot(site, netns, site.place, stage, proto, hi, lo);
    if (n >= MAX_SPOTS) return made;
    if (tail === null) site.spots = made;
    else tail.next = made;
    return made;
  }

  /** The rare parts of a drop or free that has nothing rarer (its reason and location), interned: flows keep their drops and frees. */
  ended(reason: string | null, at: string | null): RareParts {
    let byAt = this.ends.get(reason);
    if (!byAt) {
      if (this.ends.size > 1024) this.ends.clear();
      this.ends.set(reason, (byAt = new Map()));
    }
    let v = byAt.get(at);
    if (v === undefined) {
      if (byAt.size > 4096) byAt.clear();
      byAt.set(at, (v = { reason, at, nf: null, route: null, sent: null, related: false, fexit: false }));
    }
    return v;
  }

  /** A probe's name, stage (by its name) and whether it is a route lookup, looked up once. */
  probe(id: number): ProbeInfo {
    let v = this.probes.get(id);
    if (v === undefined) this.probes.set(id, (v = probeInfo(this.r.probeName(id))));
    return v;
  }
  reason(v: number): string {
    let s = this.reasons.get(v);
    if (s === undefined) this.reasons.set(v, (s = this.r.dropReason(v)));
    return s;
  }
  /** location function, without "+0x..." or its module */
  at(addr: bigint): string | null {
    if (addr === 0n) return null;
    let s = this.symbols.get(addr);
    if (s === undefined) {
      if (this.symbols.size > 65536) this.symbols.clear();
      this.symbols.set(addr, (s = functionOf(this.r.symbol(addr))));
    }
    return s;
  }
}

/** A function backend's return event that is not a netfilter verdict (those are steps of their own). */
export function isPlainReturn(ev: RawEvent): boolean {
  return (ev.flags & EV_RET) !== 0 && !ev.nf && !ev.nfNames;
}

/** Builds the engine's view of one event; `n` is its ordinal in the stream. */
export function normalize(ev: RawEvent, n: number, names: NameCache, flows: FlowTable): DEvent {
  const info = ev.nf ? names.nfProbe : names.probe(ev.probe);
  const probe = info.name;
  const drop = (ev.flags & EV_DROP) !== 0;
  // a kfree_skb event without a reason flag is a plain free
  const stage = info.stage === 'drop' && !drop ? 'free' : ev.nf ? 'nf' : info.stage;
  const t = ev.tuple;
  const isRoute = info.route;
  // route lookups describe a flow before its source is chosen: attach only to a known flow
  // a socket before connect() chose its port (SYN_SENT, sport 0) names no flow yet: attach only to a known one
  const unbound = t !== null && (t.l4proto === IPPROTO_TCP || t.l4proto === IPPROTO_UDP) && (t.sport === 0 || t.dport === 0);
  const fd = flows.lookup(t, !isRoute && !unbound && !(ev.flags & EV_FROM_FLOW));
  const fdDir = flows.dir;
  const inner = ev.inner ? flows.lookup(ev.inner, false) : null;
  const dir = inner !== null ? flows.dir : fdDir;
  const icmp = t !== null && (t.l4proto === IPPROTO_ICMP || t.l4proto === IPPROTO_ICMPV6);
  const route = isRoute ? routeOf(ev) : null;
  const target = inner ?? fd;
  const reason = drop ? names.reason(ev.dropReason) : null;
  const at = drop || stage === 'free' ? names.at(ev.location) : null;
  const sent = probe === 'icmp_send' ? { type: (ev.aux >>> 8) & 0xff, code: ev.aux & 0xff } : null;
  const onlyEnd = !ev.nf && route === null && sent === null && inner === null && !ev.nfNames;
  const rare = onlyEnd
    ? reason === null && at === null ? NO_RARE : names.ended(reason, at)
    : { reason, at, nf: ev.nf ?? null, route: route ? { type: route.type, err: route.err, oif: route.oif, table: route.table } : null, sent, related: inner !== null, fexit: !!ev.nfNames };
  const shape = packShape(target !== null ? dir : 0, t && t.l4proto === 6 ? t.tcpFlags : 0, icmp ? t.icmpType : -1, icmp ? t.icmpCode : -1);
  const proto = t ? protoName(t.l4proto, t.l3proto) : '';
  const spot = names.spot(info, ev.netns, ev.ifname, stage, proto, ev.dstMac);
  return new Ev(n, Number(ev.tsNs), spot, ev.skb, target, shape, ev.len, false, packIp(ev.ipTtl, ev.ipId), ev.aux, rare);
}
