/**
 * The pcapng writer (draft-ietf-opsawg-pcapng): a Section Header Block, one Interface
 * Description Block per (network namespace, device, link type) the first time a packet
 * crossed it (if_name "netns/dev", if_description, nanosecond if_tsresol), an Enhanced
 * Packet Block per packet crossing with epb_flags direction and opt_comment lines that
 * say what the kernel did, and Interface Statistics Blocks. Pure: blocks go to a sink
 * function as Buffers; the caller owns the file or pipe. Little-endian, as the spec lets
 * a writer choose; every reader swaps as needed.
 *
 * @example
 *   const w = new PcapngWriter((b) => chunks.push(b), { application: 'pktpath' });
 *   const id = w.interfaceId({ netns: 'srv', dev: 'veth0', linkType: 1, snaplen: 256 });
 *   w.packet({ iface: id, tsNs: 1_700_000_000_123_456_789n, data, origLen: 74, dir: 'in', comments: ['pktpath drop: NO_SOCKET at tcp_v4_rcv+0x91'] });
 */
import { Buffer } from 'node:buffer';
import { BLOCK, BYTE_ORDER_MAGIC, OPT } from './format.js';

export interface SectionOptions {
  /** shb_userappl */
  readonly application: string;
  readonly os?: string;
  readonly hardware?: string;
  readonly comment?: string;
}

export interface InterfaceSpec {
  /** namespace name, or its inode when it has no name */
  readonly netns: string;
  readonly dev: string;
  readonly linkType: number;
  readonly snaplen: number;
  /** if_description; default "device DEV in network namespace NETNS" */
  readonly description?: string;
  /** if_filter (libpcap expression, stored as such) */
  readonly filter?: string;
}

export type Direction = 'in' | 'out';

/** A timestamp in nanoseconds since the epoch as its two 32-bit halves (a writer of many packets keeps numbers, not bigints). */
export interface TsParts {
  readonly hi: number;
  readonly lo: number;
}

export interface PacketRecord {
  readonly iface: number;
  /** nanoseconds since the epoch */
  readonly tsNs: bigint | TsParts;
  /** the bytes captured (cut to the interface's snaplen) */
  readonly data: Uint8Array;
  /** bytes before `data` in the packet (a link-layer header made for it), so neither is copied twice */
  readonly head?: Uint8Array;
  /** length on the wire */
  readonly origLen: number;
  readonly dir?: Direction;
  /** opt_comment values; a Buffer is taken as already UTF-8 encoded */
  readonly comments?: readonly (string | Buffer)[];
  /** epb_dropcount: packets lost between this one and the one before on this interface */
  readonly dropCount?: number;
  /** epb_packetid: the same id on every copy of one packet (one per device it crossed) */
  readonly packetId?: bigint | number;
}

export interface StatsRecord {
  readonly iface: number;
  readonly tsNs: bigint;
  readonly received?: bigint;
  readonly dropped?: bigint;
}

type Option = readonly [code: number, value: Buffer];

function pad4(n: number): number {
  return (n + 3) & ~3;
}

/** Options, each padded to 4 bytes, then opt_endofopt; empty when there are none. */
function optionBytes(opts: readonly Option[]): Buffer {
  if (!opts.length) return Buffer.alloc(0);
  const size = opts.reduce((s, [, v]) => s + 4 + pad4(v.length), 4);
  const out = Buffer.alloc(size);
  let at = 0;
  for (const [code, v] of opts) {
    if (v.length > 0xffff) throw new RangeError(`pcapng option ${code} of ${v.length} bytes (at most 65535)`);
    out.writeUInt16LE(code, at);
    out.writeUInt16LE(v.length, at + 2);
    v.copy(out, at + 4);
    at += 4 + pad4(v.length);
  }
  return out; // the last 4 zero bytes are opt_endofopt
}

/** A block: type, total length, body (padded), options, total length. */
function block(type: number, body: Buffer, opts: readonly Option[]): Buffer {
  const o = optionBytes(opts);
  const len = 12 + pad4(body.length) + o.length;
  const out = Buffer.alloc(len);
  out.writeUInt32LE(type, 0);
  out.writeUInt32LE(len, 4);
  body.copy(out, 8);
  o.copy(out, 8 + pad4(body.length));
  out.writeUInt32LE(len, len - 4);
  return out;
}

const text = (s: string): Buffer => Buffer.from(s, 'utf8');

