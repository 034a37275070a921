/**
 * A run's events -> flows and packets. Flows are the diagnosis engine's (its flow table
 * and normalization, so an ICMP error joins the flow it quotes); a packet is one skb's
 * life, split where the engine splits it (freed, dropped, or the address reused by a new
 * packet). Events that carry no skb are put on the packet they belong to:
 *
 * - an nft trace step is stamped when pktpath read it, not when it happened: it goes to
 *   the packet of its flow and direction in its namespace that has no step of that
 *   chain yet, at its hook's place on the road (a DROP just before the drop);
 * - a route lookup and a received reset (tcp_receive_reset) go to the packet of their
 *   flow in their namespace whose events come just before them.
 */
import { FlowTable, NameCache, normalize } from '../diagnose/normalize.js';
import { ReplayResolver, rawOfJson } from '../diagnose/replay.js';
import type { DEvent, FlowId } from '../diagnose/model.js';
import type { Flow, JsonEvent, KeptEvent, Packet, Step } from './model.js';
import { KIND_OF_STAGE } from './kinds.js';
import { QdiscWaits } from '../diagnose/qdisc.js';
import { nfRank, placeUntimed, rankOf } from './road.js';


/** Packets more than this far apart are two that shared an skb address (the engine's LIFE_GAP_NS). */
const LIFE_GAP_NS = 5e9;

interface Life {
  readonly skb: string;
  readonly steps: Step[];
  readonly ds: DEvent[];
}

/** ICMP types that are errors about another packet (v4: unreachable, quench, redirect, time exceeded, parameter; v6: 1-4). */
function isIcmpError(proto: string, type: number): boolean {
  return proto === 'icmpv6' ? type >= 1 && type <= 4 : [3, 4, 5, 11, 12].includes(type);
}

function untimed(d: DEvent, j: JsonEvent): boolean {
  return d.stage === 'nf' && (j.skb === undefined || j.skb === '0x0');
}

/** An event the engine would start a new packet with (engine.ts isNewPacket, on DEvents). */
function startsNewPacket(life: Life, e: DEvent): boolean {
  const last = life.ds[life.ds.length - 1];
  if (!last) return false;
  if (e.ts - last.ts > LIFE_GAP_NS) return true;
  if (e.flow && last.flow && e.flow !== last.flow && !e.related) return true;
  if (e.flow && last.flow === e.flow && last.dir !== e.dir && !e.related && e.stage !== 'tcp-rst-send' && e.stage !== 'icmp-send') return true;
  const txSide = e.stage === 'tx-queue' || e.stage === 'qdisc-in' || e.stage === 'qdisc-out' || e.stage === 'tx';
  // a packet is sent only from where it was made or where it arrived: an untraced free let the address be reused
  if (txSide && e.netns !== life.ds[0]!.netns && !life.ds.some((x) => x.netns === e.netns && x.stage === 'rx')) return true;
  if (e.stage !== 'tx-queue' && e.stage !== 'rx') return false;
  return life.ds.some((x) => x.probe === e.probe && x.netns === e.netns && x.dev === e.dev);
}

export interface Grouped {
  readonly flows: readonly Flow[];
  /** events with no flow (no IP header parsed): counted, drawn only on the timeline */
  readonly loose: readonly Step[];
}

/** Groups a run's events into flows and packets. */
export function groupPackets(events: readonly KeptEvent[]): Grouped {
  return new Grouper().run(events);
}

class Grouper {
  private readonly resolver = new ReplayResolver();
  private readonly names = new NameCache(this.resolver);
  private readonly table = new FlowTable();
  private readonly open = new Map<string, Life>();
  private readonly lives: Life[] = [];
  private readonly skbless: { step: Step; d: DEvent }[] = [];
  private readonly loose: Step[] = [];
  private readonly flowIds = new Map<number, FlowId>();
  private readonly flowEvents = new Map<number, number>();
  private readonly waits = new QdiscWaits();

  run(events: readonly KeptEvent[]): Grouped {
    for (const k of events) this.add(k);
    for (const l of this.open.values()) this.lives.push(l);
    const byFlow = new Map<number, Life[]>();
    for (const l of this.lives) {
      const f = l.ds[0]!.flow!.id;
      let list = byFlow.get(f);
      if (!list) byFlow.set(f, (list = []));
      list.push(l);
    }
    for (const { step, d } of this.skbless) this.attach(step, d, byFlow);
    const flows = [...this.flowIds.values()].map((f) => this.flowOf(f, byFlow.get(f.id) ?? []));
    return { flows, loose: this.loose };
  }

