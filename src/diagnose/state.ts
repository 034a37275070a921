/**
 * The streaming state: per flow, a signature summary of its events (one entry per kind of
 * event: probe, place, direction, flags... with a count and the first and last), the
 * latency of each hop, the tcpdump view and example paths; per skb, its life so far.
 * Everything is capped, so memory stays bounded whatever the input.
 */
import type { DEvent, FlowId, PacketPath, PathStage } from './model.js';
import { Histogram } from './latency.js';
import { Ev, LOCAL, packShape } from './devent.js';
import { CAPTURE_RX, CAPTURE_TX, hopKind, TX_SIDE } from './stages.js';

export const LIMITS = {
  /** flows followed at once; the oldest is evaluated and let go beyond this */
  flows: 2048,
  /** packets (skb lives) open at once */
  lives: 8192,
  /** events kept per packet life (its first ones, and the last) */
  lifeEvents: 32,
  /** distinct kinds of event per flow */
  sigEntries: 512,
  /** example packet paths per flow */
  paths: 6,
  /** distinct hops per flow */
  hops: 64,
} as const;

export interface SigEntry {
  readonly first: DEvent;
  last: DEvent;
  count: number;
}

export interface Life {
  readonly skb: bigint;
  readonly events: DEvent[];
  total: number;
  /** the first namespace the packet visited, and whether it was made there */
  readonly ns0: number;
  readonly made0: boolean;
  /** the other namespaces it visited: [netns, 1 if it was made there else 0, ...]; null until there is one */
  more: number[] | null;
}

/** Function probes of the receive side (the others, on a packet's first event in a namespace, mean it was made there). */
// functions of the receive side: a packet first seen in a namespace at one of them arrived there
const RX_FUNC = /rcv|receive|gro_|_input|deliver|backlog|netif_rx|napi_|eth_type_trans/;

function madeHere(e: DEvent): boolean {
  if (e.stage === 'func') return !RX_FUNC.test(e.probe);
  // a received packet always has its device; one dropped or freed before it has one was made here
  if ((e.stage === 'drop' || e.stage === 'free' || e.stage === 'icmp-send') && e.dev === '') return true;
  return TX_SIDE.has(e.stage) || e.stage === 'icmp-send' || e.stage === 'tcp-rst-send';
}

/**
 * The latency of one hop (from a place to another, one direction) and what it joins: a
 * Histogram itself, not a record holding one, and chained per from-place (FlowState.hops),
 * so a hop is one object where it was three (thousands of flows hold their hops).
 */
export class HopState extends Histogram {
  /** the next hop from the same place: the two directions of one destination side by side, a>b first */
  next: HopState | null = null;
  constructor(
    /** the destination's place */
    readonly toPlace: string,
    readonly from: string,
    readonly to: string,
    readonly kind: string,
    readonly netns: number,
    readonly dev: string,
    readonly dir: 0 | 1,
  ) {
    super();
  }
}

/** Packets a>b (0) and b>a (1) seen by, and missed before, the capture point of a device: four counters, not two pairs (two arrays and their elements per device of every flow). */
export interface CaptureState {
  readonly netns: number;
  readonly dev: string;
  seen0: number;
  seen1: number;
  missed0: number;
  missed1: number;
}

/** A kind of event at one place: its shape packs direction, flags, ICMP type and code (packShape), origin and relation; the place's next kind. */
interface Kind extends SigEntry {
  readonly shape: number;
  next: Kind | null;
}

/** A rare event's kind also holds its drop reason, location, netfilter step, ICMP sent and route type ('' and null alike). */
function sameRare(k: Kind, e: DEvent): boolean {
  const f = k.first;
  if ((f.reason ?? '') !== (e.reason ?? '') || (f.at ?? '') !== (e.at ?? '')) return false;
  const a = f.nf;
  const b = e.nf;
  if (a !== b && (!a || !b || a.table !== b.table || a.chain !== b.chain || a.verdict !== b.verdict || (a.rule ?? '') !== (b.rule ?? ''))) return false;
  if (f.sent !== e.sent && (!f.sent || !e.sent || f.sent.type !== e.sent.type || f.sent.code !== e.sent.code)) return false;
  return f.route === e.route || (f.route !== null && e.route !== null && f.route.type === e.route.type);
}

/*
 * The per-flow tables below are short lists scanned in order rather than nested Maps:
 * a flow has a few shapes per place, a few destinations per hop and a few devices per
 * namespace, and thousands of flows are held at once (a Map costs ~200 bytes, a grown
 * array ~150). The order of insertion is kept: it is the order of the report.
 */
