/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pcap-filter(7) expressions, evaluated at the probe before anything is reserved in the
 * ring buffer.
 *
 * User space compiles the expression with libpcap twice (Ethernet and raw IP), turns each
 * classic BPF program into eBPF (src/filter/translate.ts) and writes it over one of the two
 * placeholder functions below in the object's ELF image before libbpf opens it
 * (src/filter/splice.ts). At a probe, the first bytes of the packet are copied into a
 * per-CPU window as they would be on the wire (a VLAN tag the kernel keeps out of band in
 * skb->vlan_tci is put back after the MAC addresses), and the Ethernet form runs on skbs
 * with a link-layer header, the raw-IP form on those with only a network header.
 */
#ifndef PKTPATH_PCAP_H
#define PKTPATH_PCAP_H

#define PP_PCAP_WIN 512   /* bytes of packet a probe copies at most (WINDOW in src/filter/filter.ts) */
#define PP_PCAP_NEST 4    /* programs that may run nested on one CPU: task, softirq, hardirq, NMI */
#define PP_PCAP_SLOTS 2048 /* eBPF instructions in each placeholder */
#define PP_ARPHRD_ETHER 1
#define PP_ARPHRD_LOOPBACK 772 /* the loopback device has an Ethernet header too */

/* what a translated filter returns */
#define PP_PCAP_REJECT 0
#define PP_PCAP_MATCH 1
#define PP_PCAP_SHORT 2 /* it read past the bytes copied */

struct pp_pcap_win {
	__u8 b[PP_PCAP_WIN];
};

/* one window per nesting level, so a program that interrupts another on this CPU keeps its own */
struct pp_pcap_buf {
	__u32 depth;
	__u32 pad;
	struct pp_pcap_win win[PP_PCAP_NEST];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pp_pcap_buf);
} pcap_buf SEC(".maps");

/*
 * [0] packets the expression could not be decided on: it read bytes past the skb's
 * linear data (payload in page fragments) or the nesting was too deep. They do not match.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} pcap_stats SEC(".maps");

/*
 * The placeholders: global functions (verified once per program, arguments typed by BTF)
 * whose body is no-ops and nothing to relocate, overwritten in place by user space.
 */
#define PP_PCAP_STR2(x) #x
#define PP_PCAP_STR(x) PP_PCAP_STR2(x)
#define PP_PCAP_PLACEHOLDER(name)                                                                  \
	__attribute__((noinline)) int name(const struct pp_pcap_win *w, __u32 caplen, __u32 wirelen) \
	{                                                                                          \
		int ret;                                                                           \
		asm volatile(".rept " PP_PCAP_STR(PP_PCAP_SLOTS) " - 2\n goto +0\n .endr\n r0 = 0" \
			     : "=r"(ret)                                                           \
			     : "r"(w), "r"(caplen), "r"(wirelen));                                 \
		return ret;                                                                        \
	}

PP_PCAP_PLACEHOLDER(pp_pcap_l2)
PP_PCAP_PLACEHOLDER(pp_pcap_l3)

static __always_inline void pp_pcap_unknown(void)
{
	__u32 idx = 0;
	__u64 *v = bpf_map_lookup_elem(&pcap_stats, &idx);
	if (v)
		__sync_fetch_and_add(v, 1);
}

/* min(v, max) in a form the verifier follows: the compiler may not split it across registers */
static __always_inline __u64 pp_pcap_clamp(__u64 v, const __u64 max)
{
	asm volatile("if %0 <= %1 goto +1; %0 = %1" : "+r"(v) : "i"(max));
	return v;
}

/*
 * Runs the placeholder for the packet at `pkt` (linear bytes `avail`, wire length
 * `wirelen`), copying at most `need` bytes; a VLAN tag (vlan != 0: TPID << 16 | TCI, host
 * order) is inserted after the MAC addresses. Returns 1 on a match.
 */
