/**
 * pcapng (draft-ietf-opsawg-pcapng): blocks of type, length, body, length. Reads SHB
 * (several sections, each with its own byte order), IDB (if_name, if_description,
 * if_tsresol, if_tsoffset, if_filter, if_os), EPB (epb_flags direction, opt_comment),
 * SPB, the obsolete Packet Block, NRB (counted) and ISB; other blocks are skipped, as
 * the spec asks of readers.
 */
import { u32be, u32le } from './bytes.js';
import { BLOCK, BYTE_ORDER_MAGIC, DIR, MAX_RECORD, OPT } from './format.js';
import type { Dir } from './format.js';
import { CaptureError, newRawPacket } from './records.js';
import type { CaptureDescription, CaptureInterface, CaptureSink, RawPacket, RecordParser } from './records.js';

/** Interfaces one section may describe; more is taken as corruption. */
const MAX_IFACES = 65536;
/** Interfaces remembered for the description (the rest are counted). */
const DESCRIBED_IFACES = 4096;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

interface IfState extends Mutable<CaptureInterface> {
  /** the timestamp's high word the cached split below belongs to */
  hi: number;
  secBase: number;
  remBase: number;
}

type Reader = { u16(o: number): number; u32(o: number): number };

/** if_tsresol: MSB clear means 10^-n, set means 2^-n. */
function unitsOf(v: number): number {
  const n = v & 0x7f;
  const ups = v & 0x80 ? 2 ** n : 10 ** n;
  if ((v & 0x80 && n > 63) || (!(v & 0x80) && n > 18)) throw new Error(`if_tsresol ${v} is finer than this reader handles`);
  return ups;
}

export class PcapngParser implements RecordParser {
  readonly format = 'pcapng';
  private le = true;
  private section = -1;
  private ifaces: IfState[] = [];
  private readonly described: (CaptureInterface & { section: number })[] = [];
  private ifaceTotal = 0;
  private names = 0;
  private want = 12;
  private version = '';
  private orders = new Set<'little-endian' | 'big-endian'>();
  private comment: string | null = null;
  private application: string | null = null;
  private readonly pkt: RawPacket = newRawPacket();

  constructor(
    private readonly sink: CaptureSink,
    private readonly name: string,
  ) {}

  needed(): number {
    return this.want;
  }

  private corrupt(what: string, offset: number): never {
    throw new CaptureError(`${this.name}: corrupt pcapng: ${what} at byte ${offset}`);
  }

  parse(buf: Buffer, start: number, end: number, fileOffset: number): number {
    let at = start;
    while (end - at >= 12) {
      const off = fileOffset + at - start;
      let type = this.le ? u32le(buf, at) : u32be(buf, at);
      if (type === BLOCK.SHB) {
        const bom = buf.readUInt32LE(at + 8);
        if (bom !== BYTE_ORDER_MAGIC && bom !== 0x4d3c2b1a) this.corrupt(`section header with byte-order magic 0x${bom.toString(16)}`, off);
        this.le = bom === BYTE_ORDER_MAGIC;
        type = BLOCK.SHB;
      } else if (this.section < 0) {
        this.corrupt('the first block is not a section header', off);
      }
      const len = this.le ? u32le(buf, at + 4) : u32be(buf, at + 4);
      if (len < 12 || len % 4 !== 0) this.corrupt(`block of type 0x${type.toString(16)} with length ${len}`, off);
      if (len > MAX_RECORD) this.corrupt(`block of type 0x${type.toString(16)} claims ${len} bytes`, off);
      if (end - at < len) {
        this.want = len;
        return at;
      }
      const trailer = this.le ? u32le(buf, at + len - 4) : u32be(buf, at + len - 4);
      if (trailer !== len) this.corrupt(`block of type 0x${type.toString(16)}: length ${len} at its start but ${trailer} at its end`, off);
      this.block(type, buf, at, len, off);
      at += len;
    }
    this.want = 12;
    return at;
  }

