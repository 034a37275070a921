/**
 * The picture's data: what the HTML report and the Perfetto export are drawn from. A run's
 * events (as `trace --json` prints them, each with its line number `n`) are grouped into
 * flows and packets; a packet's events into boxes (one per device and stage); a flow's
 * packets into a diagram of lanes (one per network namespace), rows (one per packet) and
 * edges. Plain data only: layout.ts computes it, html.ts and perfetto.ts render it.
 */
import type { JsonEvent } from '../diagnose/replay.js';

export type { JsonEvent };

/** An event of the run and its line number in `trace --json` (the diagnosis's evidence numbers). */
export interface KeptEvent {
  readonly n: number;
  readonly j: JsonEvent;
}

/** What a box stands for on the packet's road (seed 002's map: receive, netfilter, route, socket, qdisc, transmit). */
export type BoxKind = 'socket' | 'receive' | 'netfilter' | 'route' | 'icmp' | 'queue' | 'qdisc' | 'transmit' | 'drop' | 'free' | 'func' | 'other';

/** How a box is drawn: a drop in red; a drop a finding calls benign in grey; an ICMP error or reset sent in orange. */
export type Tone = 'plain' | 'drop' | 'benign' | 'error-sent' | 'slow';

/** One event placed on a packet's road. */
export interface Step {
  readonly n: number;
  readonly j: JsonEvent;
  readonly kind: BoxKind;
  readonly netns: number;
  readonly dev: string;
  /** monotonic ns; null for a netfilter step from nft trace (stamped when read, not when it happened) */
  readonly ts: number | null;
  /** qdisc_dequeue: how long the packet (or the GSO packet it was cut from) waited in the queue */
  readonly waitNs?: number;
}

/** A packet: one skb's life, or the events a flow had without an skb (nft trace steps, route lookups). */
export interface Packet {
  /** 1-based, in order of first event */
  readonly id: number;
  readonly flow: number;
  readonly skb: string;
  /** which way it travels: a>b (towards the flow's second endpoint) or b>a (back) */
  readonly back: boolean;
  /** "SYN", "ACK,RST", "ICMP 3/13 (related)", "udp 512 bytes" */
  readonly summary: string;
  /** an ICMP error about the flow, or a TCP reset: drawn as an arrow back */
  readonly errorKind: 'icmp' | 'rst' | null;
  /** the same segment (flags and sequence) as an earlier packet of this direction, or tcp_retransmit_skb */
  readonly retransmit: boolean;
  readonly steps: readonly Step[];
  readonly first: number;
  readonly last: number;
}

/** A conversation, as the diagnosis names it. */
export interface Flow {
  readonly id: number;
  readonly proto: string;
  /** "10.0.0.1:40000" */
  readonly a: string;
  readonly b: string;
  readonly aAddr: string;
  readonly bAddr: string;
  readonly packets: readonly Packet[];
  readonly events: number;
}

export interface Box {
  readonly id: string;
  readonly kind: BoxKind;
  readonly netns: number;
  readonly dev: string;
  /** the box's title: "receive", "filter FORWARD", "DROP NO_SOCKET" */
  readonly label: string;
  /** further lines: device, table/chain/verdict, location, rule */
  readonly lines: readonly string[];
  /** line numbers of its events (what a click shows) */
  readonly events: readonly number[];
  readonly tone: Tone;
  /** time from its first to its last timed event (a qdisc's sojourn), ns */
  readonly dwellNs: number;
  /** finding numbers whose evidence includes one of its events */
  readonly findings: readonly number[];
  /** the drop's reason and rule, for drop boxes */
  readonly drop?: { readonly reason: string; readonly at: string | null; readonly rule: string | null };
  readonly first: number | null;
  readonly last: number | null;
}

/** Geometry of a drawn box. */
export interface PlacedBox extends Box {
  readonly lane: number;
  readonly row: number;
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
}

export interface Edge {
  readonly from: string;
  readonly to: string;
  /** time between the two boxes (last timed event of the first, first of the second); null when unknown */
  readonly dtNs: number | null;
  readonly label: string;
  /** a: a>b, back: b>a, error: an ICMP error or reset going back, drop: into a drop, cause: icmp_send/tcp_send_reset to the packet it made */
  readonly kind: 'a' | 'back' | 'error' | 'drop' | 'cause';
  /** the events on both ends (what a click shows) */
  readonly events: readonly number[];
  /** SVG path data */
  readonly d: string;
  readonly lx: number;
  readonly ly: number;
}

export interface Lane {
  readonly netns: number;
  readonly name: string;
  readonly x: number;
  readonly w: number;
}

export interface Row {
  readonly packet: number;
  readonly y: number;
  readonly label: string;
  readonly back: boolean;
  readonly errorKind: 'icmp' | 'rst' | null;
  readonly retransmit: boolean;
  /** how the packet ended: "dropped NO_SOCKET", "consumed", "still in flight" */
  readonly end: string;
}

export interface Diagram {
  readonly flow: number;
  readonly title: string;
  readonly lanes: readonly Lane[];
  readonly rows: readonly Row[];
  readonly boxes: readonly PlacedBox[];
  readonly edges: readonly Edge[];
  readonly width: number;
  readonly height: number;
  /** packets of the flow not drawn (the row cap) */
  readonly hiddenPackets: number;
}
