/**
 * Test and bench support: packets built byte by byte (Ethernet, Linux cooked, IPv4/IPv6,
 * TCP with SYN options, UDP, ICMP errors quoting a packet) and the capture files that
 * hold them (pcap in both byte orders and resolutions, pcapng through the writer), so
 * unit tests and the bench need no capture tool. Checksums are real.
 */
import { PcapngWriter } from '../../src/capture/pcapng.js';

export const TCP = { FIN: 1, SYN: 2, RST: 4, PSH: 8, ACK: 16 } as const;

function sum16(b: Uint8Array, start = 0, end = b.length, acc = 0): number {
  let s = acc;
  for (let i = start; i + 1 < end; i += 2) s += (b[i]! << 8) | b[i + 1]!;
  if ((end - start) & 1) s += b[end - 1]! << 8;
  return s;
}

function fold(s: number): number {
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

export function v4(a: string): Buffer {
  return Buffer.from(a.split('.').map(Number));
}

export function v6(a: string): Buffer {
  const [head, tail] = a.includes('::') ? a.split('::') : [a, ''];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const words = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  words.forEach((w, i) => out.writeUInt16BE(parseInt(w, 16), i * 2));
  return out;
}

export interface TcpOpts {
  seq?: number;
  ack?: number;
  flags: number;
  win?: number;
  mss?: number;
  wscale?: number;
  payload?: number;
}

/** A TCP header (+ zero payload); checksum filled by ip(). */
export function tcp(sport: number, dport: number, o: TcpOpts): Buffer {
  const opts: number[] = [];
  if (o.mss !== undefined) opts.push(2, 4, o.mss >> 8, o.mss & 0xff);
  if (o.wscale !== undefined) opts.push(1, 3, 3, o.wscale);
  while (opts.length % 4) opts.push(0);
  const hl = 20 + opts.length;
  const b = Buffer.alloc(hl + (o.payload ?? 0));
  b.writeUInt16BE(sport, 0);
  b.writeUInt16BE(dport, 2);
  b.writeUInt32BE((o.seq ?? 0) >>> 0, 4);
  b.writeUInt32BE((o.ack ?? 0) >>> 0, 8);
  b[12] = (hl / 4) << 4;
  b[13] = o.flags;
  b.writeUInt16BE(o.win ?? 64240, 14);
  Buffer.from(opts).copy(b, 20);
  return b;
}

export function udp(sport: number, dport: number, payload = 0): Buffer {
  const b = Buffer.alloc(8 + payload);
  b.writeUInt16BE(sport, 0);
  b.writeUInt16BE(dport, 2);
  b.writeUInt16BE(8 + payload, 4);
  return b;
}

export interface IpOpts {
  ttl?: number;
  id?: number;
  df?: boolean;
  /** IPv4 total length field; default the real length (0 for a GSO super-packet) */
  totLen?: number;
}

/** An IPv4 or IPv6 packet around an L4 segment (addresses decide the family). */
export function ip(src: string, dst: string, proto: number, l4: Buffer, o: IpOpts = {}): Buffer {
  const six = src.includes(':');
  const s = six ? v6(src) : v4(src);
  const d = six ? v6(dst) : v4(dst);
  const pseudo = sum16(s) + sum16(d) + proto + l4.length;
  const ck = proto === 6 ? 16 : proto === 17 ? 6 : proto === 58 ? 2 : proto === 1 ? 2 : -1;
  if (ck >= 0) {
    l4.writeUInt16BE(0, ck);
    l4.writeUInt16BE(fold(sum16(l4, 0, l4.length, proto === 1 ? 0 : pseudo)), ck);
  }
  if (six) {
    const h = Buffer.alloc(40);
    h[0] = 0x60;
    h.writeUInt16BE(l4.length, 4);
    h[6] = proto;
    h[7] = o.ttl ?? 64;
    s.copy(h, 8);
    d.copy(h, 24);
    return Buffer.concat([h, l4]);
  }
  const h = Buffer.alloc(20);
  h[0] = 0x45;
  h.writeUInt16BE(o.totLen ?? 20 + l4.length, 2);
  h.writeUInt16BE(o.id ?? 0, 4);
  h.writeUInt16BE(o.df === false ? 0 : 0x4000, 6);
  h[8] = o.ttl ?? 64;
  h[9] = proto;
  s.copy(h, 12);
  d.copy(h, 16);
  h.writeUInt16BE(fold(sum16(h)), 10);
  return Buffer.concat([h, l4]);
}

/** An ICMP(v6) error from `router` quoting the first bytes of `quoted`. */
export function icmpError(router: string, to: string, type: number, code: number, quoted: Buffer, mtu = 0): Buffer {
  const six = router.includes(':');
  const q = quoted.subarray(0, six ? 1232 : 28 + 20);
  const h = Buffer.alloc(8);
  h[0] = type;
  h[1] = code;
  if (six) h.writeUInt32BE(mtu, 4);
  else h.writeUInt16BE(mtu, 6);
  return ip(router, to, six ? 58 : 1, Buffer.concat([h, q]), { ttl: 63, df: false });
}

export function ether(packet: Buffer, opts: { six?: boolean; vlan?: number } = {}): Buffer {
  const type = packet[0]! >> 4 === 6 ? 0x86dd : 0x0800;
  const h = Buffer.alloc(opts.vlan !== undefined ? 18 : 14);
  Buffer.from([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1]).copy(h, 0);
  if (opts.vlan !== undefined) {
    h.writeUInt16BE(0x8100, 12);
    h.writeUInt16BE(opts.vlan, 14);
    h.writeUInt16BE(type, 16);
  } else h.writeUInt16BE(type, 12);
  return Buffer.concat([h, packet]);
}

/** Linux cooked v1 (113) or v2 (276) header; pktType 0 host (incoming), 4 outgoing. */
export function cooked(packet: Buffer, version: 1 | 2, pktType: number, ifindex = 2): Buffer {
  const type = packet[0]! >> 4 === 6 ? 0x86dd : 0x0800;
  if (version === 1) {
    const h = Buffer.alloc(16);
    h.writeUInt16BE(pktType, 0);
    h.writeUInt16BE(1, 2);
    h.writeUInt16BE(6, 4);
    h.writeUInt16BE(type, 14);
    return Buffer.concat([h, packet]);
  }
  const h = Buffer.alloc(20);
  h.writeUInt16BE(type, 0);
  h.writeUInt32BE(ifindex, 4);
  h.writeUInt16BE(1, 8);
  h[10] = pktType;
  h[11] = 6;
  return Buffer.concat([h, packet]);
}

export interface Frame {
  /** nanoseconds since the epoch */
  tsNs: bigint;
  data: Buffer;
  origLen?: number;
  iface?: number;
  dir?: 'in' | 'out';
}

export interface PcapOpts {
  linkType?: number;
  nanos?: boolean;
  bigEndian?: boolean;
  snaplen?: number;
}

/** A classic pcap file. */
export function pcapFile(frames: readonly Frame[], o: PcapOpts = {}): Buffer {
  const be = o.bigEndian === true;
  const w32 = (b: Buffer, v: number, at: number): number => (be ? b.writeUInt32BE(v >>> 0, at) : b.writeUInt32LE(v >>> 0, at));
  const head = Buffer.alloc(24);
  w32(head, o.nanos ? 0xa1b23c4d : 0xa1b2c3d4, 0);
  (be ? head.writeUInt16BE.bind(head) : head.writeUInt16LE.bind(head))(2, 4);
  (be ? head.writeUInt16BE.bind(head) : head.writeUInt16LE.bind(head))(4, 6);
  w32(head, o.snaplen ?? 262144, 16);
  w32(head, o.linkType ?? 1, 20);
  const parts: Buffer[] = [head];
  for (const f of frames) {
    const r = Buffer.alloc(16);
    const sec = Number(f.tsNs / 1_000_000_000n);
    const ns = Number(f.tsNs % 1_000_000_000n);
    w32(r, sec, 0);
    w32(r, o.nanos ? ns : Math.floor(ns / 1000), 4);
    w32(r, f.data.length, 8);
    w32(r, f.origLen ?? f.data.length, 12);
    parts.push(r, f.data);
  }
  return Buffer.concat(parts);
}

/** A pcapng file through the writer; one interface per distinct `iface` (named if0, if1...). */
export function pcapngFile(frames: readonly Frame[], linkType = 1, snaplen = 262144): Buffer {
  const chunks: Buffer[] = [];
  const w = new PcapngWriter((b) => chunks.push(b), { application: 'pktpath tests' });
  for (const f of frames) {
    const id = w.interfaceId({ netns: 'test', dev: `if${f.iface ?? 0}`, linkType, snaplen });
    w.packet({ iface: id, tsNs: f.tsNs, data: f.data, origLen: f.origLen ?? f.data.length, dir: f.dir });
  }
  w.flush();
  return Buffer.concat(chunks);
}

export interface Host {
  addr: string;
  port: number;
  ttl?: number;
}

/**
 * A TCP conversation between a (client) and b, written as steps; each step adds one
 * Ethernet frame at time `ms` and keeps both sequence numbers right.
 */
export class Conversation {
  readonly frames: Frame[] = [];
  private seq: [number, number] = [1000, 5000];
  private ipId: [number, number] = [100, 9000];

  constructor(
    readonly a: Host,
    readonly b: Host,
    private readonly t0 = 1_700_000_000_000_000_000n,
  ) {}

  private emit(from: 0 | 1, ms: number, o: TcpOpts, ipo: IpOpts = {}): Buffer {
    const [s, d] = from === 0 ? [this.a, this.b] : [this.b, this.a];
    const seg = tcp(s.port, d.port, o);
    const id = ipo.id ?? this.ipId[from]++;
    const pkt = ip(s.addr, d.addr, 6, seg, { ttl: s.ttl ?? 64, id, ...ipo });
    this.frames.push({ tsNs: this.t0 + BigInt(Math.round(ms * 1e6)), data: ether(pkt) });
    return pkt;
  }

  handshake(ms: number, rttMs: number, mss: [number, number] = [1460, 1460]): this {
    this.emit(0, ms, { seq: this.seq[0] - 1, flags: TCP.SYN, mss: mss[0], wscale: 7 });
    this.emit(1, ms + rttMs, { seq: this.seq[1] - 1, ack: this.seq[0], flags: TCP.SYN | TCP.ACK, mss: mss[1], wscale: 7 });
    this.emit(0, ms + rttMs + 0.01, { seq: this.seq[0], ack: this.seq[1], flags: TCP.ACK });
    return this;
  }

  syn(ms: number): Buffer {
    return this.emit(0, ms, { seq: this.seq[0] - 1, flags: TCP.SYN, mss: 1460 });
  }

  /** `len` bytes from `from`; `resend` sends the bytes at `at` again without advancing. */
  data(from: 0 | 1, ms: number, len: number, o: { at?: number; win?: number } = {}): Buffer {
    const seq = o.at ?? this.seq[from];
    if (o.at === undefined) this.seq[from] += len;
    return this.emit(from, ms, { seq, ack: this.seq[from === 0 ? 1 : 0], flags: TCP.ACK | TCP.PSH, payload: len, win: o.win });
  }

  /** Where side `from` will send next. */
  next(from: 0 | 1): number {
    return this.seq[from];
  }

  ack(from: 0 | 1, ms: number, o: { win?: number; ack?: number } = {}): Buffer {
    return this.emit(from, ms, { seq: this.seq[from], ack: o.ack ?? this.seq[from === 0 ? 1 : 0], flags: TCP.ACK, win: o.win });
  }

  rst(from: 0 | 1, ms: number, ipo: IpOpts = {}, flags = TCP.RST | TCP.ACK): Buffer {
    return this.emit(from, ms, { seq: this.seq[from], ack: this.seq[from === 0 ? 1 : 0], flags }, ipo);
  }

  fin(from: 0 | 1, ms: number): Buffer {
    const p = this.emit(from, ms, { seq: this.seq[from], ack: this.seq[from === 0 ? 1 : 0], flags: TCP.FIN | TCP.ACK });
    this.seq[from]++;
    return p;
  }

  /** An extra frame at `ms` (an ICMP error, a forged packet). */
  raw(ms: number, packet: Buffer): void {
    this.frames.push({ tsNs: this.t0 + BigInt(Math.round(ms * 1e6)), data: ether(packet) });
  }

  sorted(): Frame[] {
    return [...this.frames].sort((x, y) => (x.tsNs < y.tsNs ? -1 : x.tsNs > y.tsNs ? 1 : 0));
  }
}