  private reader(buf: Buffer): Reader {
    return this.le
      ? { u16: (o) => buf.readUInt16LE(o), u32: (o) => buf.readUInt32LE(o) }
      : { u16: (o) => buf.readUInt16BE(o), u32: (o) => buf.readUInt32BE(o) };
  }

  private block(type: number, buf: Buffer, at: number, len: number, off: number): void {
    switch (type) {
      case BLOCK.EPB:
        return this.enhanced(buf, at, len, off);
      case BLOCK.SPB:
        return this.simple(buf, at, len, off);
      case BLOCK.OPB:
        return this.obsolete(buf, at, len, off);
      case BLOCK.IDB:
        return this.interfaceBlock(buf, at, len, off);
      case BLOCK.SHB:
        return this.sectionHeader(buf, at, len, off);
      case BLOCK.ISB:
        return this.statistics(buf, at, len, off);
      case BLOCK.NRB:
        this.names++;
        return;
      default:
        return; // DSB, custom blocks, journal entries...: not ours to read
    }
  }

  /** Calls fn for each option in buf[from, to); stops at opt_endofopt. */
  private options(buf: Buffer, from: number, to: number, off: number, fn: (code: number, at: number, len: number) => void): void {
    const r = this.reader(buf);
    let at = from;
    while (to - at >= 4) {
      const code = r.u16(at);
      const len = r.u16(at + 2);
      if (code === OPT.endofopt) return;
      if (at + 4 + len > to) this.corrupt(`option ${code} of ${len} bytes runs past its block`, off);
      fn(code, at + 4, len);
      at += 4 + ((len + 3) & ~3);
    }
  }

  private sectionHeader(buf: Buffer, at: number, len: number, off: number): void {
    if (len < 28) this.corrupt(`section header of ${len} bytes`, off);
    const r = this.reader(buf);
    this.section++;
    this.ifaces = [];
    this.orders.add(this.le ? 'little-endian' : 'big-endian');
    const major = r.u16(at + 12);
    if (major !== 1) this.corrupt(`section header of version ${major}.${r.u16(at + 14)} (this reader knows 1.x)`, off);
    if (this.section === 0) {
      this.version = `${major}.${r.u16(at + 14)}`;
      this.options(buf, at + 24, at + len - 4, off, (code, o, l) => {
        if (code === OPT.comment) this.comment ??= buf.toString('utf8', o, o + l);
        if (code === OPT.shb_userappl) this.application = buf.toString('utf8', o, o + l);
      });
    }
  }

  private interfaceBlock(buf: Buffer, at: number, len: number, off: number): void {
    if (len < 20) this.corrupt(`interface description of ${len} bytes`, off);
    if (this.ifaces.length >= MAX_IFACES) this.corrupt(`more than ${MAX_IFACES} interfaces in one section`, off);
    const r = this.reader(buf);
    const st: IfState = {
      id: this.ifaces.length,
      linkType: r.u16(at + 8),
      snaplen: r.u32(at + 12),
      name: null,
      description: null,
      unitsPerSec: 1e6,
      tsOffset: 0,
      filter: null,
      os: null,
      hi: -1,
      secBase: 0,
      remBase: 0,
    };
    const text = (o: number, l: number): string => buf.toString('utf8', o, o + l);
    this.options(buf, at + 16, at + len - 4, off, (code, o, l) => {
      if (code === OPT.if_name) st.name = text(o, l);
      else if (code === OPT.if_description) st.description = text(o, l);
      else if (code === OPT.if_os) st.os = text(o, l);
      else if (code === OPT.if_filter && l > 1) st.filter = text(o + 1, l - 1);
      else if (code === OPT.if_tsresol && l >= 1) {
        try {
          st.unitsPerSec = unitsOf(buf[o]!);
        } catch (err) {
          this.corrupt((err as Error).message, off);
        }
      } else if (code === OPT.if_tsoffset && l === 8) st.tsOffset = Number(this.le ? buf.readBigInt64LE(o) : buf.readBigInt64BE(o));
    });
    this.ifaces.push(st);
    this.ifaceTotal++;
    const { hi: _h, secBase: _s, remBase: _r, ...plain } = st;
    if (this.described.length < DESCRIBED_IFACES) this.described.push({ ...plain, section: this.section });
    this.sink.interface?.(plain, this.section);
  }

