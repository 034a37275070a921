/**
 * Numbers of the capture file formats: pcap (draft-ietf-opsawg-pcap) and pcapng
 * (draft-ietf-opsawg-pcapng), and the link types this folder decodes.
 */

/** pcap magic numbers, as read little-endian from the first four bytes. */
export const PCAP_MAGIC = {
  usLE: 0xa1b2c3d4,
  usBE: 0xd4c3b2a1,
  nsLE: 0xa1b23c4d,
  nsBE: 0x4d3cb2a1,
  /** Kuznetsov's "modified" pcap: 8 more bytes per record (ifindex, protocol, pkt_type) */
  modLE: 0xa1b2cd34,
  modBE: 0x34cdb2a1,
} as const;

export const PCAP_FILE_HEADER = 24;

/** pcapng block types. */
export const BLOCK = {
  SHB: 0x0a0d0d0a,
  IDB: 1,
  /** obsolete Packet Block (still written by old tools) */
  OPB: 2,
  SPB: 3,
  NRB: 4,
  ISB: 5,
  EPB: 6,
} as const;

export const BYTE_ORDER_MAGIC = 0x1a2b3c4d;

/** Option codes (pcapng section 3.5 and the block sections). */
export const OPT = {
  endofopt: 0,
  comment: 1,
  shb_hardware: 2,
  shb_os: 3,
  shb_userappl: 4,
  if_name: 2,
  if_description: 3,
  if_tsresol: 9,
  if_filter: 11,
  if_os: 12,
  if_tsoffset: 14,
  epb_flags: 2,
  epb_dropcount: 4,
  epb_packetid: 5,
  isb_starttime: 2,
  isb_endtime: 3,
  isb_ifrecv: 4,
  isb_ifdrop: 5,
  isb_osdrop: 7,
} as const;

/** Link types decoded by link.ts, with the names tcpdump prints. */
export const LINKTYPE = {
  NULL: 0,
  ETHERNET: 1,
  RAW: 101,
  LOOP: 108,
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const;

export const LINKTYPE_NAMES: Readonly<Record<number, string>> = {
  0: 'BSD loopback (NULL)',
  1: 'Ethernet',
  101: 'raw IP',
  108: 'OpenBSD loopback (LOOP)',
  113: 'Linux cooked v1 (SLL)',
  228: 'raw IPv4',
  229: 'raw IPv6',
  276: 'Linux cooked v2 (SLL2)',
  // common ones we do not decode, so the error names them
  105: 'IEEE 802.11',
  127: 'IEEE 802.11 radiotap',
  147: 'USER0',
  192: 'PPI',
  220: 'USB Linux mmapped',
  249: 'netlink',
};

export function linkTypeName(lt: number): string {
  return LINKTYPE_NAMES[lt] ?? `link type ${lt}`;
}

export function linkTypeSupported(lt: number): boolean {
  return lt === 0 || lt === 1 || lt === 101 || lt === 108 || lt === 113 || lt === 228 || lt === 229 || lt === 276;
}

/** Packet direction as pcapng's epb_flags (bits 0-1) and Linux's pkt_type tell it. */
export const DIR = { unknown: 0, in: 1, out: 2 } as const;
export type Dir = (typeof DIR)[keyof typeof DIR];

/**
 * Largest record or block accepted. tcpdump's largest snaplen is 262144; pcapng blocks
 * may carry options too. A length beyond this is taken as corruption, not a reason to
 * allocate gigabytes.
 */
export const MAX_RECORD = 16 * 1024 * 1024;
