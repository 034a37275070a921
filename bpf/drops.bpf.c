// SPDX-License-Identifier: GPL-2.0
/*
 * pktpath drops: every drop on the host, counted in the kernel.
 *
 * One program on skb:kfree_skb (tp_btf, or raw_tp where the kernel's BTF lacks the
 * tracepoint) adds each drop to a per-CPU LRU hash keyed by reason, location, namespace,
 * device and protocol. User space reads the table once per refresh, so a flood of drops
 * costs no ring-buffer traffic. Example packets reach user space through a small ring
 * buffer, at most DCFG.sample_burst at once and one per sample_period_ns afterwards for
 * each key on each CPU (a token bucket kept as a GCRA time in the key's per-CPU value);
 * the ring never wakes the reader, which drains it on its own clock.
 *
 * The filter (-N, -i, --proto, -H, -P, a pcap-filter expression) is the trace's: CFG and
 * its checks from parse.h and pcap.h.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>
#include "parse.h"
#include "pcap.h"
#include "drops.h"

char LICENSE[] SEC("license") = "GPL";

volatile const struct pp_drops_config DCFG = {};

/* Keeps the shared structs in the object's BTF, where user space checks their layout. */
const struct pp_drop_val *pp_drop_val_layout __attribute__((unused));
const struct pp_drop_sample *pp_drop_sample_layout __attribute__((unused));

/*
 * An LRU: a full table evicts its least recently used key (a namespace long gone, say)
 * rather than refusing new ones; user space keeps what an evicted key had counted.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
	__uint(max_entries, 16384); /* set by user space before load */
	__type(key, struct pp_drop_key);
	__type(value, struct pp_drop_val);
} drop_counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 << 10); /* set by user space before load */
} drop_samples SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PP_DROPS_NSTATS);
	__type(key, __u32);
	__type(value, __u64);
} drop_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 1); /* 1 unless --stack */
	__uint(key_size, sizeof(__u32));
	__uint(value_size, PP_DROP_STACK_DEPTH * sizeof(__u64));
} drop_stacks SEC(".maps");

static __always_inline void pp_drops_count(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&drop_stats, &idx);
	if (v)
		*v += 1; /* per CPU, and the program does not nest on one CPU */
}

/* This key's value on this CPU, inserted when new; NULL when the table is full. */
static __always_inline struct pp_drop_val *pp_drop_slot(const struct pp_drop_key *key)
{
	struct pp_drop_val *v = bpf_map_lookup_elem(&drop_counts, key);
	if (v)
		return v;
	struct pp_drop_val zero = {};
	/* another CPU may insert the same key first: then the lookup below finds it */
	bpf_map_update_elem(&drop_counts, key, &zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(&drop_counts, key);
}

/* GCRA: one sample every period, bursts of `burst`; updates the key's time when it says yes. */
static __always_inline int pp_sample_due(struct pp_drop_val *v, __u64 now)
{
	__u64 period = DCFG.sample_period_ns;
	__u64 tat = v->sample_tat > now ? v->sample_tat : now;
	if (tat - now > (DCFG.sample_burst - 1) * period)
		return 0;
	v->sample_tat = tat + period;
	return 1;
}

static __always_inline void pp_send_sample(const struct pp_drop_key *key, const struct pp_tuple *t, int has,
					   struct net_device *dev, __u32 len, __u64 now)
{
	struct pp_drop_sample *s = bpf_ringbuf_reserve(&drop_samples, sizeof(*s), 0);
	if (!s) {
		pp_drops_count(PP_DROPS_SAMPLES_LOST);
		return;
	}
	__builtin_memcpy(&s->key, key, sizeof(*key));
	__builtin_memcpy(&s->tuple, t, sizeof(*t));
	s->len = len;
	s->has_tuple = has;
	s->ts_ns = now;
	__builtin_memset(s->ifname, 0, sizeof(s->ifname));
	if (dev)
		bpf_probe_read_kernel_str(s->ifname, sizeof(s->ifname), &dev->name);
	/* the reader drains on its own clock: no wake-up per sample */
	bpf_ringbuf_submit(s, BPF_RB_NO_WAKEUP);
	pp_drops_count(PP_DROPS_SAMPLES);
}

/*
 * kfree_skb(skb, location [, reason [, rx_sk]]): rx_sk (6.11+) names the namespace of a
 * drop in a socket, where the skb has lost its device.
 */
static __always_inline int on_drop(void *ctx, struct sk_buff *skb, __u64 location, __u32 reason, struct sock *rx_sk,
				   int direct)
{
	struct net_device *route_dev = 0;
	struct pp_tuple t = {};

	if (!skb)
		return 0;
	/* skb_dev is the skb's own (a typed pointer in tp_btf, which pcap.h reads directly) */
	struct net_device *skb_dev = pp_skb_dev(skb, &route_dev, direct);
	__u32 netns = pp_skb_netns(skb, skb_dev, route_dev, rx_sk);
	struct net_device *dev = skb_dev ? skb_dev : route_dev;
	int has = pp_parse_skb(skb, &t, direct);
	/* drops take -N and -i but no -p or --mark: the meta part of the trace's filter is these two */
	int meta = (!CFG.netns || netns == CFG.netns) && (!CFG.has_ifname || pp_ifname_match(dev));
	if (!meta || !pp_match_tuple(&t, has) || (CFG.pcap && !pp_pcap_match(skb, skb_dev, direct))) {
		pp_drops_count(PP_DROPS_FILTERED);
		return 0;
	}
	struct pp_drop_key key = {
		.location = location,
		.reason = reason,
		.netns = netns,
		.ifindex = dev ? BPF_CORE_READ(dev, ifindex) : 0,
		.l3proto = t.l3proto,
		.l4proto = has ? t.l4proto : 0,
		.stack_id = DCFG.want_stack ? bpf_get_stackid(ctx, &drop_stacks, 0) : -1,
	};
	struct pp_drop_val *v = pp_drop_slot(&key);
	if (!v) {
		pp_drops_count(PP_DROPS_TABLE_FULL);
		return 0;
	}
	__u32 len = direct ? skb->len : BPF_CORE_READ(skb, len);
	v->count += 1; /* per CPU: plain adds */
	v->bytes += len;
	__u64 now = bpf_ktime_get_ns();
	if (pp_sample_due(v, now))
		pp_send_sample(&key, &t, has, dev, len, now);
	return 0;
}

static __always_inline int on_kfree_skb(__u64 *ctx, int direct)
{
	__u32 reason = CFG.has_kfree_reason ? (__u32)ctx[2] : 0;
	struct sock *rx_sk = CFG.has_kfree_rx_sk ? (struct sock *)ctx[3] : 0;
	return on_drop(ctx, (struct sk_buff *)ctx[0], ctx[1], reason, rx_sk, direct);
}

/* Named as the trace's tracepoint programs are (src/engine/flavours.ts tracepointProgram). */
SEC("tp_btf/kfree_skb") int tpbtf_kfree_skb(__u64 *ctx) { return on_kfree_skb(ctx, 1); }
SEC("raw_tp/kfree_skb") int rawtp_kfree_skb(__u64 *ctx) { return on_kfree_skb(ctx, 0); }
