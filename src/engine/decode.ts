import { EV_HAS_TUPLE, EV_NAMES, EV_STACK, PKT_GSO, PKT_ICMP_MTU, PKT_INNER, PKT_IP, PKT_MTU, PKT_RELATED, PKT_TCP } from './event.js';
import type { RawEvent, RawTuple } from './event.js';
import { EVENT, NF_NAMES, PKT, SIZES, TUPLE } from './layout.js';
import { hash3, mix32 } from '../shared/hash.js';

const ETH_P_IP = 0x0800;
const ETH_P_IPV6 = 0x86dd;
const ETH_P_ARP = 0x0806;

const latin1 = new TextDecoder('latin1');

/** Reads a NUL-terminated C string of at most `max` bytes. */
function cString(bytes: Uint8Array, off: number, max: number): string {
  let end = off;
  const stop = off + max;
  while (end < stop && bytes[end] !== 0) end++;
  if (end === off) return '';
  // ifnames and comms are ASCII in practice; latin1 keeps every byte visible. Short ones
  // (all of them: 16 bytes at most) by char codes: a TextDecoder call costs more than the loop
  if (end - off > 32) return latin1.decode(bytes.subarray(off, end));
  let s = '';
  for (let i = off; i < end; i++) s += String.fromCharCode(bytes[i]!);
  return s;
}

/** Decodes a `struct pp_tuple` at `base` (also used for the drop samples of src/drops). */
export function decodeTuple(view: DataView, bytes: Uint8Array, base: number): RawTuple {
  const l3proto = view.getUint16(base + TUPLE.l3proto, true);
  const family: 0 | 4 | 6 = l3proto === ETH_P_IPV6 ? 6 : l3proto === ETH_P_IP || l3proto === ETH_P_ARP ? 4 : 0;
  const alen = family === 6 ? 16 : 4;
  return {
    family,
    saddr: bytes.slice(base + TUPLE.saddr, base + TUPLE.saddr + alen),
    daddr: bytes.slice(base + TUPLE.daddr, base + TUPLE.daddr + alen),
    sport: view.getUint16(base + TUPLE.sport, true),
    dport: view.getUint16(base + TUPLE.dport, true),
    l3proto,
    l4proto: bytes[base + TUPLE.l4proto] ?? 0,
    tcpFlags: bytes[base + TUPLE.tcp_flags] ?? 0,
    icmpType: bytes[base + TUPLE.icmp_type] ?? 0,
    icmpCode: bytes[base + TUPLE.icmp_code] ?? 0,
    icmpId: view.getUint16(base + TUPLE.icmp_id, true),
  };
}

/** Entries of the decoder's caches (a power of two). */
const CACHED = 256;

/**
 * The tuples, destination MACs and names (devices, commands) decoded lately, by their
 * bytes: a flow's events carry the same ones, so an event whose bytes match a cached one
 * shares its object (never changed: RawTuple is read only; strings are immutable) instead
 * of making its own. find() then keep() on a miss (no closure per event).
 */
class BytesCache<T> {
  /** the cached keys, a 32-bit word at a time (a byte-by-byte compare cost more than the decoding it saves) */
  private readonly words: Uint32Array;
  private readonly tails: Uint8Array;
  private readonly w: number;
  private readonly t: number;
  private readonly vals: (T | undefined)[] = new Array<T | undefined>(CACHED).fill(undefined);
  private slot = 0;

  constructor(private readonly size: number) {
    this.w = size >>> 2;
    this.t = size & 3;
    this.words = new Uint32Array(CACHED * this.w);
    this.tails = new Uint8Array(CACHED * this.t);
  }

  /** The value cached for the `size` bytes at `at` (`view` and `bytes` on the same memory), whose hash (any function of them) is `hash`. */
  find(view: DataView, bytes: Uint8Array, at: number, hash: number): T | undefined {
    const slot = (this.slot = mix32(hash) & (CACHED - 1));
    const known = this.vals[slot];
    if (known === undefined) return undefined;
    const words = this.words;
    for (let i = 0, base = slot * this.w; i < this.w; i++) if (words[base + i] !== view.getUint32(at + 4 * i, true)) return undefined;
    for (let i = 0, base = slot * this.t, tail = at + 4 * this.w; i < this.t; i++) if (this.tails[base + i] !== bytes[tail + i]) return undefined;
    return known;
  }

  /** Caches `v` for the bytes find() missed. */
  keep(view: DataView, bytes: Uint8Array, at: number, v: T): T {
    for (let i = 0, base = this.slot * this.w; i < this.w; i++) this.words[base + i] = view.getUint32(at + 4 * i, true);
    for (let i = 0, base = this.slot * this.t, tail = at + 4 * this.w; i < this.t; i++) this.tails[base + i] = bytes[tail + i]!;
    this.vals[this.slot] = v;
    return v;
  }
}