export function sectionHeaderBlock(o: SectionOptions): Buffer {
  const body = Buffer.alloc(16);
  body.writeUInt32LE(BYTE_ORDER_MAGIC, 0);
  body.writeUInt16LE(1, 4);
  body.writeUInt16LE(0, 6);
  body.writeBigInt64LE(-1n, 8); // section length not known in advance (a stream)
  const opts: Option[] = [];
  if (o.comment) opts.push([OPT.comment, text(o.comment)]);
  if (o.hardware) opts.push([OPT.shb_hardware, text(o.hardware)]);
  if (o.os) opts.push([OPT.shb_os, text(o.os)]);
  opts.push([OPT.shb_userappl, text(o.application)]);
  return block(BLOCK.SHB, body, opts);
}

export function interfaceBlock(i: InterfaceSpec): Buffer {
  const body = Buffer.alloc(8);
  body.writeUInt16LE(i.linkType, 0);
  body.writeUInt32LE(i.snaplen, 4);
  const opts: Option[] = [
    [OPT.if_name, text(`${i.netns}/${i.dev}`)],
    [OPT.if_description, text(i.description ?? `device ${i.dev} in network namespace ${i.netns}`)],
    [OPT.if_tsresol, Buffer.from([9])],
  ];
  if (i.filter) opts.push([OPT.if_filter, Buffer.concat([Buffer.from([0]), text(i.filter)])]);
  return block(BLOCK.IDB, body, opts);
}

function u64(v: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(v, 0);
  return b;
}

/** A comment as written: a string (its UTF-8 length measured once) or already encoded bytes. */
type Comment = { readonly text: string; readonly bytes: number } | Uint8Array;

function measured(cs: readonly (string | Buffer)[] | undefined): Comment[] {
  return (cs ?? []).map((c) => {
    const n = typeof c === 'string' ? Buffer.byteLength(c, 'utf8') : c.length;
    if (n > 0xffff) throw new RangeError(`pcapng option ${OPT.comment} of ${n} bytes (at most 65535)`);
    return typeof c === 'string' ? { text: c, bytes: n } : c;
  });
}

function commentLen(c: Comment): number {
  return c instanceof Uint8Array ? c.length : c.bytes;
}

/** The EPB's size: header, captured bytes (head + data, cut to `cap`), options. */
function epbSize(p: PacketRecord, cs: readonly Comment[], cap: number): number {
  let opts = 0;
  for (const c of cs) opts += 4 + pad4(commentLen(c));
  if (p.dir) opts += 8;
  if (p.dropCount !== undefined) opts += 12;
  if (p.packetId !== undefined) opts += 12;
  return 32 + pad4(cap) + (opts ? opts + 4 : 0);
}

const NO_HEAD = new Uint8Array(0);

/**
 * Buffer's own UTF-8 writer, which Buffer.prototype.write calls after checking and
 * normalizing its arguments: a third of writing a packet's comments went to that wrapper.
 */
type Utf8Writable = Buffer & { utf8Write(text: string, offset: number, length: number): number };

/** Writes `text` as UTF-8 at buf[at] (what fits); the bytes written. */
export function utf8Into(buf: Buffer, at: number, text: string): number {
  return (buf as Utf8Writable).utf8Write(text, at, buf.length - at);
}

/** Zeroes out[from, to): the few bytes of padding after a field. */
function zero(out: Uint8Array, from: number, to: number): void {
  for (let i = from; i < to; i++) out[i] = 0;
}

/** An option's header at `o` and the zero padding after its `n` bytes of value; where the next option goes. */
function optHead(out: Uint8Array, dv: DataView, o: number, code: number, n: number): number {
  dv.setUint16(o, code, true);
  dv.setUint16(o + 2, n, true);
  const next = o + 4 + pad4(n);
  zero(out, o + 4 + n, next);
  return next;
}

/** A 64-bit little-endian option value: a number (below 2^53) without the bigint operations a bigint costs. */
function setU64(dv: DataView, at: number, v: bigint | number): void {
  if (typeof v === 'bigint') return dv.setBigUint64(at, v, true);
  dv.setUint32(at, v % 4294967296, true);
  dv.setUint32(at + 4, Math.floor(v / 4294967296), true);
}

