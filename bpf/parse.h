/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Packet, socket and flow parsing plus the filter, shared by every pktpath program.
 * All kernel reads go through BPF_CORE_READ / bpf_probe_read_kernel so the same code
 * serves tp_btf, raw_tp, fentry and kprobe programs.
 */
#ifndef PKTPATH_PARSE_H
#define PKTPATH_PARSE_H

#include "event.h"

#ifndef ETH_P_IP
#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define ETH_P_ARP 0x0806
#endif
#define PP_ETH_HLEN 14
#define PP_NO_HDR ((__u16)~0U)
#define PP_AF_INET 2
#define PP_AF_INET6 10
#define PP_IPPROTO_ICMP 1
#define PP_IPPROTO_TCP 6
#define PP_IPPROTO_UDP 17
#define PP_IPPROTO_ICMPV6 58

volatile const struct pp_config CFG = {};

/*
 * For a struct pp_tuple on the stack: pp_addr_eq reads its addresses as 32-bit words, and
 * the verifier refuses a misaligned stack access (the struct itself only needs 2-byte
 * alignment, so where clang puts it would depend on the rest of the function).
 */
#define PP_ALIGNED __attribute__((aligned(8)))

/* The skb fields the parser needs, read in as few probe reads as the layout allows. */
struct pp_skb_hdrs {
	unsigned char *head;
	unsigned char *data;
	__u16 protocol; /* host order */
	__u16 nh;
	__u16 mac;
};

/*
 * direct: the program has a BTF-typed skb (tp_btf, fentry), so fields are plain loads
 * the verifier checks; otherwise (raw_tp, kprobe) every read is a probe read. Callers
 * pass a constant, so the compiler keeps one branch per program.
 */
static __always_inline void pp_read_hdrs(struct sk_buff *skb, struct pp_skb_hdrs *h, int direct)
{
	if (direct) {
		h->protocol = bpf_ntohs(skb->protocol);
		h->nh = skb->network_header;
		h->mac = skb->mac_header;
		h->head = skb->head;
		h->data = skb->data;
		return;
	}
	/* CO-RE offsets are constants after relocation: the verifier keeps one branch */
	__u32 o_proto = bpf_core_field_offset(struct sk_buff, protocol);
	__u32 o_nh = bpf_core_field_offset(struct sk_buff, network_header);
	__u32 o_mac = bpf_core_field_offset(struct sk_buff, mac_header);
	__u32 o_head = bpf_core_field_offset(struct sk_buff, head);
	__u32 o_data = bpf_core_field_offset(struct sk_buff, data);

	if (o_nh == o_proto + 4 && o_mac == o_proto + 6) {
		/* protocol, transport_header, network_header, mac_header: adjacent since 5.x */
		__u16 v[4] = {};
		bpf_probe_read_kernel(v, sizeof(v), (void *)skb + o_proto);
		h->protocol = bpf_ntohs(v[0]);
		h->nh = v[2];
		h->mac = v[3];
	} else {
		h->protocol = bpf_ntohs(BPF_CORE_READ(skb, protocol));
		h->nh = BPF_CORE_READ(skb, network_header);
		h->mac = BPF_CORE_READ(skb, mac_header);
	}
	if (o_data == o_head + sizeof(void *)) {
		void *p[2] = {};
		bpf_probe_read_kernel(p, sizeof(p), (void *)skb + o_head);
		h->head = p[0];
		h->data = p[1];
	} else {
		h->head = BPF_CORE_READ(skb, head);
		h->data = BPF_CORE_READ(skb, data);
	}
}

/* Where the L3 header starts, relative to skb->head; PP_NO_HDR when unknown. */
static __always_inline __u16 pp_l3_offset(const struct pp_skb_hdrs *h)
{
	__u16 data_off = (__u16)(h->data - h->head);

	/* Set by the stack (TX, and RX after a veth/loopback hop keeps its offsets). */
	if (h->nh != PP_NO_HDR && h->nh != 0 && (h->mac == PP_NO_HDR || h->nh > h->mac))
		return h->nh;
	/* Before the stack reset it: data points at L2 or already past it. */
	if (h->mac != PP_NO_HDR && data_off == h->mac)
		return h->mac + PP_ETH_HLEN;
	return data_off;
}