  private iface(id: number, what: string, off: number): IfState {
    const st = this.ifaces[id];
    if (!st) this.corrupt(`${what} names interface ${id}, but its section describes ${this.ifaces.length}`, off);
    return st;
  }

  /** Sets pkt.sec/nsec from a 64-bit timestamp in the interface's units. */
  private stamp(st: IfState, hi: number, lo: number): void {
    const p = this.pkt;
    const ups = st.unitsPerSec;
    if (ups > 2 ** 32) {
      const v = (BigInt(hi) << 32n) | BigInt(lo);
      const u = BigInt(ups);
      p.sec = Number(v / u) + st.tsOffset;
      p.nsec = Math.floor((Number(v % u) / ups) * 1e9);
      return;
    }
    if (hi !== st.hi) {
      const base = BigInt(hi) << 32n;
      st.hi = hi;
      st.secBase = Number(base / BigInt(ups));
      st.remBase = Number(base % BigInt(ups));
    }
    const rem = st.remBase + lo;
    const s = Math.floor(rem / ups);
    const frac = rem - s * ups;
    p.sec = st.secBase + s + st.tsOffset;
    p.nsec = ups === 1e9 ? frac : ups === 1e6 ? frac * 1000 : Math.floor((frac * 1e9) / ups);
  }

  private emit(st: IfState, buf: Buffer, data: number, caplen: number, origLen: number, off: number): void {
    const p = this.pkt;
    p.n++;
    p.iface = st.id;
    p.section = this.section;
    p.linkType = st.linkType;
    p.buf = buf;
    p.off = data;
    p.caplen = caplen;
    p.origLen = origLen;
    p.fileOffset = off;
    this.sink.packet(p);
  }

  /** epb_flags / pack_flags direction, and comments, from a packet block's options. */
  private packetOptions(buf: Buffer, from: number, to: number, off: number): void {
    const p = this.pkt;
    p.dir = DIR.unknown;
    p.comments = null;
    if (to - from < 4) return;
    this.options(buf, from, to, off, (code, o, l) => {
      if (code === OPT.epb_flags && l === 4) {
        const d = (this.le ? buf.readUInt32LE(o) : buf.readUInt32BE(o)) & 3;
        p.dir = (d === 1 ? DIR.in : d === 2 ? DIR.out : DIR.unknown) as Dir;
      } else if (code === OPT.comment) {
        (p.comments ??= []).push(buf.toString('utf8', o, o + l));
      }
    });
  }

  private enhanced(buf: Buffer, at: number, len: number, off: number): void {
    if (len < 32) this.corrupt(`enhanced packet block of ${len} bytes`, off);
    const le = this.le;
    const id = le ? u32le(buf, at + 8) : u32be(buf, at + 8);
    const st = this.ifaces[id] ?? this.iface(id, `packet ${this.pkt.n + 1}`, off);
    const caplen = le ? u32le(buf, at + 20) : u32be(buf, at + 20);
    if (caplen > len - 32) this.corrupt(`packet ${this.pkt.n + 1} claims ${caplen} captured bytes in a block of ${len}`, off);
    this.stamp(st, le ? u32le(buf, at + 12) : u32be(buf, at + 12), le ? u32le(buf, at + 16) : u32be(buf, at + 16));
    this.packetOptions(buf, at + 28 + ((caplen + 3) & ~3), at + len - 4, off);
    this.emit(st, buf, at + 28, caplen, le ? u32le(buf, at + 24) : u32be(buf, at + 24), off);
  }

