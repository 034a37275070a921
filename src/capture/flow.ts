/**
 * What the analysis keeps per flow: a fixed set of counters per direction, a small ring
 * of recent segments, and at most a few records of resets and ICMP errors. Nothing grows
 * with the number of packets.
 */
import { dstBin, srcBin } from './decode.js';
import type { Packet } from './decode.js';
import { seqLe } from './seq.js';
import type { SegRing } from './seq.js';

/** Segments at least this big can meet a smaller MTU on the path (IPv6's minimum MTU is 1280). */
export const BIG_SEGMENT = 1200;

/** Resets and ICMP errors kept per flow (the rest are counted). */
export const FLOW_RECORDS = 8;
/** Retransmission gaps kept per side, for the words. */
export const GAPS_KEPT = 8;

/**
 * An empty list shared by every flow until it gets its first entry (most flows never
 * do): frozen, so a writer that forgets to replace it fails loudly.
 */
export const NONE: never[] = Object.freeze([]) as unknown as never[];

/** Adds `v` to a side's TTLs: up to four distinct values, packed one byte each. */
export function addTtl(side: Side, v: number): void {
  for (let k = 0; k < side.ttlN; k++) if (((side.ttls >>> (8 * k)) & 0xff) === v) return;
  if (side.ttlN < 4) side.ttls = (side.ttls | (v << (8 * side.ttlN++))) >>> 0;
  else side.ttlOver = true;
}

/** The distinct TTLs a side's packets came with, in the order first seen. */
export function ttlValues(side: Side): number[] {
  return Array.from({ length: side.ttlN }, (_, k) => (side.ttls >>> (8 * k)) & 0xff);
}

export interface Retrans {
  count: number;
  fast: number;
  rto: number;
  /** sooner than an RTO without duplicate ACKs: tail-loss probes, RACK, SACK recovery */
  early: number;
  /** the first transmission was not in the capture (or fell out of the ring) */
  unknown: number;
  /** of which SYNs (and SYN-ACKs) */
  syn: number;
  firstN: number;
  gaps: number[];
  maxGap: number;
  /** the segment resent most often: its sequence, size, copies after the first, first frame and time, gaps */
  worst: { seq: number; size: number; count: number; n: number; t0: number; gaps: number[]; t: number } | null;
}

export interface ZeroWindow {
  /** time the current stall began, -1 when the window is open */
  since: number;
  sinceN: number;
  count: number;
  firstN: number;
  total: number;
  longest: number;
  /** probes the peer sent while the window was zero */
  probes: number;
  /** still zero at the end of the capture */
  openAtEnd: boolean;
}

export interface RttStats {
  n: number;
  min: number;
  max: number;
  sum: number;
}

/** One direction of a flow: what its sender did. */
export interface Side {
  pkts: number;
  /** payload bytes (TCP/UDP), retransmissions included */
  bytes: number;
  /** TTLs of its packets that are not resets (addTtl/ttlValues) */
  ttls: number;
  ttlN: number;
  ttlOver: boolean;
  /** IPv4 ID of non-reset packets: how many were 0, and the last non-zero */
  idZero: number;
  idOther: number;
  lastId: number;
  /** MSS and window scale this side announced in its SYN, -1 when not seen */
  mss: number;
  wscale: number;
  isn: number;
  /** highest sequence number sent + 1; -1 before the first segment */
  nextSeq: number;
  seqKnown: boolean;
  /** highest ACK this side sent, its window, and duplicate ACKs in a row */
  lastAck: number;
  ackKnown: boolean;
  lastWin: number;
  dupAcks: number;
  dupAckAt: number;
  dupAckT: number;
  maxSeg: number;
  maxIpLen: number;
  /** segments larger than the peer's MSS (or 1460/1440 when unknown) */
  over: number;
  overN: number;
  /** of which captured going in, and going out (when the capture says) */
  overIn: number;
  overOut: number;
  /** sequence jumped ahead: segments missing from the capture */
  holes: number;
  retrans: Retrans;
  rtt: RttStats;
  zw: ZeroWindow;
  ring: SegRing | null;
  /** the previous packet, to know the same one captured again (on another interface, or twice) */
  prevT: number;
  prevIfKey: number;
  prevSeq: number;
  prevAck: number;
  prevFlags: number;
  prevLen: number;
  prevIpId: number;
  /** packets the capture holds twice (not counted anywhere else) */
  dupCaptured: number;
  fin: boolean;
  /** time of the last new segment smaller than BIG_SEGMENT (a FIN counts), -1 when none */
  smallT: number;
  rsts: number;
  /** time and frame of this side's first and last packet that is not a reset */
  firstT: number;
  lastT: number;
  firstN: number;
  /** smallest next-hop MTU an ICMP error told this side, its frame and time */
  pmtu: number;
  pmtuN: number;
  pmtuT: number;
  /** largest payload retransmitted after that ICMP */
  bigAfterPmtu: number;
}

export interface RstRecord {
  readonly n: number;
  readonly t: number;
  readonly side: 0 | 1;
  readonly ttl: number;
  readonly ipId: number;
  readonly flags: number;
  readonly seq: number;
  /** the sender's packets that were not resets, before this one */
  readonly before: number;
  /** the sender's last non-zero IP ID before it, -1 when none */
  readonly lastId: number;
}