struct pp_ip6_ext {
	__u8 nexthdr;
	__u8 hdrlen;
};

/* Ports, or ICMP type/code/echo id, of an L4 header into *t. */
static __always_inline void pp_parse_ports(unsigned char *l4, __u8 proto, struct pp_tuple *t)
{
	t->l4proto = proto;
	if (proto == PP_IPPROTO_TCP || proto == PP_IPPROTO_UDP) {
		struct { __be16 s, d; } ph;
		if (bpf_probe_read_kernel(&ph, sizeof(ph), l4))
			return;
		t->sport = bpf_ntohs(ph.s);
		t->dport = bpf_ntohs(ph.d);
	} else if (proto == PP_IPPROTO_ICMP || proto == PP_IPPROTO_ICMPV6) {
		struct { __u8 type, code; __u16 csum; __be16 id, seq; } ih;
		if (bpf_probe_read_kernel(&ih, sizeof(ih), l4))
			return;
		t->icmp_type = ih.type;
		t->icmp_code = ih.code;
		/* echo request/reply (v4 8/0, v6 128/129) carry an identifier */
		if (ih.type == 8 || ih.type == 0 || ih.type == 128 || ih.type == 129)
			t->icmp_id = bpf_ntohs(ih.id);
	}
}

/* ICMP errors quote the packet they are about (RFC 792, RFC 4443 section 3). */
static __always_inline int pp_icmp_error(__u8 proto, __u8 type)
{
	if (proto == PP_IPPROTO_ICMP)
		return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
	return proto == PP_IPPROTO_ICMPV6 && type >= 1 && type <= 4;
}

/* The header an ICMP error quotes (at q: its IP header and the first 8 bytes of L4) into p->inner. */
static __always_inline void pp_parse_inner(unsigned char *q, __u8 icmp_proto, struct pp_pkt *p)
{
	struct pp_tuple *t = &p->inner;
	unsigned char *l4;
	__u8 proto;

	if (icmp_proto == PP_IPPROTO_ICMP) {
		struct iphdr ip;
		if (bpf_probe_read_kernel(&ip, sizeof(ip), q) || ip.version != 4)
			return;
		t->l3proto = ETH_P_IP;
		__builtin_memcpy(t->saddr, &ip.saddr, 4);
		__builtin_memcpy(t->daddr, &ip.daddr, 4);
		p->valid |= PP_PKT_INNER;
		if (bpf_ntohs(ip.frag_off) & 0x1fff) {
			t->l4proto = ip.protocol;
			return;
		}
		l4 = q + (ip.ihl & 0xf) * 4;
		proto = ip.protocol;
	} else {
		struct ipv6hdr ip6;
		if (bpf_probe_read_kernel(&ip6, sizeof(ip6), q) || ip6.version != 6)
			return;
		t->l3proto = ETH_P_IPV6;
		__builtin_memcpy(t->saddr, &ip6.saddr, 16);
		__builtin_memcpy(t->daddr, &ip6.daddr, 16);
		p->valid |= PP_PKT_INNER;
		l4 = q + sizeof(ip6);
		proto = ip6.nexthdr;
	}
	pp_parse_ports(l4, proto, t);
}

/* The L4 header into *t, and what the diagnosis reads beyond the tuple into *p. */
static __always_inline void pp_parse_l4(unsigned char *l4, __u8 proto, struct pp_tuple *t, struct pp_pkt *p)
{
	if (proto == PP_IPPROTO_TCP) {
		struct { __be16 s, d; __be32 seq, ack; __u8 off, flags; __be16 win; } th;
		t->l4proto = proto;
		if (bpf_probe_read_kernel(&th, sizeof(th), l4))
			return;
		t->sport = bpf_ntohs(th.s);
		t->dport = bpf_ntohs(th.d);
		t->tcp_flags = th.flags;
		p->tcp_seq = bpf_ntohl(th.seq);
		p->tcp_ack = bpf_ntohl(th.ack);
		p->tcp_win = bpf_ntohs(th.win);
		p->valid |= PP_PKT_TCP;
		return;
	}
	pp_parse_ports(l4, proto, t);
	if (!pp_icmp_error(proto, t->icmp_type))
		return;
	/* ICMP frag-needed (3/4): next-hop MTU in the low half; ICMPv6 packet too big (2): all 32 bits */
	if (proto == PP_IPPROTO_ICMP ? t->icmp_type == 3 && t->icmp_code == 4 : t->icmp_type == 2) {
		__be32 word;
		if (!bpf_probe_read_kernel(&word, sizeof(word), l4 + 4)) {
			p->icmp_mtu = proto == PP_IPPROTO_ICMP ? bpf_ntohl(word) & 0xffff : bpf_ntohl(word);
			p->valid |= PP_PKT_ICMP_MTU;
		}
	}
	pp_parse_inner(l4 + 8, proto, p);
}