const tuples = new BytesCache<RawTuple>(TUPLE.size);
const names = new BytesCache<string>(SIZES.ifname);
const macs = new BytesCache<Uint8Array>(SIZES.dst_mac);

/** A hash of a tuple: its ports, protocol, flags and the last bytes of its addresses (find() compares them all). */
function tupleHash(view: DataView, bytes: Uint8Array, t: number): number {
  const a = view.getUint32(t + TUPLE.sport, true) ^ (bytes[t + TUPLE.l4proto]! << 8) ^ (bytes[t + TUPLE.tcp_flags]! << 16);
  return hash3(a, view.getUint32(t + TUPLE.saddr, true), view.getUint32(t + TUPLE.daddr, true));
}

function tupleAt(view: DataView, bytes: Uint8Array, t: number): RawTuple {
  return tuples.find(view, bytes, t, tupleHash(view, bytes, t)) ?? tuples.keep(view, bytes, t, decodeTuple(view, bytes, t));
}

/** A device name or command (SIZES.ifname = SIZES.comm = 16 bytes, NUL-terminated): a run meets few, each made once. */
function nameAt(view: DataView, bytes: Uint8Array, at: number): string {
  const h = hash3(view.getUint32(at, true), view.getUint32(at + 4, true), view.getUint32(at + 8, true));
  return names.find(view, bytes, at, h) ?? names.keep(view, bytes, at, cString(bytes, at, SIZES.ifname));
}

function macAt(view: DataView, bytes: Uint8Array, m: number): Uint8Array {
  const h = hash3(view.getUint32(m, true), view.getUint16(m + 4, true), 0);
  return macs.find(view, bytes, m, h) ?? macs.keep(view, bytes, m, bytes.slice(m, m + SIZES.dst_mac));
}

/** A u64 field; 0n without a bigint made for it (most events' location and function address). */
function u64(view: DataView, at: number): bigint {
  return view.getUint32(at, true) === 0 && view.getUint32(at + 4, true) === 0 ? 0n : view.getBigUint64(at, true);
}

/**
 * Decodes one `struct pp_event` record (little endian, as the kernel wrote it).
 * `view` and `bytes` cover the same memory; `off` is the record's first byte and
 * `len` its length, which must be at least EVENT.size. `borrow`: the packet bytes (-w)
 * are a view of the record, not a copy, for a caller that is done with the event before
 * the record's memory is reused (RawEvent.bytes).
 */