export class FlowState {
  events = 0;
  packets = 0;
  firstTs = 0;
  lastTs = 0;
  sigOverflow = 0;
  private sigSize = 0;
  /** place -> its first kind of common event */
  private readonly common = new Map<string, Kind>();
  /** the kinds of rare event, in the order they were first seen: a flow has a few (a Map of them was two objects more per flow) */
  private readonly rareOrder: Kind[] = [];
  /** from place -> its first hop */
  private readonly hops = new Map<string, HopState>();
  private hopCount = 0;
  /** what tcpdump would see on each device, namespace by namespace (in order of first sight), a flat list: one or two devices per namespace */
  private readonly captures: CaptureState[] = [];
  /** the events of packet lives kept as example paths, made into PacketPaths only for the report (a life's skb is its events', and whether it ended is its last event's stage: the list alone is kept) */
  private readonly pathLives: (readonly DEvent[])[] = [];
  constructor(readonly id: FlowId) {}

  add(e: DEvent): void {
    if (this.events++ === 0) this.firstTs = e.ts;
    this.lastTs = e.ts;
    // common events (path stages) are keyed by place and a packed number, the rare ones
    // (drops, frees, netfilter steps, routes, ICMP sent) also by what they carry
    const packet = e instanceof Ev ? e.shape : packShape(e.dir, e.tcpFlags, e.icmpType, e.icmpCode);
    const shape = packet | (e.local ? LOCAL : 0) | (e.related ? 1 << 28 : 0);
    if (e.reason === null && e.at === null && e.nf === null && e.sent === null && e.route === null) return this.addCommon(e, shape);
    this.addRare(e, shape);
  }

  /** Counts common event `e` in its kind at its place (compared by shape), or opens the kind. */
  private addCommon(e: DEvent, shape: number): void {
    const head = this.common.get(e.place);
    let tail: Kind | null = null;
    for (let k = head ?? null; k; k = k.next) {
      if (k.shape === shape) return this.again(k, e);
      tail = k;
    }
    const kind = this.newKind(e, shape);
    if (kind === null) return;
    if (tail) tail.next = kind;
    else this.common.set(e.place, kind);
  }

  /** Counts rare event `e` in its kind (its place, shape and what it carries), or opens the kind. */
  private addRare(e: DEvent, shape: number): void {
    const place = e.place;
    const ro = this.rareOrder;
    for (let i = 0; i < ro.length; i++) {
      const k = ro[i]!;
      if (k.shape === shape && k.first.place === place && sameRare(k, e)) return this.again(k, e);
    }
    const kind = this.newKind(e, shape);
    if (kind !== null) ro.push(kind);
  }

  /** A new kind, first seen at `e`; null past the cap (counted). */
  private newKind(e: DEvent, shape: number): Kind | null {
    if (this.sigSize++ >= LIMITS.sigEntries) {
      this.sigOverflow++;
      return null;
    }
    return { shape, first: e, last: e, count: 1, next: null };
  }

  private again(s: SigEntry, e: DEvent): void {
    s.count++;
    s.last = e;
  }

  /** Every kind of event seen in this flow, with its first and last occurrence and count. */
  entries(): readonly SigEntry[] {
    if (this.entryCache && this.entryCacheSize === this.sigSize) return this.entryCache;
    const out: SigEntry[] = [];
    for (const head of this.common.values()) for (let k: Kind | null = head; k; k = k.next) out.push(k);
    for (const k of this.rareOrder) out.push(k);
    this.entryCacheSize = this.sigSize;
    return (this.entryCache = out);
  }
  private entryCache: SigEntry[] | null = null;
  private entryCacheSize = -1;

  /** Latency hops, the tcpdump view and an example path, from a packet's closed life. */
  absorb(life: Life): void {
    this.packets++;
    const ev = life.events;
    const first = ev[0];
    if (!first) return;
    for (let i = 0; i < ev.length; i++) {
      const e = ev[i]!;
      if (e.flow !== this.id) continue;
      this.captureAt(e);
      if (i > 0) this.hop(ev[i - 1]!, e);
    }
    this.keepPath(life);
  }

