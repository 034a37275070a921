/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one definition of what crosses from the kernel to user space.
 *
 * Fixed-width types only. The TypeScript decoder (src/engine/layout.ts) is checked
 * against the BTF of the compiled object by src/engine/layout.test.ts, so a change here
 * that is not mirrored there fails the tests instead of silently corrupting output.
 */
#ifndef PKTPATH_EVENT_H
#define PKTPATH_EVENT_H

#define PP_IFNAMSIZ 16
#define PP_COMMLEN 16
#define PP_MAX_STACK 32

/* pp_event.flags */
#define PP_EV_DROP      0x01 /* skb freed with a drop reason (skb:kfree_skb) */
#define PP_EV_HAS_TUPLE 0x02 /* tuple was parsed */
#define PP_EV_STACK     0x04 /* stack_depth frames follow the event */
#define PP_EV_FROM_SK   0x08 /* tuple came from a socket, not from packet headers */
#define PP_EV_FROM_FLOW 0x10 /* tuple came from a flowi (route lookup), not from packet headers */
#define PP_EV_RET       0x20 /* function return (fexit): aux holds the return value */
#define PP_EV_KEPT      0x40 /* shown because --keep follows this skb, not because it matched */
#define PP_EV_NAMES     0x80 /* a struct pp_nf_names follows the event (netfilter table/chain evaluation) */

/* pp_event.aux3 of a function return (PP_EV_RET without PP_EV_NAMES) */
#define PP_RET_NO_ENTRY 0x01 /* its entry was not seen: what it shows was read at return, and no namespace or device */

#define PP_NF_NAME_LEN 32

/* Follows an event with PP_EV_NAMES: what nft_do_chain / ipt_do_table evaluated. */
struct pp_nf_names {
	char table[PP_NF_NAME_LEN]; /* nftables table, or x_tables table (filter, nat...) */
	char chain[PP_NF_NAME_LEN]; /* nftables base chain; empty for x_tables (the hook names it) */
};

/* Parsed packet headers; addresses in network order, ports/ids in host order. */
struct pp_tuple {
	__u8 saddr[16];   /* IPv4 in the first 4 bytes */
	__u8 daddr[16];
	__u16 sport;
	__u16 dport;
	__u16 l3proto;    /* ETH_P_IP, ETH_P_IPV6, ETH_P_ARP, ... (host order) */
	__u8 l4proto;     /* IPPROTO_* */
	__u8 tcp_flags;   /* FIN=0x01 SYN=0x02 RST=0x04 PSH=0x08 ACK=0x10 URG=0x20 ECE=0x40 CWR=0x80 */
	__u8 icmp_type;
	__u8 icmp_code;
	__u16 icmp_id;    /* echo identifier (host order) */
};

/* pp_pkt.valid: which packet fields were read */
#define PP_PKT_IP       0x01 /* ttl (IPv6: hop limit); ip_id for IPv4 */
#define PP_PKT_TCP      0x02 /* tcp_seq, tcp_ack, tcp_win */
#define PP_PKT_GSO      0x04 /* gso_size, gso_segs (skb_shinfo) */
#define PP_PKT_MTU      0x08 /* mtu of the event's device */
#define PP_PKT_INNER    0x10 /* inner: the header an ICMP/ICMPv6 error quotes */
#define PP_PKT_ICMP_MTU 0x20 /* icmp_mtu: ICMP frag-needed next-hop MTU, ICMPv6 packet-too-big MTU */
#define PP_PKT_RELATED  0x40 /* matched the filter only through inner: an error about a traced flow */

/*
 * Packet fields beyond the tuple, for the diagnosis (TTL of an injected reset, sequence
 * numbers of a retransmission, GSO segments larger than the MTU, the MTU an ICMP error
 * announces). Read while the headers are parsed anyway, or after the match.
 */
struct pp_pkt {
	__u32 tcp_seq;    /* host order */
	__u32 tcp_ack;
	__u32 mtu;
	__u32 icmp_mtu;
	__u16 tcp_win;    /* as sent, not scaled */
	__u16 ip_id;
	__u16 gso_size;
	__u16 gso_segs;
	__u8 ttl;
	__u8 valid;       /* PP_PKT_* */
	__u8 pad[2];
	struct pp_tuple inner; /* PP_PKT_INNER: the quoted header's tuple */
};

