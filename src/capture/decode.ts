/**
 * IPv4/IPv6 and TCP/UDP/ICMP/ICMPv6 headers of one captured packet, into one reused
 * object (no allocation per packet beyond the address strings). Lengths come from the
 * headers, not from the captured bytes, so a snaplen that cut the payload does not
 * change what a segment carried. ICMP errors get their quoted header parsed: which flow
 * they answer.
 */
import { u16be, u32be } from './bytes.js';
import { ETH_IPV4, ETH_IPV6 } from './link.js';

export const PROTO = { ICMP: 1, TCP: 6, UDP: 17, ICMPV6: 58 } as const;
export const TCP_FLAG = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10, URG: 0x20, ECE: 0x40, CWR: 0x80 } as const;

/** The header an ICMP error quotes: the packet it answers. */
export interface Quoted {
  family: 0 | 4 | 6;
  proto: number;
  /** IPv4 addresses as numbers; IPv6 ones as binary strings (16 latin1 characters) */
  srcN: number;
  dstN: number;
  src: string;
  dst: string;
  /** -1 when the quote is too short for the ports */
  sport: number;
  dport: number;
  /** TCP sequence number of the quoted segment, -1 when absent */
  seq: number;
  /** IP total length of the quoted packet */
  len: number;
}

export interface Packet {
  family: 0 | 4 | 6;
  /** IP total length (header + payload) as the header says; GSO packets with 0 use the frame */
  ipLen: number;
  ttl: number;
  /** IPv4 identification; -1 for IPv6 */
  ipId: number;
  df: boolean;
  /** 0 not a fragment, 1 first fragment, 2 a later fragment (no L4 header) */
  frag: 0 | 1 | 2;
  /** IPv4 addresses as numbers (no string per packet); IPv6 ones as binary strings: see srcBin/dstBin */
  srcN: number;
  dstN: number;
  src: string;
  dst: string;
  proto: number;
  sport: number;
  dport: number;
  /** TCP */
  seq: number;
  ack: number;
  flags: number;
  win: number;
  /** TCP payload bytes (from the IP length) */
  payload: number;
  /** options of a SYN: -1 when absent */
  mss: number;
  wscale: number;
  /** ICMP / ICMPv6 */
  icmpType: number;
  icmpCode: number;
  /** next-hop MTU of "fragmentation needed" / "packet too big", else -1 */
  icmpMtu: number;
  inner: Quoted;
  /** the headers needed were not all captured */
  short: boolean;
}

export function newPacket(): Packet {
  return {
    family: 0,
    ipLen: 0,
    ttl: 0,
    ipId: -1,
    df: false,
    frag: 0,
    srcN: 0,
    dstN: 0,
    src: '',
    dst: '',
    proto: 0,
    sport: -1,
    dport: -1,
    seq: 0,
    ack: 0,
    flags: 0,
    win: 0,
    payload: 0,
    mss: -1,
    wscale: -1,
    icmpType: -1,
    icmpCode: -1,
    icmpMtu: -1,
    inner: { family: 0, proto: 0, srcN: 0, dstN: 0, src: '', dst: '', sport: -1, dport: -1, seq: -1, len: 0 },
    short: false,
  };
}

const V6_EXT = new Set([0, 43, 60, 51]); // hop-by-hop, routing, destination options, AH

function reset(p: Packet): void {
  p.family = 0;
  p.proto = 0;
  p.sport = -1;
  p.dport = -1;
  p.flags = 0;
  p.payload = 0;
  p.mss = -1;
  p.wscale = -1;
  p.icmpType = -1;
  p.icmpCode = -1;
  p.icmpMtu = -1;
  p.ipId = -1;
  p.frag = 0;
  p.short = false;
  p.df = false;
}

/**
 * Decodes the network header at buf[l3] (EtherType `ethType`) and what it carries, up to
 * buf[end]. `frameLen` is the length on the wire from l3 on (for GSO packets whose IP
 * length field is 0). Returns false when the packet is not IP.
 */
export function decodeIp(buf: Buffer, l3: number, end: number, ethType: number, frameLen: number, p: Packet): boolean {
  reset(p);
  if (ethType === ETH_IPV4) return ipv4(buf, l3, end, frameLen, p);
  if (ethType === ETH_IPV6) return ipv6(buf, l3, end, frameLen, p);
  return false;
}