  private add(k: KeptEvent): void {
    const d = normalize(rawOfJson(k.j, this.resolver), k.n, this.names, this.table);
    const wait = d.stage === 'qdisc-in' ? (this.waits.enqueue(d), null) : d.stage === 'qdisc-out' ? this.waits.dequeue(d) : null;
    const step: Step = { n: k.n, j: k.j, kind: KIND_OF_STAGE[d.stage], netns: d.netns, dev: d.dev, ts: untimed(d, k.j) ? null : d.ts, ...(wait !== null ? { waitNs: wait } : {}) };
    if (!d.flow) {
      this.loose.push(step);
      return;
    }
    this.flowIds.set(d.flow.id, d.flow);
    this.flowEvents.set(d.flow.id, (this.flowEvents.get(d.flow.id) ?? 0) + 1);
    const skb = k.j.skb ?? '0x0';
    if (skb === '0x0' || d.stage === 'nf' || d.stage === 'route' || d.stage === 'tcp-rst-recv') {
      this.skbless.push({ step, d });
      return;
    }
    let life = this.open.get(skb);
    if (life && startsNewPacket(life, d)) {
      this.lives.push(life);
      life = undefined;
    }
    if (!life) this.open.set(skb, (life = { skb, steps: [], ds: [] }));
    const prev = life.steps[life.steps.length - 1];
    life.steps.push(step.netns === 0 && prev ? { ...step, netns: prev.netns } : step);
    life.ds.push(d);
    if (d.stage === 'drop' || d.stage === 'free') {
      this.open.delete(skb);
      this.lives.push(life);
    }
  }

  /** Puts an event without an skb on its packet (or on a packet of its own). */
  private attach(step: Step, d: DEvent, byFlow: Map<number, Life[]>): void {
    const lives = byFlow.get(d.flow!.id) ?? [];
    const t = d.ts;
    const sameWay = (l: Life): boolean => l.ds[0]!.dir === d.dir && !l.ds[0]!.related;
    const inNs = (l: Life): boolean => l.steps.some((s) => s.netns === step.netns);
    const before = (l: Life): boolean => l.ds[0]!.ts <= t;
    let pick: Life | undefined;
    if (d.stage === 'nf') {
      const chain = `${d.nf?.table}.${d.nf?.chain}`;
      const free = (l: Life): boolean => !l.ds.some((x) => x.stage === 'nf' && `${x.nf?.table}.${x.nf?.chain}` === chain && x.netns === d.netns);
      const cands = lives.filter((l) => sameWay(l) && inNs(l) && before(l));
      pick = cands.find(free) ?? cands[cands.length - 1];
    } else {
      const cands = lives.filter((l) => inNs(l) && before(l) && (d.stage !== 'tcp-rst-recv' || l.ds[0]!.dir === d.dir));
      pick = cands[cands.length - 1];
    }
    if (!pick) {
      const own: Life = { skb: '0x0', steps: [step], ds: [d] };
      lives.push(own);
      byFlow.set(d.flow!.id, lives);
      return;
    }
    const at = d.stage === 'nf' ? placeUntimed(pick.steps, step, nfRank(d.nf?.hook ?? d.nf?.chain ?? '', d.nf?.verdict ?? '')) : placeByTime(pick.steps, step);
    pick.steps.splice(at, 0, step);
    pick.ds.splice(at, 0, d);
  }

  private flowOf(f: FlowId, lives: readonly Life[]): Flow {
    const ports = f.proto === 'tcp' || f.proto === 'udp';
    const ep = (e: { addr: string; port: number }): string => (ports ? (f.family === 6 ? `[${e.addr}]:${e.port}` : `${e.addr}:${e.port}`) : e.addr);
    const sorted = [...lives].sort((x, y) => firstTs(x) - firstTs(y));
    const packets: Packet[] = [];
    for (const l of sorted) packets.push(packetOf(l, packets, f));
    return { id: f.id, proto: f.proto, a: ep(f.a), b: ep(f.b), aAddr: f.a.addr, bAddr: f.b.addr, packets, events: this.flowEvents.get(f.id) ?? 0 };
  }
}

