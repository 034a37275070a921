/**
 * Packet tuples as text: TCP flags, protocol names, the JSON tuple and Mytracer's PKT_INFO column
 * (addresses themselves: src/shared/addr.ts).
 *
 * PKT_INFO (what `pktInfo` prints), modelled on Mytracer:
 *
 *   TCP        T_<flags>:<saddr>:<sport>-><daddr>:<dport>      T_ACK,RST:10.0.0.2:8080->10.0.0.1:34060
 *              (just "T:" when no flag is set)
 *   UDP        U:<saddr>:<sport>-><daddr>:<dport>              U:10.0.0.1:5353->224.0.0.251:5353
 *   ICMP(v6)   I_<type>:<saddr>-><daddr> id=<id>   for echo    I_request:10.0.0.1->10.0.0.2 id=17
 *              I_<type>:<saddr>-><daddr> code=<c>  otherwise   I_unreach:10.0.0.2->10.0.0.1 code=3
 *              <type> is Mytracer's "request"/"reply" for echo, a short name for common
 *              error/ND types (unreach, quench, redirect, exceeded, param, toobig, rs, ra,
 *              ns, na, ...), else the type number (I_42).
 *   other      <proto>:<saddr>-><daddr>                        arp:10.0.0.1->10.0.0.2, 47:10.0.0.1->10.0.0.2
 *              or just <proto> when the event carries no addresses.
 *
 * IPv6 addresses are written in brackets when a port follows ([fd00::1]:80), bare otherwise.
 *
 * TCP flags are listed in one fixed order, ACK first as Mytracer prints them:
 *   ACK,SYN,FIN,RST,PSH,URG,ECE,CWR   (SYN-ACK -> "ACK,SYN", RST-ACK -> "ACK,RST", "ACK,PSH", "ACK,FIN")
 */
import type { RawTuple, Tuple } from '../engine/event.js';
import { formatAddr } from '../shared/addr.js';

export const ETH_P_IP = 0x0800;
export const ETH_P_IPV6 = 0x86dd;
export const ETH_P_ARP = 0x0806;

export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_ICMPV6 = 58;

/* ------------------------------------------------------------------ TCP flags */

/** Bit and name of each TCP flag, in the order they are printed. */
export const TCP_FLAG_ORDER: readonly (readonly [number, string])[] = [
  [0x10, 'ACK'],
  [0x02, 'SYN'],
  [0x01, 'FIN'],
  [0x04, 'RST'],
  [0x08, 'PSH'],
  [0x20, 'URG'],
  [0x40, 'ECE'],
  [0x80, 'CWR'],
];

const FLAGS_TEXT: string[] = [];
for (let f = 0; f < 256; f++) {
  FLAGS_TEXT.push(TCP_FLAG_ORDER.filter(([bit]) => f & bit).map(([, n]) => n).join(','));
}

/** "ACK,SYN", "ACK,RST", "SYN", ""; see TCP_FLAG_ORDER. Bits above 0xff are ignored. */
export function tcpFlagsText(flags: number): string {
  return FLAGS_TEXT[flags & 0xff]!;
}

/* ------------------------------------------------------------------ protocols */

const L4_NAMES: Record<number, string> = {
  [IPPROTO_TCP]: 'tcp',
  [IPPROTO_UDP]: 'udp',
  [IPPROTO_ICMP]: 'icmp',
  [IPPROTO_ICMPV6]: 'icmpv6',
};

/**
 * "tcp", "udp", "icmp", "icmpv6"; "arp" for ETH_P_ARP; otherwise the IP protocol number
 * as text ("47"). For a non-IP, non-ARP ethertype (l3proto other than 0, ETH_P_IP,
 * ETH_P_IPV6, ETH_P_ARP) the ethertype in hex, "0x88cc".
 */
export function protoName(l4proto: number, l3proto: number): string {
  if (l3proto === ETH_P_ARP) return 'arp';
  if (l3proto !== 0 && l3proto !== ETH_P_IP && l3proto !== ETH_P_IPV6) {
    return '0x' + (l3proto & 0xffff).toString(16).padStart(4, '0');
  }
  return L4_NAMES[l4proto] ?? String(l4proto);
}

