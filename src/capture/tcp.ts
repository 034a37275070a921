/**
 * One TCP segment's effect on its flow: handshake, resets, retransmissions (told apart
 * as Wireshark does: duplicate ACKs before it make it fast; a gap of an RTO or more
 * without them makes it a timeout), duplicate ACKs, round trips from data to ACK,
 * zero-window stalls, and segments larger than the peer's MSS.
 */
import { TCP_FLAG } from './decode.js';
import type { Packet } from './decode.js';
import type { Dir } from './format.js';
import { addTtl, BIG_SEGMENT, FLOW_RECORDS, GAPS_KEPT, NONE } from './flow.js';
import type { Flow, Side } from './flow.js';
import { SegRing, seqAdd, seqLe, seqLt } from './seq.js';

/** Linux's smallest RTO is 200 ms; other stacks use 200 ms to 1 s. Below this, a resend without duplicate ACKs is "early". */
export const RTO_MIN_NS = 180e6;
/** Duplicate ACKs older than this do not explain a retransmission. */
const DUPACK_WINDOW_NS = 500e6;
/** The same segment seen again this soon on another interface is the capture seeing it twice. */
const DUP_CAPTURE_NS = 2e6;

/** Where a packet was captured: pcapng interface and the Linux cooked v2 ifindex. */
export interface Seen {
  readonly t: number;
  readonly n: number;
  readonly dir: Dir;
  readonly ifKey: number;
}

/**
 * The same packet captured again: seen on another interface of the capture (tcpdump -i
 * any on a host with a bridge or veth pair), or twice on one with the same IP ID, within
 * DUP_CAPTURE_NS. Such a copy is counted apart, never as a retransmission or a duplicate ACK.
 */
export function duplicateCapture(me: Side, p: Packet, at: Seen): boolean {
  const same = me.prevT >= 0 && at.t - me.prevT < DUP_CAPTURE_NS && p.seq === me.prevSeq && p.ack === me.prevAck && p.flags === me.prevFlags && p.payload === me.prevLen;
  if (same && (at.ifKey !== me.prevIfKey || (p.ipId > 0 && p.ipId === me.prevIpId))) {
    me.dupCaptured++;
    return true;
  }
  me.prevT = at.t;
  me.prevIfKey = at.ifKey;
  me.prevSeq = p.seq;
  me.prevAck = p.ack;
  me.prevFlags = p.flags;
  me.prevLen = p.payload;
  me.prevIpId = p.ipId;
  return false;
}

export function onTcp(f: Flow, s: 0 | 1, p: Packet, at: Seen): void {
  const me = f.sides[s];
  const peer = f.sides[s === 0 ? 1 : 0];
  const fl = p.flags;
  if (fl & TCP_FLAG.RST) return onReset(f, s, me, p, at);
  if (me.firstT < 0) {
    me.firstT = at.t;
    me.firstN = at.n;
  }
  me.lastT = at.t;
  addTtl(me, p.ttl);
  if (p.ipId > 0) {
    me.idOther++;
    me.lastId = p.ipId;
  } else if (p.ipId === 0) me.idZero++;
  if (fl & TCP_FLAG.SYN) handshake(f, s, me, p, at.t, at.n);
  else if (f.ackT < 0 && f.synAckT >= 0 && s === 0 && fl & TCP_FLAG.ACK) f.ackT = at.t;
  if (fl & TCP_FLAG.FIN) me.fin = true;
  sizes(me, peer, p, f.family, at);
  const seqLen = p.payload + (fl & TCP_FLAG.SYN ? 1 : 0) + (fl & TCP_FLAG.FIN ? 1 : 0);
  if (seqLen > 0) segment(f, me, peer, p, seqLen, at);
  if (fl & TCP_FLAG.ACK) onAck(me, peer, p, seqLen, at.t);
  windowState(me, peer, p, at);
}

function handshake(f: Flow, s: 0 | 1, me: Side, p: Packet, t: number, n: number): void {
  me.mss = p.mss;
  me.wscale = p.wscale;
  me.isn = p.seq;
  if (!(p.flags & TCP_FLAG.ACK)) {
    if (f.synCount > 0 && f.synGaps.length < GAPS_KEPT) (f.synGaps === NONE ? (f.synGaps = []) : f.synGaps).push(t - f.synT);
    if (f.synCount === 0) f.synN = n;
    f.synT = t;
    f.synCount++;
  } else {
    if (f.synAckT < 0) f.synAckT = t;
    f.synAckCount++;
  }
}

function onReset(f: Flow, s: 0 | 1, me: Side, p: Packet, at: Seen): void {
  me.rsts++;
  f.rstCount++;
  if (f.rsts.length >= FLOW_RECORDS) return;
  if (f.rsts === NONE) f.rsts = [];
  f.rsts.push({ n: at.n, t: at.t, side: s, ttl: p.ttl, ipId: p.ipId, flags: p.flags, seq: p.seq, before: me.pkts - me.rsts, lastId: me.lastId });
}

/** Largest segment, and those larger than the peer's MSS: offload on the capture host. */
function sizes(me: Side, peer: Side, p: Packet, family: 4 | 6, at: Seen): void {
  if (p.payload > me.maxSeg) me.maxSeg = p.payload;
  if (p.ipLen > me.maxIpLen) me.maxIpLen = p.ipLen;
  const limit = peer.mss > 0 ? peer.mss : family === 4 ? 1460 : 1440;
  if (p.payload > limit) {
    if (me.over === 0) me.overN = at.n;
    me.over++;
    if (at.dir === 1) me.overIn++;
    else if (at.dir === 2) me.overOut++;
  }
}