function firstTs(l: Life): number {
  return l.ds.reduce((m, d, i) => (l.steps[i]!.ts === null ? m : Math.min(m, d.ts)), Infinity);
}

/** After the last step of the same namespace at or before this time (a route lookup, a reset received). */
function placeByTime(steps: readonly Step[], step: Step): number {
  let at = steps.length;
  for (let i = steps.length - 1; i >= 0; i--) {
    const s = steps[i]!;
    if (s.ts !== null && step.ts !== null && s.ts <= step.ts) {
      at = i + 1;
      break;
    }
    at = i;
  }
  // a lookup belongs before the packet leaves the namespace: never after a later namespace's steps
  while (at > 0 && steps[at - 1]!.netns !== step.netns && steps.slice(0, at).some((s) => s.netns === step.netns) && rankOf(step) < 90) at--;
  return at;
}

/**
 * A veth delivers inside the sender's transmit: the peer's netif_rx comes before the
 * sender's net_dev_xmit. The driver's completion is put back with its transmit, so each
 * namespace's stretch of the road stays in one piece.
 */
export function tidyOrder(steps: readonly Step[]): Step[] {
  const out = [...steps];
  for (let i = 1; i < out.length; i++) {
    const s = out[i]!;
    if (s.j.probe !== 'net_dev_xmit' || out[i - 1]!.netns === s.netns) continue;
    let k = i - 1;
    while (k >= 0 && !(out[k]!.netns === s.netns && out[k]!.dev === s.dev && out[k]!.kind === 'transmit')) k--;
    if (k < 0) continue;
    out.splice(i, 1);
    out.splice(k + 1, 0, s);
  }
  return out;
}

/**
 * An earlier packet that is the same segment and left its device or was dropped (not a
 * copy freed while waiting for ARP, nor the GSO packet a shaper cut this one from). A
 * bare ACK is never a resend: ACKs repeat their sequence number.
 */
function sameSegment(p: Packet, back: boolean, summary: string, seq: number | undefined, flags: string): boolean {
  if (p.back !== back || p.summary !== summary || flags === 'ACK') return false;
  if (!p.steps.some((s) => s.kind === 'transmit' || s.kind === 'drop')) return false;
  return seq !== undefined ? p.steps.some((s) => s.j.tcp_seq === seq) : /SYN|FIN/.test(flags);
}

function packetOf(l: Life, earlier: readonly Packet[], f: FlowId): Packet {
  const steps = tidyOrder(l.steps);
  const j = steps.find((s) => s.j.tuple)?.j ?? steps[0]!.j;
  const t = j.tuple;
  const proto = t?.proto ?? f.proto;
  const icmpErr = (proto === 'icmp' || proto === 'icmpv6') && isIcmpError(proto, t?.icmp_type ?? -1);
  const flags = proto === 'tcp' ? (t?.flags ?? '') : '';
  const rst = flags.split(',').includes('RST');
  const back = t ? t.daddr === f.a.addr || (t.saddr === f.b.addr && t.daddr !== f.b.addr) : l.ds[0]!.dir === 1;
  const summary = icmpErr ? `ICMP ${t?.icmp_type}/${t?.icmp_code} error` : proto === 'tcp' ? flags || 'no flags' : proto === 'icmp' || proto === 'icmpv6' ? `${proto} type ${t?.icmp_type ?? '?'}` : `${proto} ${j.len ?? 0} bytes`;
  const seq = steps.find((s) => s.j.tcp_seq !== undefined)?.j.tcp_seq;
  const resent = steps.some((s) => s.j.probe === 'tcp_retransmit_skb') || (proto === 'tcp' && earlier.some((p) => sameSegment(p, back, summary, seq, flags)));
  const ts = steps.filter((s) => s.ts !== null).map((s) => s.ts!);
  return {
    id: earlier.length + 1,
    flow: f.id,
    skb: l.skb,
    back,
    summary,
    errorKind: icmpErr ? 'icmp' : rst ? 'rst' : null,
    retransmit: resent,
    steps,
    first: ts.length ? Math.min(...ts) : 0,
    last: ts.length ? Math.max(...ts) : 0,
  };
}
