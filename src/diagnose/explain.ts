/**
 * Plain-words explanations of what a trace saw. Rules are data: a drop reason (the
 * kernel's name) maps to what it means and what to do; a run's drops are grouped by
 * reason, place and namespace so each distinct cause is told once.
 */
import { EV_DROP } from '../engine/event.js';
import type { RawEvent } from '../engine/event.js';
import type { Resolver } from '../output/resolver.js';
import { formatAddr } from '../shared/addr.js';
import { protoName } from '../output/tuple.js';

export interface DropRule {
  /** what happened; {flow}, {daddr}, {dport}, {proto} are filled from the packet */
  readonly what: string;
  /** what to do about it */
  readonly advice: string;
}

/** Keyed by drop reason without the SKB_DROP_REASON_ prefix. */
export const DROP_RULES: Readonly<Record<string, DropRule>> = {
  NO_SOCKET: {
    what: 'no socket is bound to {daddr}:{dport}/{proto} in that namespace; TCP answers such a SYN with a reset, UDP with ICMP port unreachable',
    advice: 'start the service or fix its bind address/port: ss -lntup in that namespace',
  },
  NETFILTER_DROP: {
    what: 'a netfilter rule (iptables or nftables) dropped it; tcpdump does not see it on output, the hook runs before the capture point',
    advice: 'look for DROP/REJECT rules in that namespace: iptables-save -c, nft list ruleset',
  },
  IP_RPFILTER: {
    what: 'reverse-path filtering rejected it: the route back to the source does not leave through the interface it came in on',
    advice: 'fix the routing asymmetry, or relax net.ipv4.conf.<if>.rp_filter (2 = loose)',
  },
  TCP_CSUM: { what: 'TCP checksum is wrong', advice: 'check checksum offload on the sender (ethtool -K <if> tx off) and any middlebox' },
  UDP_CSUM: { what: 'UDP checksum is wrong', advice: 'check checksum offload on the sender (ethtool -K <if> tx off)' },
  SOCKET_RCVBUFF: { what: 'the receiving socket buffer was full', advice: 'the application reads too slowly; raise SO_RCVBUF / net.core.rmem_max' },
  SOCKET_BACKLOG: { what: 'the socket backlog was full', advice: 'the application is too slow; see nstat TcpExtTCPBacklogDrop' },
  PROTO_MEM: { what: 'the protocol ran out of memory (tcp_mem/udp_mem)', advice: 'check /proc/net/sockstat and net.ipv4.tcp_mem' },
  OTHERHOST: { what: 'the frame was addressed to another host (PACKET_OTHERHOST)', advice: 'check the destination MAC and promiscuous mode' },
  IP_INADDRERRORS: { what: 'the destination address is invalid for this host', advice: 'check the addresses and routes of that namespace' },
  IP_INNOROUTES: { what: 'no route for an incoming packet', advice: 'ip route get <daddr> from <saddr> iif <if> in that namespace' },
  IP_OUTNOROUTES: { what: 'no route to send the packet', advice: 'ip route get <daddr> in that namespace' },
  IP_NOPROTO: { what: 'no handler for that IP protocol', advice: 'load the protocol module or check the sender' },
  PKT_TOO_SMALL: { what: 'the packet is shorter than its headers claim', advice: 'a truncating middlebox or a broken sender' },
  PKT_TOO_BIG: { what: 'the packet is larger than the path MTU and may not be fragmented', advice: 'check MTU/MSS on the path (ip link, ip route get); a PMTU black hole if ICMP is filtered' },
  NEIGH_FAILED: { what: 'neighbour resolution (ARP/ND) failed', advice: 'ip neigh show; is the next hop up and answering ARP?' },
  NEIGH_QUEUEFULL: { what: 'too many packets waited for ARP/ND', advice: 'ip neigh show; raise unres_qlen' },
  QDISC_DROP: { what: 'the queueing discipline dropped it (queue full or policy)', advice: 'tc -s qdisc show dev <if>' },
  TC_INGRESS: { what: 'a tc ingress filter/action dropped it', advice: 'tc -s filter show dev <if> ingress' },
  TC_EGRESS: { what: 'a tc egress filter/action dropped it', advice: 'tc -s filter show dev <if> egress' },
  TC_DROP: { what: 'a tc filter/action dropped it', advice: 'tc -s filter show dev <if> ingress|egress' },
  XDP: { what: 'an XDP program dropped it', advice: 'ip link show <if> (xdp), bpftool net' },
  TCP_INVALID_SEQUENCE: { what: 'TCP segment outside the receive window', advice: 'a stale or spoofed segment; see nstat TcpExtTCPOFODrop' },
  TCP_RESET: { what: 'TCP dropped it after a reset', advice: 'the connection was reset; look for tcp_send_reset / tcp_receive_reset events' },
  TCP_OLD_DATA: { what: 'TCP segment carries only already received data', advice: 'retransmission of data already acked; usually harmless' },
  TCP_CLOSE: { what: 'TCP socket was closed', advice: 'the application closed the socket while data arrived' },
  TCP_FLAGS: { what: 'invalid TCP flag combination', advice: 'a scanner or a broken sender' },
  IPV6DISABLED: { what: 'IPv6 is disabled on that interface', advice: 'sysctl net.ipv6.conf.<if>.disable_ipv6' },
  UNICAST_IN_L2_MULTICAST: { what: 'unicast IP inside an L2 multicast/broadcast frame', advice: 'check the sender' },
  NOT_SPECIFIED: { what: 'the kernel freed it without giving a reason', advice: 'run with --dropstack to see where' },
};