  private captureAt(e: DEvent): void {
    const rx = e.probe === CAPTURE_RX;
    const tx = e.probe === CAPTURE_TX;
    const queued = e.probe === 'net_dev_queue';
    if (!rx && !tx && !queued) return;
    const cs = this.captures;
    let c: CaptureState | undefined;
    let lastOfNs = -1;
    for (let i = 0; i < cs.length && !c; i++) {
      if (cs[i]!.netns !== e.netns) continue;
      lastOfNs = i;
      if (cs[i]!.dev === e.dev) c = cs[i];
    }
    if (!c) {
      c = { netns: e.netns, dev: e.dev, seen0: 0, seen1: 0, missed0: 0, missed1: 0 };
      if (lastOfNs < 0) cs.push(c);
      else cs.splice(lastOfNs + 1, 0, c);
    }
    const a = e.dir === 0;
    // net_dev_queue: counted as missed until its start_xmit is seen
    if (rx || tx) {
      if (a) c.seen0++;
      else c.seen1++;
    } else if (a) c.missed0++;
    else c.missed1++;
    if (tx && a) c.missed0 = Math.max(0, c.missed0 - 1);
    else if (tx) c.missed1 = Math.max(0, c.missed1 - 1);
  }

  private hop(a: DEvent, b: DEvent): void {
    if (a.stage === 'nf' || b.stage === 'nf' || b.stage === 'drop' || (b.stage === 'free' && a.stage !== 'rx')) return;
    // the qdisc wait is measured per queue (qdisc.ts): the skb that leaves may not be the one that entered
    if (a.stage === 'qdisc-in') return;
    this.sample(a.place, a.probe, a.netns, a.dev, b, b.ts - a.ts);
  }

  /** Adds one latency sample of the hop from (probe, netns, dev) to event b. */
  sample(fromPlace: string, from: string, netns: number, dev: string, b: DEvent, ns: number): void {
    const to = b.place;
    // the hop, else where its other direction is (and the hop before that) and the chain's end
    let other: HopState | null = null;
    let beforeOther: HopState | null = null;
    let prev: HopState | null = null;
    for (let h = this.hops.get(fromPlace) ?? null; h !== null; prev = h, h = h.next) {
      if (h.toPlace !== to) continue;
      if (h.dir === b.dir) return h.add(ns);
      other = h;
      beforeOther = prev;
    }
    if (this.hopCount >= LIMITS.hops) return;
    this.hopCount++;
    const h = new HopState(to, from, b.probe, hopKind(from, b.probe, netns === b.netns, dev === b.dev), b.netns, b.dev || dev, b.dir);
    h.add(ns);
    if (other === null) this.link(fromPlace, prev, h);
    else if (b.dir === 1) this.link(fromPlace, other, h);
    else this.link(fromPlace, beforeOther, h);
  }

  /** Puts hop h after `after` in its from-place's chain (null: first). */
  private link(fromPlace: string, after: HopState | null, h: HopState): void {
    if (after !== null) {
      h.next = after.next;
      after.next = h;
      return;
    }
    h.next = this.hops.get(fromPlace) ?? null;
    this.hops.set(fromPlace, h);
  }

  /** What tcpdump would see, per namespace and device. */
  captureList(): CaptureState[] {
    return this.captures.slice();
  }

  /** Every hop measured in this flow. */
  hopList(): HopState[] {
    const out: HopState[] = [];
    for (const head of this.hops.values()) for (let h: HopState | null = head; h !== null; h = h.next) out.push(h);
    return out;
  }

  private keepPath(life: Life): void {
    const ev = life.events;
    const first = ev[0]!;
    const last = ev[ev.length - 1]!;
    const interesting = last.stage === 'drop' || ev.some((e) => e.stage === 'icmp-send' || e.stage === 'tcp-rst-send');
    const haveDir = this.pathLives.some((p) => p[0]!.dir === first.dir);
    if (this.pathLives.length >= LIMITS.paths || (haveDir && !interesting) || (ev.length < 3 && !interesting)) return;
    if (!interesting && this.pathLives.length >= LIMITS.paths - 2) return;
    // an exact copy: the life's own list has room for 16 or more, and the flow holds it until judged
    this.pathLives.push(life.events.slice());
  }

  /** Example packet paths, in order. */
  paths(): PacketPath[] {
    return this.pathLives.map(pathOf);
  }
}