/*
 * Fills *t from the packet headers, and *p with the fields beyond the tuple (TTL, IP ID,
 * TCP sequence numbers and window, an ICMP error's quoted header). Returns 1 when an L3
 * header was found.
 */
static __always_inline int pp_parse_pkt(struct sk_buff *skb, struct pp_tuple *t, struct pp_pkt *p, int direct)
{
	struct pp_skb_hdrs h;
	pp_read_hdrs(skb, &h, direct);
	__u16 l3 = pp_l3_offset(&h);
	__u16 proto = h.protocol;
	unsigned char *head = h.head;

	if (l3 == PP_NO_HDR)
		return 0;
	if (proto == 0) {
		/* skb->protocol is not yet set early on the send path: trust the IP version */
		__u8 first;
		if (bpf_probe_read_kernel(&first, 1, head + l3))
			return 0;
		proto = (first >> 4) == 4 ? ETH_P_IP : (first >> 4) == 6 ? ETH_P_IPV6 : 0;
	}
	t->l3proto = proto;

	if (proto == ETH_P_IP) {
		struct iphdr ip;
		if (bpf_probe_read_kernel(&ip, sizeof(ip), head + l3))
			return 0;
		if ((ip.version) != 4)
			return 0;
		__builtin_memcpy(t->saddr, &ip.saddr, 4);
		__builtin_memcpy(t->daddr, &ip.daddr, 4);
		p->ttl = ip.ttl;
		p->ip_id = bpf_ntohs(ip.id);
		p->valid |= PP_PKT_IP;
		/* a non-first fragment has no L4 header */
		if (bpf_ntohs(ip.frag_off) & 0x1fff) {
			t->l4proto = ip.protocol;
			return 1;
		}
		pp_parse_l4(head + l3 + (ip.ihl & 0xf) * 4, ip.protocol, t, p);
		return 1;
	}
	if (proto == ETH_P_IPV6) {
		struct ipv6hdr ip6;
		if (bpf_probe_read_kernel(&ip6, sizeof(ip6), head + l3) || ip6.version != 6)
			return 0;
		__builtin_memcpy(t->saddr, &ip6.saddr, 16);
		__builtin_memcpy(t->daddr, &ip6.daddr, 16);
		p->ttl = ip6.hop_limit;
		p->valid |= PP_PKT_IP;
		__u8 nexthdr = ip6.nexthdr;
		__u32 off = l3 + sizeof(ip6);
		/* skip up to three extension headers: hop-by-hop, routing, destination options */
#pragma unroll
		for (int i = 0; i < 3; i++) {
			if (nexthdr != 0 && nexthdr != 43 && nexthdr != 60 && nexthdr != 44)
				break;
			struct pp_ip6_ext ext;
			if (bpf_probe_read_kernel(&ext, sizeof(ext), head + off))
				return 1;
			if (nexthdr == 44) { /* fragment: only the first one has L4 */
				__be16 fo;
				if (bpf_probe_read_kernel(&fo, sizeof(fo), head + off + 2))
					return 1;
				nexthdr = ext.nexthdr;
				off += 8;
				if (bpf_ntohs(fo) & 0xfff8) {
					t->l4proto = nexthdr;
					return 1;
				}
				continue;
			}
			nexthdr = ext.nexthdr;
			off += (ext.hdrlen + 1) * 8;
		}
		pp_parse_l4(head + off, nexthdr, t, p);
		return 1;
	}
	if (proto == ETH_P_ARP) {
		/* Ethernet/IPv4 ARP: sender IP at 14, target IP at 24 */
		struct { __be16 htype, ptype; __u8 hlen, plen; __be16 op; __u8 sha[6], spa[4], tha[6], tpa[4]; } arp;
		if (bpf_probe_read_kernel(&arp, sizeof(arp), head + l3))
			return 0;
		if (arp.plen != 4)
			return 1;
		__builtin_memcpy(t->saddr, arp.spa, 4);
		__builtin_memcpy(t->daddr, arp.tpa, 4);
		t->icmp_type = (__u8)bpf_ntohs(arp.op); /* 1 request, 2 reply */
		return 1;
	}
	return 0;
}