export function decodeEvent(view: DataView, bytes: Uint8Array, off: number, len: number, borrow = false): RawEvent {
  if (len < EVENT.size) throw new RangeError(`event record of ${len} bytes is shorter than ${EVENT.size}`);
  const flags = bytes[off + EVENT.flags] ?? 0;
  let stack: bigint[] | null = null;
  if (flags & EV_STACK) {
    const depth = Math.min(bytes[off + EVENT.stack_depth] ?? 0, SIZES.maxStack, Math.floor((len - EVENT.size) / 8));
    stack = new Array<bigint>(depth);
    for (let i = 0; i < depth; i++) stack[i] = view.getBigUint64(off + EVENT.size + i * 8, true);
  }
  const auxFamily = bytes[off + EVENT.aux_family] ?? 0;
  const pk = off + EVENT.pkt;
  const valid = bytes[pk + PKT.valid] ?? 0;
  const ip = (valid & PKT_IP) !== 0;
  const tcp = (valid & PKT_TCP) !== 0;
  const gso = (valid & PKT_GSO) !== 0;
  const nfNames =
    flags & EV_NAMES && len >= EVENT.size + NF_NAMES.size
      ? { table: cString(bytes, off + EVENT.size + NF_NAMES.table, 32), chain: cString(bytes, off + EVENT.size + NF_NAMES.chain, 32) }
      : null;
  return {
    tsNs: view.getBigUint64(off + EVENT.ts_ns, true),
    skb: view.getBigUint64(off + EVENT.skb, true),
    location: u64(view, off + EVENT.location),
    netns: view.getUint32(off + EVENT.netns, true),
    ifindex: view.getUint32(off + EVENT.ifindex, true),
    mark: view.getUint32(off + EVENT.mark, true),
    len: view.getUint32(off + EVENT.len, true),
    pid: view.getUint32(off + EVENT.pid, true),
    dropReason: view.getUint32(off + EVENT.drop_reason, true),
    aux: view.getInt32(off + EVENT.aux, true),
    aux2: view.getUint32(off + EVENT.aux2, true),
    aux3: bytes[off + EVENT.aux3] ?? 0,
    probe: view.getUint16(off + EVENT.probe, true),
    cpu: view.getUint16(off + EVENT.cpu, true),
    pktType: bytes[off + EVENT.pkt_type] ?? 0,
    flags,
    dstMac: macAt(view, bytes, off + EVENT.dst_mac),
    ifname: nameAt(view, bytes, off + EVENT.ifname),
    comm: nameAt(view, bytes, off + EVENT.comm),
    tuple: flags & EV_HAS_TUPLE ? tupleAt(view, bytes, off + EVENT.tuple) : null,
    stack,
    auxAddr:
      auxFamily === 4 || auxFamily === 6
        ? { family: auxFamily, bytes: bytes.slice(off + EVENT.aux_addr, off + EVENT.aux_addr + (auxFamily === 6 ? 16 : 4)) }
        : null,
    funcIp: u64(view, off + EVENT.func_ip),
    nfNames,
    // every field always present (undefined when not read): one object shape for the formatters
    ipTtl: ip ? bytes[pk + PKT.ttl] : undefined,
    ipId: ip && flags & EV_HAS_TUPLE && view.getUint16(off + EVENT.tuple + TUPLE.l3proto, true) === ETH_P_IP ? view.getUint16(pk + PKT.ip_id, true) : undefined,
    tcpSeq: tcp ? view.getUint32(pk + PKT.tcp_seq, true) : undefined,
    tcpAck: tcp ? view.getUint32(pk + PKT.tcp_ack, true) : undefined,
    tcpWin: tcp ? view.getUint16(pk + PKT.tcp_win, true) : undefined,
    gsoSize: gso ? view.getUint16(pk + PKT.gso_size, true) : undefined,
    gsoSegs: gso ? view.getUint16(pk + PKT.gso_segs, true) : undefined,
    mtu: valid & PKT_MTU ? view.getUint32(pk + PKT.mtu, true) : undefined,
    inner: valid & PKT_INNER ? decodeTuple(view, bytes, pk + PKT.inner) : null,
    icmpMtu: valid & PKT_ICMP_MTU ? view.getUint32(pk + PKT.icmp_mtu, true) : undefined,
    related: (valid & PKT_RELATED) !== 0,
    bytes: packetBytes(view, bytes, off, len, borrow),
  };
}

/**
 * -w: the packet bytes after the event (and its stack or names): copied out of the ring,
 * or a view of it when borrowed (a copy of more than 64 bytes is an allocation outside
 * V8's heap: at 500k events/s, the largest single cost of decoding).
 */
function packetBytes(view: DataView, bytes: Uint8Array, off: number, len: number, borrow: boolean): Uint8Array | null {
  const n = view.getUint16(off + EVENT.cap_len, true);
  if (n === 0) return null;
  const at = view.getUint16(off + EVENT.bytes_off, true);
  if (at < EVENT.size || at + n > len) return null; // a record that cannot hold what it says: no bytes rather than garbage
  return borrow ? new Uint8Array(bytes.buffer, bytes.byteOffset + off + at, n) : bytes.slice(off + at, off + at + n);
}

/** The pp_pkt part of a record: what encodeEvent writes for the optional packet fields. */
function encodePkt(ev: RawEvent, buf: Uint8Array, v: DataView): void {
  const pk = EVENT.pkt;
  let valid = 0;
  if (ev.ipTtl !== undefined) {
    valid |= PKT_IP;
    buf[pk + PKT.ttl] = ev.ipTtl;
    v.setUint16(pk + PKT.ip_id, ev.ipId ?? 0, true);
  }
  if (ev.tcpSeq !== undefined) {
    valid |= PKT_TCP;
    v.setUint32(pk + PKT.tcp_seq, ev.tcpSeq, true);
    v.setUint32(pk + PKT.tcp_ack, ev.tcpAck ?? 0, true);
    v.setUint16(pk + PKT.tcp_win, ev.tcpWin ?? 0, true);
  }
  if (ev.gsoSize !== undefined) {
    valid |= PKT_GSO;
    v.setUint16(pk + PKT.gso_size, ev.gsoSize, true);
    v.setUint16(pk + PKT.gso_segs, ev.gsoSegs ?? 0, true);
  }
  if (ev.mtu !== undefined) {
    valid |= PKT_MTU;
    v.setUint32(pk + PKT.mtu, ev.mtu, true);
  }
  if (ev.icmpMtu !== undefined) {
    valid |= PKT_ICMP_MTU;
    v.setUint32(pk + PKT.icmp_mtu, ev.icmpMtu, true);
  }
  if (ev.inner) {
    valid |= PKT_INNER;
    encodeTuple(ev.inner, buf, v, pk + PKT.inner);
  }
  if (ev.related) valid |= PKT_RELATED;
  buf[pk + PKT.valid] = valid;
}