/** A kept life's path: its skb is its events', it ended when its last event is a drop or a free. */
function pathOf(ev: readonly DEvent[]): PacketPath {
  const first = ev[0]!;
  const last = ev[ev.length - 1]!;
  const ended = last.stage === 'drop' || last.stage === 'free';
  const stages: PathStage[] = ev.map((e, i) => ({ n: e.n, probe: e.probe, netns: e.netns, dev: e.dev, dtNs: i === 0 ? 0 : e.ts - ev[i - 1]!.ts }));
  let end = 'still in flight when the trace ended';
  if (last.stage === 'drop') end = `dropped ${last.reason ?? '?'}${last.at ? ` at ${last.at}` : ''}`;
  else if (ended) end = `freed${last.at ? ` at ${last.at}` : ''}`;
  const f = first.flow!;
  return {
    skb: '0x' + first.skb.toString(16),
    flowId: f.id,
    dir: first.dir === 0 ? 'a>b' : 'b>a',
    summary: packetSummary(first),
    stages,
    end,
    totalNs: last.ts - first.ts,
  };
}

const FLAG_NAMES: readonly [number, string][] = [[0x02, 'SYN'], [0x10, 'ACK'], [0x01, 'FIN'], [0x04, 'RST'], [0x08, 'PSH']];

/** "SYN", "ACK,SYN", "echo request", "udp 512 bytes" */
export function packetSummary(e: DEvent): string {
  if (e.proto === 'tcp') return FLAG_NAMES.filter(([b]) => e.tcpFlags & b).map(([, n]) => n).join(',') || 'no flags';
  if (e.icmpType >= 0) return `icmp type ${e.icmpType} code ${e.icmpCode}`;
  return `${e.proto} ${e.len} bytes`;
}

/** Whether the packet was made in e's namespace (judged at its first event there). */
function madeIn(life: Life, e: DEvent): boolean {
  if (e.netns === life.ns0) return life.made0;
  const m = life.more;
  // made at its exact size: an array grown by push holds 16 slots, and thousands of lives are open
  if (m === null) return (life.more = [e.netns, madeHere(e) ? 1 : 0])[1] === 1;
  let i = 0;
  while (i < m.length && m[i] !== e.netns) i += 2;
  if (i === m.length) m.push(e.netns, madeHere(e) ? 1 : 0);
  return m[i + 1] === 1;
}

/** Open packet lives, capped: beyond the cap the oldest is closed as it stands. */
export class Lives {
  readonly open = new Map<bigint, Life>();
  evicted = 0;
  /** the open life last looked up or added: a packet's events mostly come one after the other (a Map lookup by bigint key took ~20 ns, comparing two bigints ~5) */
  private last: Life | null = null;

  /** The open life of skb, if any. */
  get(skb: bigint): Life | undefined {
    const l = this.last;
    if (l !== null && l.skb === skb) return l;
    const life = this.open.get(skb);
    if (life) this.last = life;
    return life;
  }

  /**
   * Adds an event to its packet's life; returns the life (the event's `local` is set from it).
   * `open`: the skb's open life when the caller has looked it up already (null: none).
   */
  add(e: DEvent, open?: Life | null): Life {
    let life = open === undefined ? this.get(e.skb) : open;
    if (!life) {
      life = { skb: e.skb, events: [], total: 0, ns0: e.netns, made0: madeHere(e), more: null };
      this.open.set(e.skb, life);
    }
    this.last = life;
    const last = life.events[life.events.length - 1];
    if (e.netns === 0 && last && last.netns !== 0) {
      e.netns = last.netns;
      // an Ev's place moves with its namespace (to a Spot made once per Spot and namespace)
      if (!(e instanceof Ev)) e.place = `${e.probe}@${e.netns}/${e.dev}`;
    }
    e.local = madeIn(life, e);
    if (e instanceof Ev) e.shareSkb(life.skb);
    life.total++;
    if (life.events.length < LIMITS.lifeEvents) life.events.push(e);
    else life.events[LIMITS.lifeEvents - 1] = e;
    return life;
  }

  close(skb: bigint): Life | undefined {
    const life = this.get(skb);
    if (life) this.forget(life);
    return life;
  }

  /** Closes and returns the lives whose last event is older than `before` (ns). */
  idle(before: number): Life[] {
    const out: Life[] = [];
    // forEach, not an iterator: thousands of lives are open, and each step of an iterator is an object
    this.open.forEach((life) => {
      const last = life.events[life.events.length - 1];
      if (last && last.ts < before) out.push(life);
    });
    for (const l of out) this.forget(l);
    return out;
  }

  private forget(life: Life): void {
    this.open.delete(life.skb);
    if (this.last === life) this.last = null;
  }

  /** The oldest open life when over the cap. */
  overflow(): Life | undefined {
    if (this.open.size <= LIMITS.lives) return undefined;
    const first = this.open.keys().next();
    if (first.done) return undefined;
    this.evicted++;
    return this.close(first.value);
  }
}