function isIcmp(l4proto: number): boolean {
  return l4proto === IPPROTO_ICMP || l4proto === IPPROTO_ICMPV6;
}

/** The JSON tuple form (event.ts Tuple). icmp_* fields only for icmp/icmpv6. */
export function toTuple(raw: RawTuple): Tuple {
  const t: Tuple = {
    proto: protoName(raw.l4proto, raw.l3proto),
    saddr: raw.family === 0 ? '' : formatAddr(raw.saddr, raw.family),
    daddr: raw.family === 0 ? '' : formatAddr(raw.daddr, raw.family),
    sport: raw.sport,
    dport: raw.dport,
    flags: raw.l4proto === IPPROTO_TCP ? tcpFlagsText(raw.tcpFlags) : '',
  };
  if (isIcmp(raw.l4proto) && raw.l3proto !== ETH_P_ARP) {
    t.icmp_type = raw.icmpType;
    t.icmp_code = raw.icmpCode;
    t.icmp_id = raw.icmpId;
  }
  return t;
}

/* ------------------------------------------------------------------ PKT_INFO */

const ICMP4_TYPES: Record<number, string> = {
  0: 'reply', 3: 'unreach', 4: 'quench', 5: 'redirect', 8: 'request', 9: 'advert',
  10: 'solicit', 11: 'exceeded', 12: 'param', 13: 'tstamp', 14: 'tstampreply',
};
const ICMP6_TYPES: Record<number, string> = {
  1: 'unreach', 2: 'toobig', 3: 'exceeded', 4: 'param', 128: 'request', 129: 'reply',
  130: 'mldquery', 131: 'mldreport', 132: 'mlddone', 133: 'rs', 134: 'ra', 135: 'ns',
  136: 'na', 137: 'redirect', 143: 'mld2report',
};

/** The short name used after "I_" (see the file comment); the number as text when unnamed. */
export function icmpTypeName(l4proto: number, type: number): string {
  const names = l4proto === IPPROTO_ICMPV6 ? ICMP6_TYPES : ICMP4_TYPES;
  return names[type] ?? String(type);
}

function isEcho(l4proto: number, type: number): boolean {
  return l4proto === IPPROTO_ICMPV6 ? type === 128 || type === 129 : type === 0 || type === 8;
}

/** PKT_INFO with already formatted addresses (for callers that cache address text). */
export function pktInfoWith(raw: RawTuple, saddr: string, daddr: string): string {
  const l4 = raw.l4proto;
  const ip = raw.l3proto !== ETH_P_ARP && raw.family !== 0;
  if (ip && (l4 === IPPROTO_TCP || l4 === IPPROTO_UDP)) {
    const v6 = raw.family === 6;
    const s = v6 ? `[${saddr}]` : saddr;
    const d = v6 ? `[${daddr}]` : daddr;
    const head = l4 === IPPROTO_UDP ? 'U' : raw.tcpFlags & 0xff ? 'T_' + FLAGS_TEXT[raw.tcpFlags & 0xff]! : 'T';
    return `${head}:${s}:${raw.sport}->${d}:${raw.dport}`;
  }
  if (ip && isIcmp(l4)) {
    const t = raw.icmpType;
    const tail = isEcho(l4, t) ? ` id=${raw.icmpId}` : ` code=${raw.icmpCode}`;
    return `I_${icmpTypeName(l4, t)}:${saddr}->${daddr}${tail}`;
  }
  const name = protoName(l4, raw.l3proto);
  return raw.family === 0 ? name : `${name}:${saddr}->${daddr}`;
}

/** Mytracer's PKT_INFO column for a tuple; see the file comment for the forms. */
export function pktInfo(raw: RawTuple): string {
  if (raw.family === 0) return pktInfoWith(raw, '', '');
  return pktInfoWith(raw, formatAddr(raw.saddr, raw.family), formatAddr(raw.daddr, raw.family));
}