function encodeTuple(t: RawTuple, buf: Uint8Array, v: DataView, b: number): void {
  buf.set(t.saddr, b + TUPLE.saddr);
  buf.set(t.daddr, b + TUPLE.daddr);
  v.setUint16(b + TUPLE.sport, t.sport, true);
  v.setUint16(b + TUPLE.dport, t.dport, true);
  v.setUint16(b + TUPLE.l3proto, t.l3proto, true);
  buf[b + TUPLE.l4proto] = t.l4proto;
  buf[b + TUPLE.tcp_flags] = t.tcpFlags;
  buf[b + TUPLE.icmp_type] = t.icmpType;
  buf[b + TUPLE.icmp_code] = t.icmpCode;
  v.setUint16(b + TUPLE.icmp_id, t.icmpId, true);
}

/** Builds the bytes of a record, for tests and benchmarks (the inverse of decodeEvent). */
export function encodeEvent(ev: RawEvent): Uint8Array {
  const depth = ev.stack && !ev.nfNames ? Math.min(ev.stack.length, SIZES.maxStack) : 0;
  const tail = EVENT.size + (ev.nfNames ? NF_NAMES.size : depth * 8);
  const snap = ev.bytes ? Math.min(ev.bytes.length, SIZES.maxSnap) : 0;
  const buf = new Uint8Array(tail + snap);
  if (snap) {
    buf.set(ev.bytes!.subarray(0, snap), tail);
    new DataView(buf.buffer).setUint16(EVENT.cap_len, snap, true);
    new DataView(buf.buffer).setUint16(EVENT.bytes_off, tail, true);
  }
  const v = new DataView(buf.buffer);
  v.setBigUint64(EVENT.ts_ns, ev.tsNs, true);
  v.setBigUint64(EVENT.skb, ev.skb, true);
  v.setBigUint64(EVENT.location, ev.location, true);
  v.setUint32(EVENT.netns, ev.netns, true);
  v.setUint32(EVENT.ifindex, ev.ifindex, true);
  v.setUint32(EVENT.mark, ev.mark, true);
  v.setUint32(EVENT.len, ev.len, true);
  v.setUint32(EVENT.pid, ev.pid, true);
  v.setUint32(EVENT.drop_reason, ev.dropReason, true);
  v.setInt32(EVENT.aux, ev.aux, true);
  v.setUint32(EVENT.aux2, ev.aux2, true);
  v.setUint16(EVENT.probe, ev.probe, true);
  v.setUint16(EVENT.cpu, ev.cpu, true);
  buf[EVENT.pkt_type] = ev.pktType;
  let flags = ev.flags & ~(EV_HAS_TUPLE | EV_STACK | EV_NAMES);
  if (ev.tuple) flags |= EV_HAS_TUPLE;
  if (depth) flags |= EV_STACK;
  if (ev.nfNames) {
    flags |= EV_NAMES;
    buf.set(new TextEncoder().encode(ev.nfNames.table).subarray(0, 31), EVENT.size + NF_NAMES.table);
    buf.set(new TextEncoder().encode(ev.nfNames.chain).subarray(0, 31), EVENT.size + NF_NAMES.chain);
  }
  buf[EVENT.flags] = flags;
  buf[EVENT.stack_depth] = depth;
  buf[EVENT.aux3] = ev.aux3 ?? 0;
  buf.set(ev.dstMac.subarray(0, 6), EVENT.dst_mac);
  buf.set(new TextEncoder().encode(ev.ifname).subarray(0, SIZES.ifname - 1), EVENT.ifname);
  buf.set(new TextEncoder().encode(ev.comm).subarray(0, SIZES.comm - 1), EVENT.comm);
  if (ev.tuple) encodeTuple(ev.tuple, buf, v, EVENT.tuple);
  encodePkt(ev, buf, v);
  if (ev.auxAddr) {
    buf.set(ev.auxAddr.bytes, EVENT.aux_addr);
    buf[EVENT.aux_family] = ev.auxAddr.family;
  }
  v.setBigUint64(EVENT.func_ip, ev.funcIp ?? 0n, true);
  for (let i = 0; i < depth; i++) v.setBigUint64(EVENT.size + i * 8, ev.stack![i]!, true);
  return buf;
}