function ipv4(buf: Buffer, at: number, end: number, frameLen: number, p: Packet): boolean {
  if (end - at < 20 || buf[at]! >> 4 !== 4) return (p.short = end - at < 20);
  const ihl = (buf[at]! & 0xf) * 4;
  const tot = u16be(buf, at + 2);
  p.family = 4;
  p.ipLen = tot === 0 ? frameLen : tot;
  p.ipId = u16be(buf, at + 4);
  const frag = u16be(buf, at + 6);
  p.df = (frag & 0x4000) !== 0;
  p.frag = (frag & 0x1fff) !== 0 ? 2 : frag & 0x2000 ? 1 : 0;
  p.ttl = buf[at + 8]!;
  p.proto = buf[at + 9]!;
  p.srcN = u32be(buf, at + 12);
  p.dstN = u32be(buf, at + 16);
  if (ihl < 20 || end - at < ihl) return (p.short = true);
  if (p.frag === 2) return true;
  l4(buf, at + ihl, end, p.ipLen - ihl, p);
  return true;
}

function ipv6(buf: Buffer, at: number, end: number, frameLen: number, p: Packet): boolean {
  if (end - at < 40) return (p.short = true);
  const plen = u16be(buf, at + 4);
  p.family = 6;
  p.ipLen = plen === 0 ? frameLen : 40 + plen; // 0: a jumbogram or a BIG TCP packet
  p.ttl = buf[at + 7]!;
  p.src = buf.toString('latin1', at + 8, at + 24);
  p.dst = buf.toString('latin1', at + 24, at + 40);
  let next = buf[at + 6]!;
  let off = at + 40;
  for (let k = 0; k < 8; k++) {
    if (next === 44) {
      // fragment header: offset and M flag
      if (end - off < 8) return (p.short = true);
      const fo = u16be(buf, off + 2);
      p.frag = fo >> 3 !== 0 ? 2 : fo & 1 ? 1 : 0;
      next = buf[off]!;
      off += 8;
      continue;
    }
    if (!V6_EXT.has(next)) break;
    if (end - off < 8) return (p.short = true);
    const len = next === 51 ? (buf[off + 1]! + 2) * 4 : (buf[off + 1]! + 1) * 8;
    next = buf[off]!;
    off += len;
  }
  p.proto = next;
  if (p.frag === 2) return true;
  l4(buf, off, end, p.ipLen - (off - at), p);
  return true;
}

function l4(buf: Buffer, at: number, end: number, len: number, p: Packet): void {
  switch (p.proto) {
    case 6:
      return tcp(buf, at, end, len, p);
    case 17:
      if (end - at < 8) return void (p.short = true);
      p.sport = u16be(buf, at);
      p.dport = u16be(buf, at + 2);
      p.payload = Math.max(0, len - 8);
      return;
    case 1:
    case 58:
      return icmp(buf, at, end, p);
    default:
      return;
  }
}

function tcp(buf: Buffer, at: number, end: number, len: number, p: Packet): void {
  if (end - at < 20) return void (p.short = true);
  p.sport = u16be(buf, at);
  p.dport = u16be(buf, at + 2);
  p.seq = u32be(buf, at + 4);
  p.ack = u32be(buf, at + 8);
  const hl = (buf[at + 12]! >> 4) * 4;
  p.flags = buf[at + 13]!;
  p.win = u16be(buf, at + 14);
  p.payload = Math.max(0, len - hl);
  if (p.flags & TCP_FLAG.SYN && hl > 20) synOptions(buf, at + 20, Math.min(at + hl, end), p);
}

/** MSS and window scale of a SYN. */
function synOptions(buf: Buffer, at: number, end: number, p: Packet): void {
  while (at < end) {
    const kind = buf[at]!;
    if (kind === 0) return;
    if (kind === 1) {
      at++;
      continue;
    }
    if (at + 1 >= end) return;
    const len = buf[at + 1]!;
    if (len < 2 || at + len > end) return;
    if (kind === 2 && len === 4) p.mss = u16be(buf, at + 2);
    else if (kind === 3 && len === 3) p.wscale = buf[at + 2]!;
    at += len;
  }
}

/** ICMPv4 errors: unreachable 3, source quench 4, redirect 5, time exceeded 11, parameter 12. */
const ICMP4_ERRORS = new Set([3, 4, 5, 11, 12]);

