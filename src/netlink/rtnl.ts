/**
 * rtnetlink dumps of a namespace's links (name, kind, statistics) and addresses. Pure:
 * requests are bytes, replies are parsed from bytes.
 *
 * Link statistics are IFLA_STATS64, struct rtnl_link_stats64: the numbers the kernel
 * shows under /sys/class/net/<if>/statistics and in /proc/net/dev (all three come from
 * dev_get_stats()), read here over netlink because sysfs shows the namespace that
 * mounted it, not the one we ask about.
 */
import { attrString, attrUint, encodeRequest, NLM_F_DUMP, parseAttributes, replyMessages } from './netlink.js';
import { formatAddr } from '../shared/addr.js';

const RTM_NEWLINK = 16;
const RTM_GETLINK = 18;
const RTM_NEWADDR = 20;
const RTM_GETADDR = 22;
const IFINFOMSG_LEN = 16;
const IFADDRMSG_LEN = 8;
const IFLA_IFNAME = 3;
const IFLA_LINKINFO = 18;
const IFLA_STATS64 = 23;
const IFLA_INFO_KIND = 1;
const IFA_ADDRESS = 1;
const IFA_LOCAL = 2;
const AF_INET = 2;
const AF_INET6 = 10;

/** struct rtnl_link_stats64 in field order; kernels append fields, older ones stop early. */
export const LINK_STATS64_FIELDS = [
  'rx_packets', 'tx_packets', 'rx_bytes', 'tx_bytes', 'rx_errors', 'tx_errors', 'rx_dropped', 'tx_dropped',
  'multicast', 'collisions', 'rx_length_errors', 'rx_over_errors', 'rx_crc_errors', 'rx_frame_errors',
  'rx_fifo_errors', 'rx_missed_errors', 'tx_aborted_errors', 'tx_carrier_errors', 'tx_fifo_errors',
  'tx_heartbeat_errors', 'tx_window_errors', 'rx_compressed', 'tx_compressed', 'rx_nohandler',
  'rx_otherhost_dropped',
] as const;

export interface Link {
  ifindex: number;
  name: string;
  /** IFLA_INFO_KIND: veth, bridge, ...; undefined for plain devices (lo, a NIC) */
  kind?: string;
  /** field -> value, only the fields this kernel reports */
  stats: Map<string, number>;
}

export interface IfAddress {
  ifindex: number;
  family: 4 | 6;
  address: string;
  prefixlen: number;
}

/** RTM_GETLINK dump request (every link of the namespace). */
export function linkDumpRequest(seq: number): Uint8Array {
  return encodeRequest(RTM_GETLINK, NLM_F_DUMP, seq, new Uint8Array(IFINFOMSG_LEN));
}

/** RTM_GETADDR dump request (IPv4 and IPv6 addresses). */
export function addrDumpRequest(seq: number): Uint8Array {
  return encodeRequest(RTM_GETADDR, NLM_F_DUMP, seq, new Uint8Array(IFADDRMSG_LEN));
}

function parseStats64(v: Uint8Array | undefined): Map<string, number> {
  const stats = new Map<string, number>();
  if (!v) return stats;
  const dv = new DataView(v.buffer, v.byteOffset, v.byteLength);
  LINK_STATS64_FIELDS.forEach((name, i) => {
    if ((i + 1) * 8 <= v.length) stats.set(name, Number(dv.getBigUint64(i * 8, true)));
  });
  return stats;
}

/** Links of a RTM_GETLINK dump reply. */
export function parseLinks(buf: Uint8Array, seq: number): Link[] {
  const out: Link[] = [];
  for (const m of replyMessages(buf, seq, 'link dump')) {
    if (m.type !== RTM_NEWLINK || m.payload.length < IFINFOMSG_LEN) continue;
    const dv = new DataView(m.payload.buffer, m.payload.byteOffset, m.payload.byteLength);
    const attrs = parseAttributes(m.payload, IFINFOMSG_LEN);
    const info = attrs.get(IFLA_LINKINFO);
    const kind = info ? attrString(parseAttributes(info).get(IFLA_INFO_KIND)) : undefined;
    out.push({
      ifindex: dv.getInt32(4, true),
      name: attrString(attrs.get(IFLA_IFNAME)) ?? '',
      ...(kind ? { kind } : {}),
      stats: parseStats64(attrs.get(IFLA_STATS64)),
    });
  }
  return out;
}

/** Addresses of a RTM_GETADDR dump reply (IFA_LOCAL for IPv4, IFA_ADDRESS otherwise). */
export function parseAddresses(buf: Uint8Array, seq: number): IfAddress[] {
  const out: IfAddress[] = [];
  for (const m of replyMessages(buf, seq, 'address dump')) {
    if (m.type !== RTM_NEWADDR || m.payload.length < IFADDRMSG_LEN) continue;
    const af = m.payload[0];
    if (af !== AF_INET && af !== AF_INET6) continue;
    const family = af === AF_INET ? 4 : 6;
    const attrs = parseAttributes(m.payload, IFADDRMSG_LEN);
    const raw = (family === 4 ? attrs.get(IFA_LOCAL) : undefined) ?? attrs.get(IFA_ADDRESS);
    if (!raw || raw.length < (family === 4 ? 4 : 16)) continue;
    out.push({
      ifindex: attrUint(m.payload.subarray(4, 8)) ?? 0,
      family,
      address: formatAddr(raw, family),
      prefixlen: m.payload[1] ?? 0,
    });
  }
  return out;
}
