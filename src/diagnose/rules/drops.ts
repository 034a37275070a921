/**
 * The fallback: a drop no specific rule claimed is told from the kernel's reason, with
 * the meaning and advice of REASONS (the words pktpath had before the engine).
 */
import type { Rule } from './types.js';

/** Keyed by drop reason without the SKB_DROP_REASON_ prefix. */
export const REASONS: Readonly<Record<string, { readonly meaning: string; readonly advice: string }>> = {
  NO_SOCKET: { meaning: 'no socket is bound to the destination address and port in that namespace', advice: 'start the service or fix its bind address/port: ss -lntup in that namespace' },
  NETFILTER_DROP: { meaning: 'a netfilter rule (iptables or nftables) dropped it', advice: 'look for DROP/REJECT rules in that namespace: iptables-save -c, nft list ruleset' },
  IP_RPFILTER: { meaning: 'reverse-path filtering rejected it: the route back to the source does not leave through the interface it came in on', advice: 'fix the routing asymmetry, or relax net.ipv4.conf.<if>.rp_filter (2 = loose)' },
  TCP_CSUM: { meaning: 'the TCP checksum is wrong', advice: 'check checksum offload on the sender (ethtool -K <if> tx off) and any middlebox' },
  UDP_CSUM: { meaning: 'the UDP checksum is wrong', advice: 'check checksum offload on the sender (ethtool -K <if> tx off)' },
  SOCKET_RCVBUFF: { meaning: 'the receiving socket buffer was full', advice: 'the application reads too slowly; raise SO_RCVBUF / net.core.rmem_max' },
  SOCKET_BACKLOG: { meaning: 'the socket backlog was full', advice: 'the application is too slow; see nstat TcpExtTCPBacklogDrop' },
  PROTO_MEM: { meaning: 'the protocol ran out of memory (tcp_mem/udp_mem)', advice: 'check /proc/net/sockstat and net.ipv4.tcp_mem' },
  OTHERHOST: { meaning: 'the frame was addressed to another host (PACKET_OTHERHOST)', advice: 'check the destination MAC and promiscuous mode' },
  IP_CSUM: { meaning: 'the IP header checksum is wrong', advice: 'whoever builds the packet must compute the checksum with the field zeroed' },
  IP_INHDR: { meaning: 'the IP header is invalid (version, length, or total length beyond the packet)', advice: 'check what builds or edits these packets' },
  IP_INADDRERRORS: { meaning: 'the destination address is invalid for this host', advice: 'check the addresses and routes of that namespace' },
  IP_INNOROUTES: { meaning: 'no route for an incoming packet', advice: 'ip route get <daddr> from <saddr> iif <if> in that namespace' },
  IP_OUTNOROUTES: { meaning: 'no route to send the packet', advice: 'ip route get <daddr> in that namespace' },
  IP_INVALID_SOURCE: { meaning: 'the source address is not valid on the wire (a martian: 0.0.0.0, multicast, broadcast...)', advice: 'fix the sender; log_martians logs them' },
  IP_INVALID_DEST: { meaning: 'the destination address is not valid (a martian destination)', advice: 'fix the sender' },
  IP_LOCALNET: { meaning: 'a 127.0.0.0/8 address on a non-loopback interface', advice: 'net.ipv4.conf.<if>.route_localnet=1 if this is wanted' },
  IP_LOCAL_SOURCE: { meaning: 'the source address is one of the receiving host\'s own', advice: 'net.ipv4.conf.<if>.accept_local=1, or rewrite the source' },
  IP_NOPROTO: { meaning: 'no handler for that IP protocol', advice: 'load the protocol module or check the sender' },
  PKT_TOO_SMALL: { meaning: 'the packet is shorter than its headers claim', advice: 'a truncating middlebox or a broken sender' },
  PKT_TOO_BIG: { meaning: 'the packet is larger than the path MTU and may not be fragmented', advice: 'check MTU/MSS on the path (ip link, ip route get); a PMTU black hole if ICMP is filtered' },
  NEIGH_FAILED: { meaning: 'neighbour resolution (ARP/ND) failed', advice: 'ip neigh show; is the next hop up and answering ARP?' },
  NEIGH_QUEUEFULL: { meaning: 'too many packets waited for ARP/ND', advice: 'ip neigh show; raise unres_qlen' },
  QDISC_DROP: { meaning: 'the queueing discipline dropped it (queue full or policy)', advice: 'tc -s qdisc show dev <if>' },
  TC_INGRESS: { meaning: 'a tc ingress filter/action dropped it', advice: 'tc -s filter show dev <if> ingress' },
  TC_EGRESS: { meaning: 'a tc egress filter/action dropped it', advice: 'tc -s filter show dev <if> egress' },
  XDP: { meaning: 'an XDP program dropped it', advice: 'ip link show <if> (xdp), bpftool net' },
  CPU_BACKLOG: { meaning: 'the per-CPU receive backlog was full', advice: 'net.core.netdev_max_backlog, /proc/net/softnet_stat' },
  TCP_INVALID_SEQUENCE: { meaning: 'the TCP segment is outside the receive window', advice: 'a stale or spoofed segment; see nstat TcpExtTCPOFODrop' },
  TCP_RESET: { meaning: 'TCP dropped it after a reset', advice: 'the connection was reset; look for tcp_send_reset / tcp_receive_reset events' },
  TCP_OLD_DATA: { meaning: 'the TCP segment carries only data already received', advice: 'a retransmission of data already acked; usually harmless' },
  TCP_CLOSE: { meaning: 'the TCP socket was closed', advice: 'the application closed the socket while data arrived' },
  TCP_FLAGS: { meaning: 'an invalid TCP flag combination', advice: 'a scanner or a broken sender' },
  TCP_ZEROWINDOW: { meaning: 'data arrived while the receive window was zero', advice: 'the receiver does not read; the sender ignores the window' },
  TCP_OFO_DROP: { meaning: 'an out-of-order segment did not fit the receive buffer', advice: 'raise the receive buffer; look for loss on the path' },
  IPV6DISABLED: { meaning: 'IPv6 is disabled on that interface', advice: 'sysctl net.ipv6.conf.<if>.disable_ipv6' },
  UNICAST_IN_L2_MULTICAST: { meaning: 'a unicast IP packet inside an L2 multicast/broadcast frame', advice: 'check the sender' },
  TCP_ABORT_ON_DATA: { meaning: 'data arrived for a socket its application had already closed: TCP answers with a reset', advice: 'the application closed before reading all its peer sent' },
  QUEUE_PURGE: { meaning: 'it was freed with a queue its owner purged (a socket closing, a device going down)', advice: 'usually harmless: a socket closed with packets still queued' },
  NOT_SPECIFIED: { meaning: 'the kernel freed it without giving a reason', advice: 'run with --dropstack to see where' },
};

export const DROP_RULES: readonly Rule[] = [
  {
    id: 'drop',
    level: 'error',
    title: 'dropped',
    priority: 0,
    anchor: { stage: ['drop'] },
    with: [{ role: 'nf', scope: 'flow', dir: 'same', netns: 'same', match: { nf: { verdict: ['DROP', 'REJECT'] } }, optional: true }],
    verdict: 'netns {netns} drops {flow} ({reason} at {at})',
    what: '{reasonMeaning}',
    advice: '{reasonAdvice}',
  },
];