export interface Finding {
  readonly reason: string;
  readonly count: number;
  readonly netns: number;
  readonly location: string;
  /** one example flow, e.g. "tcp 10.0.0.1:40000 -> 10.0.0.2:8080 [SYN]" */
  readonly example: string;
  readonly text: string;
}

function flowOf(ev: RawEvent): { flow: string; daddr: string; dport: string; proto: string } {
  const t = ev.tuple;
  if (!t || !t.family) return { flow: 'a packet', daddr: '?', dport: '?', proto: '?' };
  const proto = protoName(t.l4proto, t.l3proto);
  const s = formatAddr(t.saddr, t.family);
  const d = formatAddr(t.daddr, t.family);
  const ports = proto === 'tcp' || proto === 'udp';
  const w = (a: string): string => (t.family === 6 && ports ? `[${a}]` : a);
  return {
    flow: ports ? `${proto} ${w(s)}:${t.sport} -> ${w(d)}:${t.dport}` : `${proto} ${s} -> ${d}`,
    daddr: d,
    dport: ports ? String(t.dport) : '-',
    proto,
  };
}

function sameFlow(a: RawEvent, b: RawEvent): boolean {
  const x = a.tuple;
  const y = b.tuple;
  if (!x || !y || x.family !== y.family || x.sport !== y.sport || x.dport !== y.dport || x.l4proto !== y.l4proto) return false;
  return x.saddr.every((v, i) => v === y.saddr[i]) && x.daddr.every((v, i) => v === y.daddr[i]);
}

/**
 * Groups the drops of a run and explains each group. `nfSteps` are --iptable events:
 * a NETFILTER_DROP is then told with the table, chain and rule that decided.
 */
export function explainDrops(events: Iterable<RawEvent>, r: Resolver, nfSteps: readonly RawEvent[] = []): Finding[] {
  const groups = new Map<string, { ev: RawEvent; count: number; reason: string; location: string }>();
  for (const ev of events) {
    if (!(ev.flags & EV_DROP)) continue;
    const reason = r.dropReason(ev.dropReason);
    const location = ev.location ? r.symbol(ev.location).replace(/\+0x[0-9a-f]+$/, '') : '?';
    const key = `${reason}|${location}|${ev.netns}`;
    const g = groups.get(key);
    if (g) g.count++;
    else groups.set(key, { ev, count: 1, reason, location });
  }
  return [...groups.values()].map(({ ev, count, reason, location }) => {
    const f = flowOf(ev);
    const rule = DROP_RULES[reason];
    const ns = r.netnsName(ev.netns);
    const where = `netns ${ns ?? ev.netns}${ns ? ` (${ev.netns})` : ''}, in ${location}`;
    const what = rule
      ? rule.what.replace('{daddr}', f.daddr).replace('{dport}', f.dport).replace('{proto}', f.proto)
      : 'the kernel names this reason but pktpath has no explanation for it yet';
    // a step that names its rule wins over a fexit verdict (nfNames: it knows no rule); a
    // nft trace or observer step without a rule was decided by the chain policy
    const steps = nfSteps.filter((n) => n.nf?.verdict === 'DROP' && n.netns === ev.netns && sameFlow(n, ev));
    const step = steps.find((n) => n.nf?.rule) ?? steps.find((n) => !n.nfNames) ?? steps[0];
    const decided = step?.nf;
    const byWhat = decided?.rule ? ` by: ${decided.rule}` : step && !step.nfNames ? ' by the chain policy' : '';
    const by = decided ? ` Decided in ${decided.pf}.${decided.table}.${decided.chain}${byWhat}.` : '';
    const advice = rule ? `${by} Next: ${rule.advice}${/[.?!]$/.test(rule.advice) ? '' : '.'}` : by;
    const times = count > 1 ? ` (${count} times)` : '';
    return {
      reason,
      count,
      netns: ev.netns,
      location,
      example: f.flow,
      text: `dropped ${reason}${times}: ${f.flow} in ${where}: ${what}.${advice}`,
    };
  });
}
