/**
 * Link layers down to the network header: Ethernet (with 802.1Q/802.1ad tags), Linux
 * cooked v1 and v2 (`tcpdump -i any`; they also say which way the packet went and, v2,
 * on which interface), raw IP, and BSD/OpenBSD loopback.
 */
import { u16be, u32be } from './bytes.js';
import { DIR, LINKTYPE } from './format.js';
import type { Dir } from './format.js';

export const ETH_IPV4 = 0x0800;
export const ETH_IPV6 = 0x86dd;
const VLAN_TAGS = new Set([0x8100, 0x88a8, 0x9100]);

/** Where the network header starts; filled by linkHeader. */
export interface LinkInfo {
  /** offset of the network header in the record's buffer */
  l3: number;
  /** 0x0800, 0x86dd, another EtherType, or 0 when the link type is not decoded */
  ethType: number;
  /** direction, when the link header says (Linux cooked) */
  dir: Dir;
  /** the capture's interface index (Linux cooked v2), else 0 */
  ifindex: number;
  vlan: number;
}

/** Linux pkt_type: PACKET_HOST 0, BROADCAST 1, MULTICAST 2, OTHERHOST 3, OUTGOING 4. */
function dirOfPktType(t: number): Dir {
  return t === 4 ? DIR.out : t <= 3 ? DIR.in : DIR.unknown;
}

/**
 * Reads the EtherType at `typeAt` and skips the VLAN tags that start at `next` (each a
 * TCI and the next type); returns where the network header starts.
 */
function skipTags(buf: Buffer, typeAt: number, next: number, end: number, out: LinkInfo): number {
  let type = u16be(buf, typeAt);
  for (let k = 0; k < 3 && VLAN_TAGS.has(type) && next + 4 <= end; k++) {
    out.vlan = u16be(buf, next) & 0xfff;
    type = u16be(buf, next + 2);
    next += 4;
  }
  out.ethType = type;
  return next;
}

function ipVersion(buf: Buffer, at: number, end: number): number {
  if (at >= end) return 0;
  const v = buf[at]! >> 4;
  return v === 4 ? ETH_IPV4 : v === 6 ? ETH_IPV6 : 0;
}

/** AF_INET is 2 everywhere; AF_INET6 is 10 (Linux), 24 (NetBSD/OpenBSD), 28 (FreeBSD), 30 (macOS). */
function ethTypeOfFamily(af: number): number {
  return af === 2 ? ETH_IPV4 : af === 10 || af === 24 || af === 28 || af === 30 ? ETH_IPV6 : 0;
}

/**
 * Fills `out` for a record of `linkType` in buf[off, off + caplen). Returns false when
 * the link header is cut short or the link type is not decoded.
 */
export function linkHeader(linkType: number, buf: Buffer, off: number, caplen: number, out: LinkInfo): boolean {
  const end = off + caplen;
  out.dir = DIR.unknown;
  out.ifindex = 0;
  out.vlan = -1;
  switch (linkType) {
    case LINKTYPE.ETHERNET:
      if (caplen < 14) return false;
      out.l3 = skipTags(buf, off + 12, off + 14, end, out);
      return true;
    case LINKTYPE.LINUX_SLL:
      if (caplen < 16) return false;
      out.dir = dirOfPktType(u16be(buf, off));
      out.l3 = skipTags(buf, off + 14, off + 16, end, out);
      return true;
    case LINKTYPE.LINUX_SLL2:
      if (caplen < 20) return false;
      out.dir = dirOfPktType(buf[off + 10]!);
      out.ifindex = u32be(buf, off + 4);
      out.l3 = skipTags(buf, off, off + 20, end, out); // tags follow the 20-byte header
      return true;
    case LINKTYPE.RAW:
      out.l3 = off;
      out.ethType = ipVersion(buf, off, end);
      return true;
    case LINKTYPE.IPV4:
      out.l3 = off;
      out.ethType = ETH_IPV4;
      return true;
    case LINKTYPE.IPV6:
      out.l3 = off;
      out.ethType = ETH_IPV6;
      return true;
    case LINKTYPE.NULL: {
      if (caplen < 4) return false;
      const le = buf.readUInt32LE(off);
      out.ethType = ethTypeOfFamily(le > 0xffff ? u32be(buf, off) : le);
      out.l3 = off + 4;
      return true;
    }
    case LINKTYPE.LOOP:
      if (caplen < 4) return false;
      out.ethType = ethTypeOfFamily(u32be(buf, off));
      out.l3 = off + 4;
      return true;
    default:
      out.ethType = 0;
      return false;
  }
}