static __always_inline int pp_pcap_run(const unsigned char *pkt, __u64 avail, __u64 wirelen, __u64 need, __u32 vlan, int l2)
{
	__u32 zero = 0;
	struct pp_pcap_buf *buf = bpf_map_lookup_elem(&pcap_buf, &zero);
	if (!buf)
		return 0;
	__u32 d = buf->depth;
	if (d >= PP_PCAP_NEST) {
		pp_pcap_unknown();
		return 0;
	}
	buf->depth = d + 1;
	struct pp_pcap_win *w = &buf->win[d & (PP_PCAP_NEST - 1)];
	__u64 tag = vlan ? 4 : 0;
	__u64 caplen = pp_pcap_clamp(avail + tag < need ? avail + tag : need, PP_PCAP_WIN);
	__u64 first = caplen;
	int ok = 1;
	if (tag) {
		/* dst and src MAC, the tag (TPID, TCI in network order), then the rest from the EtherType on */
		first = pp_pcap_clamp(caplen, 12);
		w->b[12] = vlan >> 24;
		w->b[13] = vlan >> 16;
		w->b[14] = vlan >> 8;
		w->b[15] = vlan;
		if (caplen > 16)
			ok = bpf_probe_read_kernel(&w->b[16], pp_pcap_clamp(caplen - 16, PP_PCAP_WIN - 16), pkt + 12) == 0;
	}
	if (ok)
		ok = bpf_probe_read_kernel(w->b, first, pkt) == 0;
	/* the raw-IP form starts at an IP header: its version says so (need is at least 1 there) */
	if (ok && !l2)
		ok = caplen && (w->b[0] >> 4 == 4 || w->b[0] >> 4 == 6);
	int r = PP_PCAP_REJECT;
	if (ok)
		r = l2 ? pp_pcap_l2(w, caplen, wirelen + tag) : pp_pcap_l3(w, caplen, wirelen);
	buf->depth = d;
	if (r == PP_PCAP_SHORT && caplen < wirelen + tag)
		pp_pcap_unknown(); /* the bytes it wanted exist, outside the linear data */
	return r == PP_PCAP_MATCH;
}

/* kernels before 6.1 flag an out-of-band VLAN tag with a bit of its own */
struct sk_buff___vlan_present {
	__u8 vlan_present : 1;
} __attribute__((preserve_access_index));

/* The VLAN tag the kernel holds out of band (TPID << 16 | TCI), 0 when there is none. */
static __always_inline __u32 pp_pcap_vlan(struct sk_buff *skb, __u16 tpid_be, __u16 tci)
{
	int present = tpid_be || tci;
	if (bpf_core_field_exists(((struct sk_buff___vlan_present *)0)->vlan_present))
		present = BPF_CORE_READ_BITFIELD_PROBED((struct sk_buff___vlan_present *)skb, vlan_present);
	return present ? (__u32)bpf_ntohs(tpid_be) << 16 | tci : 0;
}

/*
 * 1 when the skb matches the run's expression. The Ethernet form runs from the MAC
 * header when the skb has one on an Ethernet (or loopback) device; otherwise the raw-IP
 * form runs from the network header, with `len` counted as on an Ethernet link.
 */
static __always_inline int pp_pcap_match(struct sk_buff *skb, struct net_device *dev, int direct)
{
	struct pp_skb_hdrs h;
	__u32 len, tail;
	__u16 type = 0, tpid, tci;

	pp_read_hdrs(skb, &h, direct);
	if (direct) {
		len = skb->len;
		tail = skb->tail;
		tpid = skb->vlan_proto;
		tci = skb->vlan_tci;
		if (dev)
			type = dev->type;
	} else {
		len = BPF_CORE_READ(skb, len);
		tail = BPF_CORE_READ(skb, tail);
		tpid = BPF_CORE_READ(skb, vlan_proto);
		tci = BPF_CORE_READ(skb, vlan_tci);
		if (dev)
			type = BPF_CORE_READ(dev, type);
	}
	__s64 data_off = h.data - h.head;
	if (h.mac != PP_NO_HDR && (type == PP_ARPHRD_ETHER || type == PP_ARPHRD_LOOPBACK) && tail >= h.mac + PP_ETH_HLEN) {
		__s64 wire = (__s64)len + data_off - h.mac;
		return pp_pcap_run(h.head + h.mac, tail - h.mac, wire > 0 ? wire : 0, CFG.pcap_need_l2,
				   pp_pcap_vlan(skb, tpid, tci), 1);
	}
	if (!CFG.pcap_l3)
		return 0;
	/* raw IP: an IPv4 or IPv6 skb, or one on the send path before the stack set its protocol */
	if (h.protocol != ETH_P_IP && h.protocol != ETH_P_IPV6 && (h.protocol || h.nh == PP_NO_HDR || !h.nh))
		return 0;
	__u16 l3 = pp_l3_offset(&h);
	if (l3 == PP_NO_HDR || tail <= l3)
		return 0;
	__s64 wire = (__s64)len + data_off - l3;
	return pp_pcap_run(h.head + l3, tail - l3, (wire > 0 ? wire : 0) + PP_ETH_HLEN, CFG.pcap_need_l3, 0, 0);
}

#endif
