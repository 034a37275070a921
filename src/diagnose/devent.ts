/**
 * The engine's event record (model.ts DEvent), made small: a trace pushes every event
 * through the engine, and a flow keeps some of them (the first and last of each kind,
 * candidates' anchors, example paths) until it is judged, thousands of flows at once.
 * What few events carry (a drop reason, a netfilter step, a route, an ICMP sent) sits in
 * one object shared by all the events without them; direction, TCP flags, ICMP
 * type/code and whether the packet was made there are packed in one number, TTL and IPv4 ID in another; time is
 * two small integers; probe, namespace, device, place, stage, protocol and destination MAC
 * are one interned Spot (a few per place). Readers see DEvent's fields (getters).
 */
import type { DEvent, Stage } from './model.js';

/** Where an event happened: its probe, namespace and device, and the place key they make; interned, shared by its events. */
export interface Site {
  readonly probe: string;
  readonly netns: number;
  readonly dev: string;
  /** "probe@netns/dev" */
  readonly place: string;
}

/**
 * A Site with what its events mostly share besides: stage, protocol, destination MAC (its
 * first and last three bytes); interned per Site by NameCache, so an event holds one
 * reference where it held six fields (thousands of flows keep their first and last events).
 */
export interface Spot extends Site {
  readonly stage: Stage;
  readonly proto: string;
  readonly macHi: number;
  readonly macLo: number;
  /** the next Spot of the same Site (NameCache's chain) */
  next: Spot | null;
  /** this Spot in the namespace its last event without one was moved to (Ev's netns setter): made once, not per event */
  moved: Spot | null;
}

/** A Spot, always made here: one object shape for every Spot an event holds. */
export function makeSpot(site: Site, netns: number, place: string, stage: Stage, proto: string, macHi: number, macLo: number): Spot {
  return { probe: site.probe, netns, dev: site.dev, place, stage, proto, macHi, macLo, next: null, moved: null };
}

/** The first three bytes of a MAC as one number (macLo(): the last three). */
export function macHi(mac: Uint8Array): number {
  return ((mac[0] ?? 0) << 16) | ((mac[1] ?? 0) << 8) | (mac[2] ?? 0);
}
export function macLo(mac: Uint8Array): number {
  return ((mac[3] ?? 0) << 16) | ((mac[4] ?? 0) << 8) | (mac[5] ?? 0);
}

/** The rarer parts of an event. */
export interface RareParts {
  readonly reason: string | null;
  readonly at: string | null;
  readonly nf: DEvent['nf'];
  readonly route: DEvent['route'];
  readonly sent: DEvent['sent'];
  readonly related: boolean;
  readonly fexit: boolean;
}

/** The rare parts of an event that has none of them (most events): shared, never copied. */
export const NO_RARE: RareParts = Object.freeze({ reason: null, at: null, nf: null, route: null, sent: null, related: false, fexit: false });

/** dir (1 bit), TCP flags (8), ICMP type + 1 (9), ICMP code + 1 (9): 27 bits, a small integer. */
export function packShape(dir: 0 | 1, tcpFlags: number, icmpType: number, icmpCode: number): number {
  return dir | ((tcpFlags & 0xff) << 1) | (((icmpType + 1) & 0x1ff) << 9) | (((icmpCode + 1) & 0x1ff) << 18);
}

/** TTL + 1 (9 bits) and IPv4 ID + 1 (17 bits); 0 where the kernel side did not give it. */
export function packIp(ttl: number | undefined, ipId: number | undefined): number {
  return (ttl === undefined ? 0 : (ttl & 0xff) + 1) | (ipId === undefined ? 0 : ((ipId & 0xffff) + 1) << 9);
}

/** The bit of Ev.shape above packShape()'s 27: the packet was made in the event's namespace (FlowState keys kinds by it too). */
export const LOCAL = 1 << 27;

/** 2^30: ts is kept as two small integers (ns / 2^30 and ns % 2^30): a double field would box each value in an object of its own. */
const TS_SPLIT = 1073741824;