  private simple(buf: Buffer, at: number, len: number, off: number): void {
    if (len < 16) this.corrupt(`simple packet block of ${len} bytes`, off);
    const st = this.iface(0, `simple packet ${this.pkt.n + 1}`, off);
    const origLen = this.reader(buf).u32(at + 8);
    let caplen = Math.min(origLen, len - 16);
    if (st.snaplen > 0) caplen = Math.min(caplen, st.snaplen);
    // no timestamp in an SPB: it keeps the previous packet's
    this.pkt.dir = DIR.unknown;
    this.pkt.comments = null;
    this.emit(st, buf, at + 12, caplen, origLen, off);
  }

  private obsolete(buf: Buffer, at: number, len: number, off: number): void {
    if (len < 32) this.corrupt(`packet block of ${len} bytes`, off);
    const r = this.reader(buf);
    const st = this.iface(r.u16(at + 8), `packet ${this.pkt.n + 1}`, off);
    const caplen = r.u32(at + 20);
    if (caplen > len - 32) this.corrupt(`packet ${this.pkt.n + 1} claims ${caplen} captured bytes in a block of ${len}`, off);
    this.stamp(st, r.u32(at + 12), r.u32(at + 16));
    this.packetOptions(buf, at + 28 + ((caplen + 3) & ~3), at + len - 4, off);
    this.emit(st, buf, at + 28, caplen, r.u32(at + 24), off);
  }

  private statistics(buf: Buffer, at: number, len: number, off: number): void {
    if (len < 24) this.corrupt(`interface statistics block of ${len} bytes`, off);
    const id = this.reader(buf).u32(at + 8);
    this.iface(id, 'interface statistics', off);
    const s = { received: null as number | null, droppedByIf: null as number | null, droppedByOs: null as number | null };
    const u64 = (o: number): number => Number(this.le ? buf.readBigUInt64LE(o) : buf.readBigUInt64BE(o));
    this.options(buf, at + 20, at + len - 4, off, (code, o, l) => {
      if (l !== 8) return;
      if (code === OPT.isb_ifrecv) s.received = u64(o);
      else if (code === OPT.isb_ifdrop) s.droppedByIf = u64(o);
      else if (code === OPT.isb_osdrop) s.droppedByOs = u64(o);
    });
    this.sink.stats?.({ iface: id, section: this.section, ...s });
  }

  finish(leftover: number, fileOffset: number): void {
    if (this.section < 0) throw new CaptureError(`${this.name}: truncated pcapng: no complete section header (${leftover} bytes)`);
    if (leftover > 0) {
      throw new CaptureError(
        `${this.name}: truncated pcapng: the file ends ${leftover} bytes into a block (at byte ${fileOffset}) that needs ${this.want}; ${this.pkt.n} complete packet${this.pkt.n === 1 ? '' : 's'} before it`,
      );
    }
  }

  describe(): CaptureDescription {
    const ups = new Set(this.described.map((i) => i.unitsPerSec));
    return {
      format: 'pcapng',
      byteOrder: this.orders.size > 1 ? 'mixed' : this.orders.has('big-endian') ? 'big-endian' : 'little-endian',
      resolution: [...ups].map(resolutionName).join(', ') || 'us',
      version: this.version,
      sections: this.section + 1,
      interfaces: this.described,
      names: this.names,
      comment: this.comment,
      application: this.application,
    };
  }

  /** interfaces described beyond those remembered */
  get interfacesNotDescribed(): number {
    return this.ifaceTotal - this.described.length;
  }
}

export function resolutionName(ups: number): string {
  const named: Record<number, string> = { 1: 's', 1e3: 'ms', 1e6: 'us', 1e9: 'ns', 1e12: 'ps' };
  return named[ups] ?? `1/${ups} s`;
}