/* The tuple alone (callers that need no more than the filter does). */
static __always_inline int pp_parse_skb(struct sk_buff *skb, struct pp_tuple *t, int direct)
{
	struct pp_pkt p = {};
	return pp_parse_pkt(skb, t, &p, direct);
}

/*
 * Tuple from a socket: as a packet arriving at it (remote -> local), or with outgoing set
 * as one it sends (local -> remote). outgoing is a constant at every call.
 */
static __always_inline int pp_parse_sock(struct sock *sk, struct pp_tuple *t, int outgoing)
{
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
	__u16 remote_port = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	__u16 local_port = BPF_CORE_READ(sk, __sk_common.skc_num);
	t->l4proto = BPF_CORE_READ(sk, sk_protocol);
	t->sport = outgoing ? local_port : remote_port;
	t->dport = outgoing ? remote_port : local_port;
	if (family == PP_AF_INET) {
		t->l3proto = ETH_P_IP;
		__be32 remote = BPF_CORE_READ(sk, __sk_common.skc_daddr);
		__be32 local = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
		__builtin_memcpy(t->saddr, outgoing ? &local : &remote, 4);
		__builtin_memcpy(t->daddr, outgoing ? &remote : &local, 4);
		return 1;
	}
	if (family == PP_AF_INET6) {
		t->l3proto = ETH_P_IPV6;
		if (outgoing) {
			BPF_CORE_READ_INTO(&t->saddr, sk, __sk_common.skc_v6_rcv_saddr);
			BPF_CORE_READ_INTO(&t->daddr, sk, __sk_common.skc_v6_daddr);
		} else {
			BPF_CORE_READ_INTO(&t->saddr, sk, __sk_common.skc_v6_daddr);
			BPF_CORE_READ_INTO(&t->daddr, sk, __sk_common.skc_v6_rcv_saddr);
		}
		return 1;
	}
	return 0;
}

/*
 * Whether address a (in a struct pp_tuple) is the filter's. Read as 32-bit words: a tuple
 * is 4-aligned wherever it sits (the quoted one in struct pp_pkt is at offset 28 of a
 * 4-aligned struct), and the verifier refuses a misaligned stack access.
 */
static __always_inline int pp_addr_eq(const __u8 *a, int family)
{
	/* keep the volatile: a plain const read would be folded to the zero initializer */
	const volatile __u32 *c32 = (const volatile __u32 *)CFG.addr;
	const __u32 *a32 = (const __u32 *)a;
	if (family == 4)
		return a32[0] == c32[0];
	return a32[0] == c32[0] && a32[1] == c32[1] && a32[2] == c32[2] && a32[3] == c32[3];
}

/* The address part of the filter alone. */
static __always_inline int pp_match_addr(const struct pp_tuple *t)
{
	if (CFG.addr_family) {
		int fam = t->l3proto == ETH_P_IP || t->l3proto == ETH_P_ARP ? 4 : t->l3proto == ETH_P_IPV6 ? 6 : 0;
		if (fam != CFG.addr_family)
			return 0;
		if (!pp_addr_eq(t->saddr, fam) && !pp_addr_eq(t->daddr, fam))
			return 0;
	}
	return 1;
}