export class Ev implements DEvent {
  private readonly tsHi: number;
  private readonly tsLo: number;
  /** packShape() | LOCAL */
  shape: number;

  constructor(
    readonly n: number,
    ts: number,
    /** probe, namespace, device, place, stage, protocol, MAC (interned by NameCache; replaced when the namespace is filled in) */
    private site: Spot,
    /** its packet life's own (Ev.shareSkb) once it has one: one bigint per packet, not per event, held by flows */
    private skbValue: bigint,
    readonly flow: DEvent['flow'],
    /** packShape(), and LOCAL when the packet was made in this namespace */
    shape: number,
    readonly len: number,
    local: boolean,
    /** packIp() */
    private readonly ip: number,
    readonly aux: number,
    readonly rare: RareParts,
  ) {
    this.shape = local ? shape | LOCAL : shape;
    this.tsHi = Math.floor(ts / TS_SPLIT);
    // | 0: an int32, so the field stays a small integer (a float result made it a boxed double, 16 bytes more per event)
    this.tsLo = (ts - this.tsHi * TS_SPLIT) | 0;
  }

  /** made when asked (findings and the mirred check read it, rarely) */
  get mac(): Uint8Array {
    const h = this.site.macHi;
    const l = this.site.macLo;
    return Uint8Array.of(h >>> 16, (h >>> 8) & 0xff, h & 0xff, l >>> 16, (l >>> 8) & 0xff, l & 0xff);
  }

  get skb(): bigint {
    return this.skbValue;
  }
  /** Holds `skb` (the same value, its packet life's copy) in place of its own. */
  shareSkb(skb: bigint): void {
    this.skbValue = skb;
  }

  get stage(): Stage {
    return this.site.stage;
  }
  get proto(): string {
    return this.site.proto;
  }
  get ts(): number {
    return this.tsHi * TS_SPLIT + this.tsLo;
  }
  get probe(): string {
    return this.site.probe;
  }
  get dev(): string {
    return this.site.dev;
  }
  get netns(): number {
    return this.site.netns;
  }
  get place(): string {
    return this.site.place;
  }
  /** an event the kernel could not place takes its packet's namespace (state.ts Lives), and the place there */
  set netns(v: number) {
    const s = this.site;
    let m = s.moved;
    if (m === null || m.netns !== v) s.moved = m = makeSpot(s, v, s.probe + '@' + v + '/' + s.dev, s.stage, s.proto, s.macHi, s.macLo);
    this.site = m;
  }
  set place(v: string) {
    const s = this.site;
    if (v !== s.place) this.site = makeSpot(s, s.netns, v, s.stage, s.proto, s.macHi, s.macLo);
  }

  /** made in this namespace (state.ts Lives sets it): a bit of shape, not a field of its own */
  get local(): boolean {
    return (this.shape & LOCAL) !== 0;
  }
  set local(v: boolean) {
    this.shape = v ? this.shape | LOCAL : this.shape & ~LOCAL;
  }

  get dir(): 0 | 1 {
    return (this.shape & 1) as 0 | 1;
  }
  get tcpFlags(): number {
    return (this.shape >>> 1) & 0xff;
  }
  get icmpType(): number {
    return ((this.shape >>> 9) & 0x1ff) - 1;
  }
  get icmpCode(): number {
    return ((this.shape >>> 18) & 0x1ff) - 1;
  }
  get ttl(): number | undefined {
    const v = this.ip & 0x1ff;
    return v === 0 ? undefined : v - 1;
  }
  get ipId(): number | undefined {
    const v = this.ip >>> 9;
    return v === 0 ? undefined : v - 1;
  }
  get reason(): string | null {
    return this.rare.reason;
  }
  get at(): string | null {
    return this.rare.at;
  }
  get nf(): DEvent['nf'] {
    return this.rare.nf;
  }
  get route(): DEvent['route'] {
    return this.rare.route;
  }
  get sent(): DEvent['sent'] {
    return this.rare.sent;
  }
  get related(): boolean {
    return this.rare.related;
  }
  get fexit(): boolean {
    return this.rare.fexit;
  }
}