export interface IcmpRecord {
  readonly n: number;
  readonly t: number;
  readonly family: 4 | 6;
  readonly type: number;
  readonly code: number;
  /** who sent the error (binary address) */
  readonly from: string;
  readonly ttl: number;
  readonly mtu: number;
  /** the side whose packet the error quotes */
  readonly side: 0 | 1;
  /** IP length of the quoted packet */
  readonly len: number;
}

export interface Flow {
  readonly id: number;
  /** IPv4: the two numbers the table finds it by; IPv6: the key string */
  readonly k1: number;
  readonly k2: number;
  readonly key: string;
  /** IPv4: side 0's address as a number (-1 for IPv6) */
  readonly aN: number;
  readonly proto: number;
  readonly family: 4 | 6;
  /** side 0 sent the first packet seen (the client when the SYN is in the capture) */
  readonly addr: [string, string];
  readonly port: [number, number];
  firstT: number;
  lastT: number;
  firstN: number;
  lastN: number;
  sides: [Side, Side];
  synT: number;
  synN: number;
  synCount: number;
  synGaps: number[];
  synAckT: number;
  synAckCount: number;
  ackT: number;
  rsts: RstRecord[];
  rstCount: number;
  icmp: IcmpRecord[];
  icmpCount: number;
  /** CLOCK bit for eviction: set on every packet */
  touched: boolean;
}

function newSide(): Side {
  return {
    pkts: 0,
    bytes: 0,
    ttls: 0,
    ttlN: 0,
    ttlOver: false,
    idZero: 0,
    idOther: 0,
    lastId: -1,
    mss: -1,
    wscale: -1,
    isn: 0,
    nextSeq: 0,
    seqKnown: false,
    lastAck: 0,
    ackKnown: false,
    lastWin: -1,
    dupAcks: 0,
    dupAckAt: 0,
    dupAckT: 0,
    maxSeg: 0,
    maxIpLen: 0,
    over: 0,
    overN: 0,
    overIn: 0,
    overOut: 0,
    holes: 0,
    retrans: { count: 0, fast: 0, rto: 0, early: 0, unknown: 0, syn: 0, firstN: 0, gaps: NONE, maxGap: 0, worst: null },
    rtt: { n: 0, min: Infinity, max: 0, sum: 0 },
    zw: { since: -1, sinceN: 0, count: 0, firstN: 0, total: 0, longest: 0, probes: 0, openAtEnd: false },
    ring: null,
    prevT: -1,
    prevIfKey: 0,
    prevSeq: 0,
    prevAck: 0,
    prevFlags: 0,
    prevLen: 0,
    prevIpId: -1,
    dupCaptured: 0,
    fin: false,
    smallT: -1,
    rsts: 0,
    firstT: -1,
    lastT: -1,
    firstN: 0,
    pmtu: 0,
    pmtuN: 0,
    pmtuT: 0,
    bigAfterPmtu: 0,
  };
}

export interface FlowKey {
  k1: number;
  k2: number;
  key: string;
}

export function newFlow(id: number, k: FlowKey, p: Packet, swap: boolean, t: number, n: number): Flow {
  const [src, dst] = [srcBin(p), dstBin(p)];
  const addr: [string, string] = swap ? [dst, src] : [src, dst];
  const port: [number, number] = swap ? [p.dport, p.sport] : [p.sport, p.dport];
  return {
    id,
    k1: k.k1,
    k2: k.k2,
    key: k.key,
    aN: p.family === 4 ? (swap ? p.dstN : p.srcN) : -1,
    proto: p.proto,
    family: p.family as 4 | 6,
    addr,
    port,
    firstT: t,
    lastT: t,
    firstN: n,
    lastN: n,
    sides: [newSide(), newSide()],
    synT: -1,
    synN: 0,
    synCount: 0,
    synGaps: NONE,
    synAckT: -1,
    synAckCount: 0,
    ackT: -1,
    rsts: NONE,
    rstCount: 0,
    icmp: NONE,
    icmpCount: 0,
    touched: true,
  };
}

/**
 * The direction-free key of a 5-tuple, into `out`: for IPv4, two exact numbers (lower
 * endpoint's address * 2^16 + port; the higher one's, doubled, plus 1 for TCP); for
 * IPv6 a string of the binary addresses.
 */
export function flowKey(family: number, proto: number, srcN: number, dstN: number, src: string, dst: string, sport: number, dport: number, out: FlowKey): void {
  if (family === 4) {
    const flip = srcN > dstN || (srcN === dstN && sport > dport);
    out.k1 = flip ? dstN * 65536 + dport : srcN * 65536 + sport;
    out.k2 = (flip ? srcN * 65536 + sport : dstN * 65536 + dport) * 2 + (proto === 6 ? 1 : 0);
    out.key = '';
    return;
  }
  const flip = src > dst || (src === dst && sport > dport);
  out.k1 = 0;
  out.k2 = 0;
  out.key = flip ? `${proto}|${dst}|${src}|${dport}|${sport}` : `${proto}|${src}|${dst}|${sport}|${dport}`;
}

/** Was `seq` of side `s` acknowledged by the peer before the capture ended? */
export function acked(f: Flow, s: 0 | 1, seq: number): boolean {
  const peer = f.sides[s === 0 ? 1 : 0];
  return peer.ackKnown && !seqLe(peer.lastAck, seq);
}

export function handshakeDone(f: Flow): boolean {
  return f.synAckT >= 0 && f.ackT >= 0;
}