function icmp(buf: Buffer, at: number, end: number, p: Packet): void {
  if (end - at < 8) return void (p.short = true);
  p.icmpType = buf[at]!;
  p.icmpCode = buf[at + 1]!;
  const v6 = p.proto === 58;
  const error = v6 ? p.icmpType < 128 : ICMP4_ERRORS.has(p.icmpType);
  if (!error) return;
  if (!v6 && p.icmpType === 3 && p.icmpCode === 4) p.icmpMtu = u16be(buf, at + 6);
  if (v6 && p.icmpType === 2) p.icmpMtu = u32be(buf, at + 4);
  quoted(buf, at + 8, end, p.inner);
}

/** The quoted header of an ICMP error (as much as was captured). */
function quoted(buf: Buffer, at: number, end: number, q: Quoted): void {
  q.family = 0;
  q.sport = -1;
  q.dport = -1;
  q.seq = -1;
  if (end - at < 20) return;
  const v = buf[at]! >> 4;
  let l4at: number;
  if (v === 4) {
    const ihl = (buf[at]! & 0xf) * 4;
    q.family = 4;
    q.len = u16be(buf, at + 2);
    q.proto = buf[at + 9]!;
    q.srcN = u32be(buf, at + 12);
    q.dstN = u32be(buf, at + 16);
    l4at = at + ihl;
  } else if (v === 6 && end - at >= 40) {
    q.family = 6;
    q.len = 40 + u16be(buf, at + 4);
    q.proto = buf[at + 6]!;
    q.src = buf.toString('latin1', at + 8, at + 24);
    q.dst = buf.toString('latin1', at + 24, at + 40);
    l4at = at + 40;
  } else return;
  if ((q.proto === 6 || q.proto === 17) && end - l4at >= 4) {
    q.sport = u16be(buf, l4at);
    q.dport = u16be(buf, l4at + 2);
    if (q.proto === 6 && end - l4at >= 8) q.seq = u32be(buf, l4at + 4);
  }
}

/** The binary string (4 latin1 characters) of an IPv4 address number. */
export function bin4(n: number): string {
  return String.fromCharCode(n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255);
}

/** Source and destination as binary strings (4 or 16 characters), whatever the family. */
export function srcBin(p: { family: number; srcN: number; src: string }): string {
  return p.family === 4 ? bin4(p.srcN) : p.src;
}

export function dstBin(p: { family: number; dstN: number; dst: string }): string {
  return p.family === 4 ? bin4(p.dstN) : p.dst;
}

/** Printable form of a binary address string (dotted quad, or RFC 5952 IPv6). */
export function addrText(bin: string): string {
  if (bin.length === 4) return `${bin.charCodeAt(0)}.${bin.charCodeAt(1)}.${bin.charCodeAt(2)}.${bin.charCodeAt(3)}`;
  const words: number[] = [];
  for (let k = 0; k < 16; k += 2) words.push((bin.charCodeAt(k) << 8) | bin.charCodeAt(k + 1));
  // longest run of two or more zero words becomes "::"
  let best = -1;
  let bestLen = 1;
  for (let k = 0; k < 8; ) {
    if (words[k] !== 0) {
      k++;
      continue;
    }
    let j = k;
    while (j < 8 && words[j] === 0) j++;
    if (j - k > bestLen) [best, bestLen] = [k, j - k];
    k = j;
  }
  const hex = (ws: number[]): string => ws.map((w) => w.toString(16)).join(':');
  if (best < 0) return hex(words);
  return `${hex(words.slice(0, best))}::${hex(words.slice(best + bestLen))}`;
}

/** "S", "S.", "R.", "P.", "F." as tcpdump prints TCP flags. */
export function flagsText(f: number): string {
  let s = '';
  if (f & TCP_FLAG.SYN) s += 'S';
  if (f & TCP_FLAG.FIN) s += 'F';
  if (f & TCP_FLAG.RST) s += 'R';
  if (f & TCP_FLAG.PSH) s += 'P';
  if (f & TCP_FLAG.URG) s += 'U';
  if (f & TCP_FLAG.ECE) s += 'E';
  if (f & TCP_FLAG.CWR) s += 'W';
  if (f & TCP_FLAG.ACK) s += '.';
  return s || 'none';
}