/* The L3/L4 part of the filter. has_l3: the tuple holds an IP header. */
static __always_inline int pp_match_tuple(const struct pp_tuple *t, int has_l3)
{
	if (CFG.addr_family) {
		int fam = t->l3proto == ETH_P_IP || t->l3proto == ETH_P_ARP ? 4 : t->l3proto == ETH_P_IPV6 ? 6 : 0;
		if (!has_l3 || fam != CFG.addr_family)
			return 0;
		if (!pp_addr_eq(t->saddr, fam) && !pp_addr_eq(t->daddr, fam))
			return 0;
	}
	if (CFG.l4proto) {
		if (!has_l3)
			return 0;
		if (CFG.l4proto == PP_IPPROTO_ICMP) {
			if (t->l4proto != PP_IPPROTO_ICMP && t->l4proto != PP_IPPROTO_ICMPV6)
				return 0;
		} else if (t->l4proto != CFG.l4proto) {
			return 0;
		}
	}
	if (CFG.port) {
		if (!has_l3 || (t->l4proto != PP_IPPROTO_TCP && t->l4proto != PP_IPPROTO_UDP))
			return 0;
		if (t->sport != CFG.port && t->dport != CFG.port)
			return 0;
	}
	if (CFG.has_icmp_id) {
		if (!has_l3 || (t->l4proto != PP_IPPROTO_ICMP && t->l4proto != PP_IPPROTO_ICMPV6))
			return 0;
		if (t->icmp_id != CFG.icmp_id)
			return 0;
	}
	return 1;
}

/*
 * An ICMP error about a traced flow matches through the header it quotes, so the error
 * reaches the trace (and the diagnosis) when the filter names only the flow.
 */
static __always_inline int pp_match_related(struct pp_pkt *p)
{
	if (!(p->valid & PP_PKT_INNER) || !pp_match_tuple(&p->inner, 1))
		return 0;
	p->valid |= PP_PKT_RELATED;
	return 1;
}

static __always_inline __u32 pp_net_inum(struct net *net)
{
	return net ? BPF_CORE_READ(net, ns.inum) : 0;
}

/* The device an skb is on, or the one its route leads to (locally generated packets before output). */
static __always_inline struct net_device *pp_skb_dev(struct sk_buff *skb, struct net_device **route_dev, int direct)
{
	struct net_device *dev = direct ? skb->dev : BPF_CORE_READ(skb, dev);
	*route_dev = 0;
	if (!dev) {
		unsigned long refdst = BPF_CORE_READ(skb, _skb_refdst);
		struct dst_entry *dst = (struct dst_entry *)(refdst & ~1UL);
		if (dst)
			*route_dev = BPF_CORE_READ(dst, dev);
	}
	return dev;
}

static __always_inline __u32 pp_sock_netns(struct sock *sk)
{
	return pp_net_inum(BPF_CORE_READ(sk, __sk_common.skc_net.net));
}

/*
 * The namespace of an skb event. First the socket the tracepoint hands over (probe_sk:
 * kfree_skb's rx_sk, the sk of tcp_retransmit_skb and tcp_send_reset), which is where the
 * packet is, whatever the skb still says: by the time TCP's socket code drops a received
 * skb (TCP_OLD_DATA in tcp_data_queue, ...) the skb has lost its device and its route and
 * is not owned by the socket yet. Then the device it is on (or the one the tracepoint
 * names), the device its route leads to, the socket that owns it. 0 when none is known.
 */
static __always_inline __u32 pp_skb_netns(struct sk_buff *skb, struct net_device *dev, struct net_device *route_dev,
					  struct sock *probe_sk)
{
	if (probe_sk)
		return pp_sock_netns(probe_sk);
	if (!dev)
		dev = route_dev;
	if (dev)
		return pp_net_inum(BPF_CORE_READ(dev, nd_net.net));
	struct sock *sk = BPF_CORE_READ(skb, sk);
	if (sk)
		return pp_sock_netns(sk);
	return 0;
}

static __always_inline int pp_ifname_match(struct net_device *dev)
{
	char name[PP_IFNAMSIZ];
	if (!dev)
		return 0;
	if (bpf_probe_read_kernel(name, sizeof(name), &dev->name))
		return 0;
	/* compare as two 64-bit words; CFG.ifname is zero padded, dev->name is NUL terminated */
	__u64 a0 = ((__u64 *)name)[0], a1 = ((__u64 *)name)[1];
	__u64 b0 = ((const volatile __u64 *)CFG.ifname)[0], b1 = ((const volatile __u64 *)CFG.ifname)[1];
	if (a0 == b0 && a1 == b1)
		return 1;
	/* dev->name may hold junk after its NUL: compare byte by byte up to it */
	for (int i = 0; i < PP_IFNAMSIZ; i++) {
		if (name[i] != CFG.ifname[i])
			return 0;
		if (name[i] == 0)
			return 1;
	}
	return 1;
}

#endif
