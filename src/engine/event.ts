/**
 * The decoded form of one kernel event (bpf/event.h `struct pp_event`).
 * Plain data: decoders produce it, filters and formatters consume it.
 */

/** Parsed packet headers. Addresses are printable strings (IPv4 dotted, IPv6 RFC 5952). */
export interface Tuple {
  /** "tcp", "udp", "icmp", "icmpv6", or the protocol number as a string; "arp" etc. for non-IP */
  proto: string;
  saddr: string;
  daddr: string;
  sport: number;
  dport: number;
  /** TCP flags as "SYN", "ACK,RST", ...; "" when none or not TCP */
  flags: string;
  icmp_type?: number;
  icmp_code?: number;
  icmp_id?: number;
}

/** Raw numeric form of the tuple, as the kernel wrote it. */
export interface RawTuple {
  family: 0 | 4 | 6;
  saddr: Uint8Array; // 4 or 16 bytes
  daddr: Uint8Array;
  sport: number;
  dport: number;
  l3proto: number;
  l4proto: number;
  tcpFlags: number;
  icmpType: number;
  icmpCode: number;
  icmpId: number;
}

export const EV_DROP = 0x01;
export const EV_HAS_TUPLE = 0x02;
export const EV_STACK = 0x04;
export const EV_FROM_SK = 0x08;
export const EV_FROM_FLOW = 0x10;
export const EV_RET = 0x20;
export const EV_KEPT = 0x40;
/** a struct pp_nf_names follows the event (nft_do_chain / ipt_do_table returns) */
export const EV_NAMES = 0x80;
/** aux3 of a function return: its entry was not seen, what it shows was read at return (bpf/event.h PP_RET_NO_ENTRY) */
export const RET_NO_ENTRY = 0x01;

/** pp_pkt.valid (bpf/event.h PP_PKT_*): which packet fields beyond the tuple were read */
export const PKT_IP = 0x01;
export const PKT_TCP = 0x02;
export const PKT_GSO = 0x04;
export const PKT_MTU = 0x08;
export const PKT_INNER = 0x10;
export const PKT_ICMP_MTU = 0x20;
export const PKT_RELATED = 0x40;

/** One kernel event with numbers only: what the decoder gives, before names are looked up. */
export interface RawEvent {
  tsNs: bigint;
  skb: bigint;
  /** kfree_skb/consume_skb caller; netfilter observer conntrack status; function return (EV_RET): the 64-bit return value */
  location: bigint;
  netns: number;
  ifindex: number;
  mark: number;
  len: number;
  pid: number;
  dropReason: number;
  aux: number;
  aux2: number;
  /** probe-specific byte: fib(6)_table_lookup route type (RTN_*), netfilter pf, function return RET_*; absent or 0 when unknown */
  aux3?: number;
  probe: number;
  cpu: number;
  pktType: number;
  flags: number;
  dstMac: Uint8Array; // 6 bytes
  ifname: string;
  comm: string;
  tuple: RawTuple | null;
  stack: bigint[] | null;
  /** probe-specific address (fib(6)_table_lookup: the gateway), when the kernel set one */
  auxAddr?: { family: 4 | 6; bytes: Uint8Array } | null;
  /** function-level probes: the traced function's address (0 for tracepoints) */
  funcIp?: bigint;
  /** what a netfilter evaluation function worked on (EV_NAMES): table, and chain for nftables ('' for x_tables) */
  nfNames?: { table: string; chain: string } | null;
  /** netfilter path step (--iptable): the base chain traversed and how the packet left it */
  nf?: { pf: number; table: string; chain: string; hook: string | null; verdict: string; rule: string | null };
  /**
   * -w: the packet from its network header on, as captured at this probe (at most --snaplen
   * bytes); null without -w or when the skb had none. When the run's pipeline hands out an
   * event it has not held (no --iptable join), this is a view of the ring record, valid
   * only during that call: a consumer copies what it keeps (src/capture does).
   */
  bytes?: Uint8Array | null;

  /*
   * Packet fields beyond the tuple (bpf/event.h struct pp_pkt), which the diagnosis reads.
   * Absent (undefined) means "not read at this probe", never zero.
   */
  /** IPv4 TTL or IPv6 hop limit of the packet at this probe */
  ipTtl?: number;
  /** IPv4 identification field (IPv6: absent) */
  ipId?: number;
  /** TCP sequence number (host order) */
  tcpSeq?: number;
  /** TCP acknowledgment number (host order) */
  tcpAck?: number;
  /** TCP window field as sent (not scaled) */
  tcpWin?: number;
  /** skb_shinfo(skb)->gso_size: the segment size of a GSO/GRO packet, 0 when not GSO */
  gsoSize?: number;
  /** skb_shinfo(skb)->gso_segs */
  gsoSegs?: number;
  /** MTU of the event's device (ifindex) */
  mtu?: number;
  /**
   * ICMP / ICMPv6 error (destination unreachable, packet too big, time exceeded...): the
   * tuple of the quoted inner header, i.e. the packet the error is about. Lets a flow
   * filter keep the errors about its flows, and the engine attach them to that flow.
   */
  inner?: RawTuple | null;
  /** ICMP "fragmentation needed" next-hop MTU / ICMPv6 packet-too-big MTU, when the packet is one */
  icmpMtu?: number;
  /** the event matched the filter only through `inner`: an ICMP error about a traced flow */
  related?: boolean;
}