struct pp_event {
	__u64 ts_ns;      /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u64 skb;        /* skb address, 0 when the probe has none */
	__u64 location;   /* kfree_skb/consume_skb caller address; netfilter observer: conntrack status | 1<<63 when tracked;
			     function return (PP_EV_RET): the whole 64-bit return value; 0 otherwise */
	__u32 netns;      /* network namespace inode */
	__u32 ifindex;
	__u32 mark;
	__u32 len;        /* skb->len */
	__u32 pid;        /* tgid of current */
	__u32 drop_reason;/* enum skb_drop_reason value, on drops */
	__s32 aux;        /* probe-specific: xmit rc, reset reason, fib error, qdisc handle, icmp type<<8|code, netfilter hook */
	__u32 aux2;       /* probe-specific: fib table id, qdisc parent, netfilter observer slot */
	__u16 probe;      /* PP_PROBE_* (bpf/probes.gen.h, from src/engine/probes.json) */
	__u16 cpu;
	__u8 pkt_type;
	__u8 flags;       /* PP_EV_* */
	__u8 stack_depth; /* frames after the event when PP_EV_STACK */
	__u8 aux3;        /* probe-specific: fib(6)_table_lookup route type (RTN_*), netfilter pf, function return: PP_RET_* */
	__u8 dst_mac[6];
	__u16 cap_len;    /* -w: bytes of the packet (from its network header) at bytes_off; 0 without -w */
	char ifname[PP_IFNAMSIZ];
	char comm[PP_COMMLEN];
	struct pp_tuple tuple;
	__u8 aux_addr[16];  /* probe-specific address: fib(6)_table_lookup gateway */
	__u8 aux_family;    /* 4 or 6 when aux_addr is set */
	__u8 pad2;
	__u16 bytes_off;    /* -w: where the packet bytes start, from the start of the event (after the stack or names) */
	__u64 func_ip;      /* function-level probes: the traced function's address */
	struct pp_pkt pkt;  /* packet fields beyond the tuple (pkt.valid says which) */
	/* followed by __u64 stack[stack_depth] when PP_EV_STACK (room for PP_MAX_STACK is
	 * reserved), or by struct pp_nf_names when PP_EV_NAMES; then, with -w, by cap_len
	 * packet bytes at bytes_off */
};

/* -w: the most packet bytes one event carries (--snaplen is at most this) */
#define PP_MAX_SNAP 4096

/*
 * Run configuration, frozen into .rodata before load so the verifier prunes what a
 * run does not use. User space finds each field by name in the object's BTF.
 */
struct pp_config {
	__u8 addr[16];      /* -H: either side */
	__u8 addr_family;   /* 0 = no address filter, 4, 6 */
	__u8 l4proto;       /* --proto: 0 = any */
	__u8 want_stack;    /* 1 = every event, 2 = drops only */
	__u8 has_kfree_reason; /* kernel's kfree_skb tracepoint carries a reason */
	__u16 port;         /* -P: either side, 0 = any */
	__u16 icmp_id;      /* --icmpid */
	__u8 has_icmp_id;
	__u8 has_mark;
	__u8 has_ifname;
	__u8 has_rst_reason;   /* tcp_send_reset carries a reason */
	__u8 has_consume_location; /* consume_skb carries a location */
	__u8 keep;          /* --keep: follow a matched skb to its end */
	__u8 observe;       /* netfilter observers loaded: follow a packet that matched at one through netfilter */
	__u8 has_kfree_rx_sk; /* kfree_skb carries the receiving socket (rx_sk, 6.11+) */
	__u16 snaplen;      /* -w: packet bytes to copy per event (from the network header); 0 = none, so a run without -w pays nothing */
	__u32 pid;          /* -p, 0 = any */
	__u32 netns;        /* -N, 0 = any */
	__u32 mark;
	__u32 mark_mask;
	char ifname[PP_IFNAMSIZ];
	__u8 pcap;          /* a pcap-filter expression runs at every probe (bpf/pcap.h) */
	__u8 pcap_l3;       /* it has a raw-IP form: skbs without a link-layer header can match */
	__u16 pcap_need_l2; /* bytes from the link-layer header it reads */
	__u16 pcap_need_l3; /* bytes from the network header it reads */
	__u8 track;         /* process-tree capture: a packet matches when its flow is a tracked one (bpf/track.h) */
	__u8 has_xdp_redirect_index; /* xdp_redirect_err passes map type, map id and index (7 arguments) */
};

#endif