/** The EPB's header and captured bytes at out[at]; where its options go. */
function epbHead(out: Buffer, dv: DataView, at: number, len: number, p: PacketRecord, cap: number): number {
  dv.setUint32(at, BLOCK.EPB, true);
  dv.setUint32(at + 4, len, true);
  dv.setUint32(at + 8, p.iface, true);
  const ts = p.tsNs;
  dv.setUint32(at + 12, typeof ts === 'bigint' ? Number(ts >> 32n) >>> 0 : ts.hi >>> 0, true);
  dv.setUint32(at + 16, typeof ts === 'bigint' ? Number(ts & 0xffffffffn) >>> 0 : ts.lo >>> 0, true);
  dv.setUint32(at + 20, cap, true);
  const head = !p.head ? NO_HEAD : p.head.length > cap ? p.head.subarray(0, cap) : p.head;
  dv.setUint32(at + 24, Math.max(p.origLen, head.length + p.data.length), true);
  out.set(head, at + 28);
  const data = cap - head.length;
  out.set(data < p.data.length ? p.data.subarray(0, data) : p.data, at + 28 + head.length);
  zero(out, at + 28 + cap, at + 28 + pad4(cap));
  return at + 28 + pad4(cap);
}

/**
 * Writes an EPB of `len` bytes at out[at] (`dv` a view of `out`'s memory from its byte 0):
 * header, bytes, options in place, zero padding (only the padding is cleared: the writer's
 * buffer is reused).
 */
function writeEpb(out: Buffer, dv: DataView, at: number, len: number, p: PacketRecord, cs: readonly Comment[], cap: number): void {
  let o = epbHead(out, dv, at, len, p, cap);
  for (const c of cs) {
    const n = commentLen(c);
    const next = optHead(out, dv, o, OPT.comment, n);
    if (c instanceof Uint8Array) out.set(c, o + 4);
    else (out as Utf8Writable).utf8Write(c.text, o + 4, n);
    o = next;
  }
  if (p.dir) {
    dv.setUint32(o + 4, p.dir === 'in' ? 1 : 2, true);
    o = optHead(out, dv, o, OPT.epb_flags, 4);
  }
  if (p.dropCount !== undefined) {
    setU64(dv, o + 4, p.dropCount);
    o = optHead(out, dv, o, OPT.epb_dropcount, 8);
  }
  if (p.packetId !== undefined) {
    setU64(dv, o + 4, p.packetId);
    o = optHead(out, dv, o, OPT.epb_packetid, 8);
  }
  if (o < at + len - 4) dv.setUint32(o, 0, true); // opt_endofopt
  dv.setUint32(at + len - 4, len, true);
}

/** One EPB as a Buffer (comments may come encoded, so a comment shared by several copies is encoded once). */
export function enhancedPacketBlock(p: PacketRecord): Buffer {
  const cs = measured(p.comments);
  const cap = (p.head?.length ?? 0) + p.data.length;
  const len = epbSize(p, cs, cap);
  const out = Buffer.allocUnsafe(len);
  writeEpb(out, viewOf(out), 0, len, p, cs, cap);
  return out;
}

function viewOf(b: Buffer): DataView {
  return new DataView(b.buffer, b.byteOffset, b.length);
}

export function statisticsBlock(s: StatsRecord): Buffer {
  const body = Buffer.alloc(12);
  body.writeUInt32LE(s.iface, 0);
  body.writeUInt32LE(Number(s.tsNs >> 32n) >>> 0, 4);
  body.writeUInt32LE(Number(s.tsNs & 0xffffffffn) >>> 0, 8);
  const opts: Option[] = [];
  if (s.received !== undefined) opts.push([OPT.isb_ifrecv, u64(s.received)]);
  if (s.dropped !== undefined) opts.push([OPT.isb_ifdrop, u64(s.dropped)]);
  return block(BLOCK.ISB, body, opts);
}

/**
 * A pcapng stream: the section header at once, an interface block the first time an
 * interface is named, then packets. Interface ids are handed out in that order.
 */
/** Bytes the writer gathers before handing them to its sink (one call per chunk, not per block). */
const CHUNK = 1024 * 1024;

export class PcapngWriter {
  private readonly ids = new Map<string, number>();
  private readonly snaplens: number[] = [];
  private chunk: Buffer = Buffer.allocUnsafe(CHUNK);
  private view = viewOf(this.chunk);
  /** the chunk's bytes before `start` were handed to the sink; from `start` to `used`, gathered */
  private start = 0;
  private used = 0;
  packets = 0;
  bytes = 0;

