/**
 * Classic pcap (draft-ietf-opsawg-pcap): a 24-byte file header, then records of a 16-byte
 * header and the bytes. Both byte orders, microsecond and nanosecond magic, and the
 * "modified" variant whose records carry 8 more bytes (ifindex, protocol, pkt_type).
 */
import { u32be, u32le } from './bytes.js';
import { DIR, MAX_RECORD, PCAP_FILE_HEADER, PCAP_MAGIC } from './format.js';
import type { Dir } from './format.js';
import { CaptureError, newRawPacket } from './records.js';
import type { CaptureDescription, CaptureInterface, CaptureSink, RecordParser } from './records.js';

/** pkt_type of the modified format (Linux's PACKET_*): 4 is PACKET_OUTGOING. */
function dirOfPktType(t: number): Dir {
  return t === 4 ? DIR.out : t <= 3 ? DIR.in : DIR.unknown;
}

export class PcapParser implements RecordParser {
  readonly format = 'pcap';
  private le = true;
  private nanos = false;
  private modified = false;
  private header = false;
  private iface: CaptureInterface | null = null;
  private version = '';
  private want = PCAP_FILE_HEADER;
  private readonly pkt = newRawPacket();

  constructor(
    private readonly sink: CaptureSink,
    private readonly name: string,
  ) {}

  needed(): number {
    return this.want;
  }

  private fileHeader(buf: Buffer, at: number): void {
    const magic = buf.readUInt32LE(at);
    const m = PCAP_MAGIC;
    this.le = magic === m.usLE || magic === m.nsLE || magic === m.modLE;
    this.nanos = magic === m.nsLE || magic === m.nsBE;
    this.modified = magic === m.modLE || magic === m.modBE;
    const u16 = (o: number): number => (this.le ? buf.readUInt16LE(at + o) : buf.readUInt16BE(at + o));
    const u32 = (o: number): number => (this.le ? buf.readUInt32LE(at + o) : buf.readUInt32BE(at + o));
    this.version = `${u16(4)}.${u16(6)}`;
    const linkType = u32(20) & 0xffff;
    this.iface = {
      id: 0,
      linkType,
      snaplen: u32(16),
      name: null,
      description: null,
      unitsPerSec: this.nanos ? 1e9 : 1e6,
      tsOffset: 0,
      filter: null,
      os: null,
    };
    this.pkt.linkType = linkType;
    this.header = true;
    this.sink.interface?.(this.iface, 0);
  }

  parse(buf: Buffer, start: number, end: number, fileOffset: number): number {
    let at = start;
    if (!this.header) {
      if (end - at < PCAP_FILE_HEADER) return at;
      this.fileHeader(buf, at);
      at += PCAP_FILE_HEADER;
    }
    const hdr = this.modified ? 24 : 16;
    const le = this.le;
    const p = this.pkt;
    const sink = this.sink;
    const scale = this.nanos ? 1 : 1000;
    while (end - at >= hdr) {
      const sec = le ? u32le(buf, at) : u32be(buf, at);
      const frac = le ? u32le(buf, at + 4) : u32be(buf, at + 4);
      const caplen = le ? u32le(buf, at + 8) : u32be(buf, at + 8);
      if (caplen > MAX_RECORD) this.corrupt(`record ${p.n + 1} claims ${caplen} captured bytes`, fileOffset + at - start);
      if (end - at < hdr + caplen) {
        this.want = hdr + caplen;
        return at;
      }
      p.n++;
      p.sec = sec;
      p.nsec = frac * scale;
      p.origLen = le ? u32le(buf, at + 12) : u32be(buf, at + 12);
      p.dir = this.modified ? dirOfPktType(buf[at + 22]!) : DIR.unknown;
      p.buf = buf;
      p.off = at + hdr;
      p.caplen = caplen;
      p.fileOffset = fileOffset + at - start;
      if (p.nsec >= 1e9) this.corrupt(`record ${p.n} has a sub-second part of ${frac} (beyond one second)`, p.fileOffset);
      sink.packet(p);
      at += hdr + caplen;
    }
    this.want = hdr;
    return at;
  }

  private corrupt(what: string, offset: number): never {
    throw new CaptureError(`${this.name}: corrupt pcap: ${what} at byte ${offset}`);
  }

  finish(leftover: number, fileOffset: number): void {
    if (!this.header) throw new CaptureError(`${this.name}: truncated pcap: the file header needs 24 bytes, the file has ${leftover}`);
    if (leftover > 0) {
      throw new CaptureError(
        `${this.name}: truncated pcap: the file ends ${leftover} bytes into record ${this.pkt.n + 1} (at byte ${fileOffset}), which needs ${this.want}; ${this.pkt.n} complete packet${this.pkt.n === 1 ? '' : 's'} before it`,
      );
    }
  }

  describe(): CaptureDescription {
    const i = this.iface;
    return {
      format: 'pcap',
      byteOrder: this.le ? 'little-endian' : 'big-endian',
      resolution: this.nanos ? 'ns' : 'us',
      version: this.version + (this.modified ? ' (modified)' : ''),
      sections: 1,
      interfaces: i ? [{ ...i, section: 0 }] : [],
      names: 0,
      comment: null,
      application: null,
    };
  }
}