function segment(f: Flow, me: Side, peer: Side, p: Packet, seqLen: number, at: Seen): void {
  const end = seqAdd(p.seq, seqLen);
  if (!me.seqKnown) {
    me.seqKnown = true;
    me.nextSeq = end;
    record(me, p, end, at);
    return;
  }
  if (seqLt(me.nextSeq, end)) {
    if (seqLt(me.nextSeq, p.seq)) me.holes++;
    if (p.payload < BIG_SEGMENT) me.smallT = at.t;
    me.nextSeq = end;
    record(me, p, end, at);
    return;
  }
  // keep-alive: one byte (or none) just below what was sent
  if (p.payload <= 1 && !(p.flags & (TCP_FLAG.SYN | TCP_FLAG.FIN)) && p.seq === seqAdd(me.nextSeq, -1)) return;
  resent(me, peer, p, end, at);
}

function record(me: Side, p: Packet, end: number, at: Seen): void {
  me.ring ??= new SegRing();
  me.ring.push(p.seq, end, at.t, at.n, p.ipId, at.ifKey);
}

/** A segment whose sequence space was sent before. */
function resent(me: Side, peer: Side, p: Packet, end: number, at: Seen): void {
  const ring = me.ring;
  const k = ring ? ring.find(p.seq) : -1;
  const r = me.retrans;
  if (ring && k >= 0) {
    const soon = at.t - ring.t(k) < DUP_CAPTURE_NS;
    if (soon && (ring.ifKey(k) !== at.ifKey || (p.ipId > 0 && ring.ipId(k) === p.ipId))) {
      me.dupCaptured++;
      return;
    }
  }
  const gap = ring && k >= 0 ? at.t - ring.t(k) : -1;
  if (r.count === 0) r.firstN = at.n;
  r.count++;
  if (p.flags & TCP_FLAG.SYN) r.syn++;
  if (peer.dupAcks >= 2 && seqLe(peer.dupAckAt, p.seq) && at.t - peer.dupAckT < DUPACK_WINDOW_NS) r.fast++;
  else if (gap < 0) r.unknown++;
  else if (gap >= RTO_MIN_NS || p.flags & TCP_FLAG.SYN) r.rto++;
  else r.early++;
  if (gap >= 0) {
    if (r.gaps.length < GAPS_KEPT) (r.gaps === NONE ? (r.gaps = []) : r.gaps).push(gap);
    if (gap > r.maxGap) r.maxGap = gap;
  }
  if (me.pmtu > 0 && at.t > me.pmtuT && p.payload > me.bigAfterPmtu) me.bigAfterPmtu = p.payload;
  if (ring && k >= 0) {
    const first = ring.n(k);
    worst(r, ring.resend(k, at.t), p, gap, at, first);
  } else {
    record(me, p, end, at);
    me.ring!.markNewestResent();
  }
}

/** `first` is the frame of the segment's first copy. */
function worst(r: Side['retrans'], times: number, p: Packet, gap: number, at: Seen, first: number): void {
  const w = r.worst;
  if (w && w.seq === p.seq) {
    w.count = times;
    if (gap >= 0 && w.gaps.length < GAPS_KEPT) w.gaps.push(gap);
    w.t = at.t;
    return;
  }
  if (w && w.count >= times) return;
  r.worst = { seq: p.seq, size: p.payload, count: times, n: first, t0: gap >= 0 ? at.t - gap : at.t, gaps: gap >= 0 ? [gap] : [], t: at.t };
}

/** ACK number: duplicate ACKs, and round trips of the peer's data. */
function onAck(me: Side, peer: Side, p: Packet, seqLen: number, t: number): void {
  const ack = p.ack;
  if (!me.ackKnown || seqLt(me.lastAck, ack)) {
    me.ackKnown = true;
    me.lastAck = ack;
    me.dupAcks = 0;
    me.dupAckAt = ack;
    if (peer.ring) {
      const rtt = peer.ring.ackUpTo(ack, t);
      if (rtt >= 0) addRtt(peer, rtt);
    }
  } else if (ack === me.lastAck && seqLen === 0 && p.win === me.lastWin && peer.seqKnown && seqLt(ack, peer.nextSeq)) {
    me.dupAcks++;
    me.dupAckT = t;
  }
  me.lastWin = p.win;
}

function addRtt(side: Side, rtt: number): void {
  const r = side.rtt;
  r.n++;
  r.sum += rtt;
  if (rtt < r.min) r.min = rtt;
  if (rtt > r.max) r.max = rtt;
}

/** A window of 0 stops the peer; the stall lasts until this side opens it again. */
function windowState(me: Side, peer: Side, p: Packet, at: Seen): void {
  if (p.flags & TCP_FLAG.SYN) return;
  const z = me.zw;
  if (p.win === 0) {
    if (z.since < 0) {
      z.since = at.t;
      z.sinceN = at.n;
      if (z.count === 0) z.firstN = at.n;
      z.count++;
    }
  } else if (z.since >= 0) {
    closeStall(z, at.t);
  }
  // while the peer's window is shut, what this side sends is a probe
  if (peer.zw.since >= 0 && p.payload <= 1) peer.zw.probes++;
}

export function closeStall(z: Side['zw'], t: number): void {
  const d = t - z.since;
  z.total += d;
  if (d > z.longest) z.longest = d;
  z.since = -1;
}