  /**
   * `sink` gets whole blocks, gathered in chunks of up to 1 MiB; call flush() to hand over
   * what waits. `lend`: the sink is done with what it is given when it returns (it copies
   * what it keeps), so the writer fills one buffer for the whole run: 1 MiB made for every
   * ~2,000 packets is memory outside V8's heap, whose growth makes V8 run full collections.
   */
  constructor(
    private readonly sink: (chunk: Buffer) => void,
    section: SectionOptions,
    private readonly lend = false,
  ) {
    this.emit(sectionHeaderBlock(section));
  }

  private emit(b: Buffer): void {
    const at = this.room(b.length);
    if (at < 0) return this.direct(b);
    b.copy(this.chunk, at);
  }

  /** Where `n` bytes go in the chunk (handing the chunk over first when full); -1 when `n` is more than a chunk. */
  private room(n: number): number {
    if (this.used + n > CHUNK) {
      this.flush();
      if (!this.lend) {
        this.chunk = Buffer.allocUnsafe(CHUNK);
        this.view = viewOf(this.chunk);
      }
      this.start = this.used = 0;
    }
    if (n > CHUNK) return -1;
    const at = this.used;
    this.used += n;
    this.bytes += n;
    return at;
  }

  private direct(b: Buffer): void {
    this.bytes += b.length;
    this.sink(b);
  }

  /**
   * Hands what is gathered to the sink. Unless lent, the sink may keep it: those bytes of
   * the chunk are never written again (the rest of the chunk fills on; a run that flushes
   * after every ring read does not make a 1 MiB buffer each time).
   */
  flush(): void {
    if (this.used === this.start) return;
    const part = this.chunk.subarray(this.start, this.used);
    this.start = this.used;
    this.sink(part);
  }

  /** The id of (netns, dev, link type), writing its interface block the first time. */
  interfaceId(i: InterfaceSpec): number {
    const key = `${i.netns}\0${i.dev}\0${i.linkType}`;
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.ids.size;
      this.ids.set(key, id);
      this.snaplens.push(i.snaplen);
      this.emit(interfaceBlock(i));
    }
    return id;
  }

  get interfaces(): number {
    return this.ids.size;
  }

  packet(p: PacketRecord): void {
    const snap = this.snaplens[p.iface];
    if (snap === undefined) throw new RangeError(`pcapng packet for interface ${p.iface}, but ${this.ids.size} are described`);
    const whole = (p.head?.length ?? 0) + p.data.length;
    const cap = snap > 0 ? Math.min(snap, whole) : whole;
    const cs = measured(p.comments);
    const len = epbSize(p, cs, cap);
    this.packets++;
    const at = this.room(len);
    if (at >= 0) return writeEpb(this.chunk, this.view, at, len, p, cs, cap);
    const out = Buffer.allocUnsafe(len);
    writeEpb(out, viewOf(out), 0, len, p, cs, cap);
    this.direct(out);
  }

  stats(s: StatsRecord): void {
    this.emit(statisticsBlock(s));
  }
}

/** Linux pkt_type values for the cooked header: to this host, and sent by it. */
export const PKT_HOST = 0;
export const PKT_OUTGOING = 4;

/**
 * A Linux cooked v2 header (LINKTYPE_LINUX_SLL2, 276) before network-layer bytes: the
 * link type for packets taken from the kernel, since an skb may have no MAC header yet
 * at a probe, and one link type for every interface keeps the file readable by libpcap
 * (tcpdump -r), which wants the same link type on all of them.
 */
export function cookedV2(l3: Uint8Array, o: { protocol: number; ifindex: number; pktType: number; mac?: Uint8Array }): Buffer {
  const h = cookedV2Header(o);
  return Buffer.concat([h, l3]);
}

/** The 20-byte Linux cooked v2 header alone (the writer puts it before the bytes: PacketRecord.head). */
export function cookedV2Header(o: { protocol: number; ifindex: number; pktType: number; mac?: Uint8Array }): Buffer {
  const h = Buffer.alloc(20);
  h.writeUInt16BE(o.protocol, 0);
  h.writeUInt32BE(o.ifindex >>> 0, 4);
  h.writeUInt16BE(o.mac ? 1 : 0xffff, 8); // ARPHRD_ETHER, or none
  h[10] = o.pktType;
  h[11] = o.mac ? Math.min(8, o.mac.length) : 0;
  if (o.mac) h.set(o.mac.subarray(0, 8), 12);
  return h;
}
