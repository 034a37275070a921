/**
 * Netfilter path steps (from nft trace) as pktpath events, so they go through the same
 * formatters and land in the same stream as the BPF events: one event per base chain a
 * packet traversed, carrying `nf` {pf, table, chain, hook, verdict, rule}.
 */
import type { RawEvent, RawTuple } from '../engine/event.js';
import { EV_HAS_TUPLE } from '../engine/event.js';
import type { NfTrace, NftTracePacket } from './model.js';
import { nfJson } from './nft/path.js';
import { parseAddr } from '../shared/addr.js';
import { ETH_P_IP, ETH_P_IPV6 } from '../output/tuple.js';

const L4: Readonly<Record<string, number>> = { tcp: 6, udp: 17, icmp: 1, icmpv6: 58, sctp: 132, gre: 47, esp: 50 };
const ICMP_TYPES: Readonly<Record<string, [number, number]>> = {
  // name: [ICMPv4 type, ICMPv6 type]
  'echo-reply': [0, 129],
  'echo-request': [8, 128],
  'destination-unreachable': [3, 1],
  'time-exceeded': [11, 3],
  'packet-too-big': [3, 2],
  'parameter-problem': [12, 4],
  redirect: [5, 137],
};

/** ICMP codes by the names nft prints (destination unreachable), [ICMPv4, ICMPv6]. */
const ICMP_CODES: Readonly<Record<string, [number, number]>> = {
  'net-unreachable': [0, -1],
  'no-route': [-1, 0],
  'host-unreachable': [1, -1],
  'prot-unreachable': [2, -1],
  'port-unreachable': [3, 4],
  'frag-needed': [4, -1],
  'net-prohibited': [9, -1],
  'host-prohibited': [10, -1],
  'admin-prohibited': [13, 1],
  'addr-unreachable': [-1, 3],
  'policy-fail': [-1, 5],
  'reject-route': [-1, 6],
};

/**
 * The ICMP code of a packet line: a number, or a name nft knows. Echo messages have code
 * 0, which nft 1.0.6 prints as `net-unreachable` (ICMPv6: `no-route`).
 */
export function icmpCodeOf(code: string | undefined, v6: boolean): number {
  if (code === undefined) return 0;
  if (/^\d+$/.test(code)) return Number(code) & 0xff;
  const c = ICMP_CODES[code]?.[v6 ? 1 : 0];
  return c === undefined || c < 0 ? 0 : c;
}

/** The tuple nft printed for a packet, or null when it had no IP header. */
export function tupleOfPacket(p: NftTracePacket | null): RawTuple | null {
  if (!p || !p.family || !p.saddr || !p.daddr) return null;
  const s = parseAddr(p.saddr);
  const d = parseAddr(p.daddr);
  if (!s || !d) return null;
  const l4proto = p.l4proto ? (L4[p.l4proto] ?? (Number.parseInt(p.l4proto, 10) || 0)) : 0;
  const v6 = p.family === 6;
  const icmp = p.icmpType ? ICMP_TYPES[p.icmpType] : undefined;
  return {
    family: p.family,
    saddr: s.bytes,
    daddr: d.bytes,
    sport: p.sport ?? 0,
    dport: p.dport ?? 0,
    l3proto: v6 ? ETH_P_IPV6 : ETH_P_IP,
    l4proto,
    tcpFlags: p.tcpFlags ?? 0,
    icmpType: icmp ? icmp[v6 ? 1 : 0] : 0,
    icmpCode: icmp ? icmpCodeOf(p.icmpCode, v6) : 0,
    icmpId: p.icmpId ?? 0,
  };
}

/** One event per step of the packet's path; `probe` is the id the resolver gives "netfilter". */
export function nfEvents(trace: NfTrace, base: { tsNs: bigint; netns: number; probe: number }): RawEvent[] {
  const tuple = tupleOfPacket(trace.packet);
  const p = trace.packet;
  return trace.path.map((step, i) => ({
    tsNs: base.tsNs + BigInt(i),
    skb: 0n,
    location: 0n,
    netns: base.netns,
    ifindex: 0,
    mark: step.mark ?? p?.mark ?? 0,
    len: p?.length ?? 0,
    pid: 0,
    dropReason: 0,
    aux: 0,
    aux2: 0,
    probe: base.probe,
    cpu: 0,
    pktType: 0,
    flags: tuple ? EV_HAS_TUPLE : 0,
    dstMac: new Uint8Array(6),
    ifname: (step.hook === 'prerouting' || step.hook === 'input' ? p?.iif : p?.oif) ?? p?.oif ?? p?.iif ?? '',
    comm: 'nft-trace',
    tuple,
    stack: null,
    nf: nfJson(step),
  }));
}
