// SPDX-License-Identifier: GPL-2.0
/*
 * pktpath tracepoint engine: one small program per network tracepoint, each in two
 * flavours — tp_btf (typed, cheapest; needs BTF) and raw_tp (older kernels). User
 * space loads one flavour per tracepoint and skips tracepoints the kernel lacks.
 *
 * Every program: read the skb (or socket, or flow), apply the run's filter from
 * CFG (.rodata, frozen before load so unused checks are pruned), and only then
 * reserve ring-buffer space. A packet that does not match costs no ring traffic.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>
#include "probes.gen.h"
#include "parse.h"
#include "pcap.h"
#include "track.h"

char LICENSE[] SEC("license") = "GPL";

/* Keeps struct pp_event and pp_nf_names in the object's BTF, where user space checks their layout. */
const struct pp_event *pp_event_layout __attribute__((unused));
const struct pp_nf_names *pp_nf_names_layout __attribute__((unused));

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20); /* resized by user space before load */
} events SEC(".maps");

/* [0] events lost (ring full), [1] events emitted, [2] skbs in nf_follow (an upper bound: LRU evictions are not counted off) */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 3);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

/*
 * Netfilter observers: skbs that matched the filter at one observer, followed through
 * the rest of netfilter (NAT may rewrite the addresses the filter looked at) and to
 * their free.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, __u8);
} nf_follow SEC(".maps");

/* --keep: skbs that matched once, followed until they are freed */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, __u8);
} kept SEC(".maps");

/* Whether any skb may be followed: while none is, no packet pays the nf_follow lookup. */
static __always_inline int pp_following(void)
{
	__u32 idx = 2;
	__u64 *v = bpf_map_lookup_elem(&stats, &idx);
	return v && *v;
}

static __always_inline void pp_count(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &idx);
	if (v)
		__sync_fetch_and_add(v, 1);
}

/*
 * Function calls whose return is reported (fexit, kprobe session): the entry's event, kept
 * until the return so that the return line shows what the entry saw (the skb may be
 * changed, moved to another namespace or freed by then). Keyed by the call: for
 * fentry/fexit the trampoline's argument area (the same address for both halves of one
 * call, a different one for a nested call) and the function; for a kprobe session an id
 * the entry put in the session cookie. LRU: an entry whose return never comes ages out.
 */
struct pp_call_key {
	__u64 frame;
	__u64 func_ip;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, struct pp_call_key);
	__type(value, struct pp_event);
} calls SEC(".maps");

/* Per CPU: the entry event being built (too big for the BPF stack), and a call counter. */
struct pp_scratch {
	struct pp_event ev;
	__u64 seq;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pp_scratch);
} scratch SEC(".maps");

/*
 * Functions whose skb may have neither device nor route nor owner (inside TCP's receive
 * path): the 1-based position of their struct sock * argument, by function address. Filled
 * by user space before attach; read only when nothing else names the namespace.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, __u8);
} func_sk SEC(".maps");

/* How a function-level program reads its arguments (a constant per program). */
#define PP_FARGS_NONE 0
#define PP_FARGS_BTF 1  /* fentry/fexit: bpf_get_func_arg */
#define PP_FARGS_REGS 2 /* kprobe, kprobe.multi: pt_regs */

/* Per-event inputs that vary by probe. */
struct pp_extra {
	__u64 location;
	__u64 func_ip;
	__u8 aux3;
	__u8 direct; /* the skb is BTF-typed: plain loads instead of probe reads (a constant per program) */
	__u8 hookprog; /* a netfilter hook program: no task helpers (pid, comm, stack) exist there (a constant) */
	__u8 nfct;     /* put the skb's conntrack status in location (netfilter observers; read only once matched) */
	__u32 drop_reason;
	__s32 aux;
	__u32 aux2;
	__u8 flags;
	__u8 frees;   /* this probe ends the skb's life (kfree_skb, consume_skb) */
	__u8 emitted; /* out: set by pp_emit */
	__u8 queued;   /* the skb is a segment queued in sk (a constant): see pp_event_tuple */
	__u8 fargs;    /* PP_FARGS_*: how fctx holds the function's arguments (a constant) */
	__u8 unplaced; /* say no namespace and no device: where the skb is now is not where the call ran */
	struct sock *sk; /* the socket the tracepoint hands over, for the namespace when the skb has none */
	void *fctx;      /* a function-level program's context, for its socket argument (func_sk) */
	const struct pp_nf_names *names; /* appended to the event (PP_EV_NAMES); never with a stack */
	const struct pp_call_key *call;  /* keep the event in calls under this key, for the function's return */
	struct pp_pkt pkt; /* packet fields beyond the tuple, filled while parsing */
};

/* Where pp_copy_bytes reads the skb's offsets: the start of the record's byte room. */
struct pp_snap_scratch {
	__u64 head;
	__u64 data;
	__u32 tail;
	__u16 nh;
	__u16 mac;
};

/*
 * -w: the packet from its network header on, as much as the skb's linear data holds, at
 * most CFG.snaplen bytes, at bytes_off in the record (reserved with CFG.snaplen of room).
 * The programs' stacks are full, so the skb's offsets are read into that room first
 * (user space keeps snaplen >= 64), then overwritten by the bytes. Where the network
 * header starts is pp_l3_offset's rule.
 */
static __always_inline void pp_copy_bytes(struct pp_event *ev, struct sk_buff *skb, __u32 bytes_off)
{
	if (CFG.snaplen < sizeof(struct pp_snap_scratch))
		return;
	struct pp_snap_scratch *h = (void *)ev + bytes_off;
	bpf_probe_read_kernel(&h->head, 8, (void *)skb + bpf_core_field_offset(struct sk_buff, head));
	bpf_probe_read_kernel(&h->data, 8, (void *)skb + bpf_core_field_offset(struct sk_buff, data));
	bpf_probe_read_kernel(&h->tail, 4, (void *)skb + bpf_core_field_offset(struct sk_buff, tail));
	bpf_probe_read_kernel(&h->nh, 2, (void *)skb + bpf_core_field_offset(struct sk_buff, network_header));
	bpf_probe_read_kernel(&h->mac, 2, (void *)skb + bpf_core_field_offset(struct sk_buff, mac_header));
	__u64 head = h->head;
	__u16 nh = h->nh, mac = h->mac;
	__u16 data_off = (__u16)(h->data - head);
	__u32 tail = h->tail; /* an offset from head on 64-bit kernels */
	__u32 l3 = data_off;
	if (nh != PP_NO_HDR && nh != 0 && (mac == PP_NO_HDR || nh > mac))
		l3 = nh;
	else if (mac != PP_NO_HDR && data_off == mac)
		l3 = mac + PP_ETH_HLEN;
	if (tail <= l3)
		return;
	__u32 n = tail - l3;
	if (n > CFG.snaplen)
		n = CFG.snaplen;
	n &= PP_MAX_SNAP * 2 - 1; /* a bound the verifier can see (snaplen <= PP_MAX_SNAP) */
	if (n == 0 || n > CFG.snaplen)
		return;
	if (bpf_probe_read_kernel((void *)ev + bytes_off, n, (void *)head + l3))
		return;
	ev->cap_len = n;
	ev->bytes_off = bytes_off;
}

/*
 * Argument n (1-based, 1..5) of a kprobe'd function. Probe reads: clang folds the cases
 * into one load at a computed offset, which the verifier refuses on a context pointer.
 */
static __always_inline __u64 pp_regs_arg(struct pt_regs *regs, __u8 n)
{
	switch (n) {
	case 1: return PT_REGS_PARM1_CORE(regs);
	case 2: return PT_REGS_PARM2_CORE(regs);
	case 3: return PT_REGS_PARM3_CORE(regs);
	case 4: return PT_REGS_PARM4_CORE(regs);
	case 5: return PT_REGS_PARM5_CORE(regs);
	}
	return 0;
}

/* 0-based argument index 0..4 as a constant per branch (no variable offset on a context pointer) */
static __always_inline __u32 pp_arg_index(__u8 pos)
{
	switch (pos) {
	case 2: return 1;
	case 3: return 2;
	case 4: return 3;
	case 5: return 4;
	}
	return 0;
}

/*
 * The namespace of a function event that neither its skb's device, route nor owner name:
 * the function's socket argument, when it has one (tcp_v4_do_rcv, tcp_rcv_state_process...).
 */
static __always_inline __u32 pp_func_sock_netns(struct pp_extra *x)
{
	if (x->fargs == PP_FARGS_NONE || !x->fctx)
		return 0;
	__u64 ip = x->func_ip;
	__u8 *pos = bpf_map_lookup_elem(&func_sk, &ip);
	if (!pos || *pos < 1 || *pos > 5)
		return 0;
	__u64 v = 0;
	/*
	 * Both by probe reads: the compiler does not always fold x->fargs to the caller's
	 * literal, and a kprobe program refused bpf_get_func_arg on the branch the verifier
	 * still walked. A tracing program's context is its arguments as an array of u64.
	 */
	if (x->fargs == PP_FARGS_REGS)
		v = pp_regs_arg((struct pt_regs *)x->fctx, *pos);
	else
		bpf_probe_read_kernel(&v, sizeof(v), (__u64 *)x->fctx + pp_arg_index(*pos));
	return v ? pp_sock_netns((struct sock *)v) : 0;
}

/* The namespace of an skb event: the skb's (pp_skb_netns), else the function's socket argument. */
static __always_inline __u32 pp_event_netns(struct sk_buff *skb, struct net_device *dev, struct net_device *route_dev,
					    struct pp_extra *x)
{
	__u32 ns = pp_skb_netns(skb, dev, route_dev, x->sk);
	if (!ns && x->fargs != PP_FARGS_NONE)
		ns = pp_func_sock_netns(x);
	return ns;
}

/* Fills the fixed part of an event. t/has_tuple already matched the filter. */
static __always_inline void pp_fill(struct pp_event *ev, __u16 probe, struct sk_buff *skb, struct net_device *dev,
				    __u32 netns, const struct pp_tuple *t, int has_tuple, struct pp_extra *x,
				    const __u8 *aux_addr, __u8 aux_family)
{
	__builtin_memset(ev, 0, sizeof(*ev));
	ev->ts_ns = bpf_ktime_get_ns();
	ev->skb = (__u64)skb;
	ev->location = x->location;
	/* the conntrack status (bit 63: the packet has a conntrack entry), so user space knows
	 * whether the nat table will be consulted (only until NAT is set up) */
	if (x->nfct && skb && bpf_core_field_exists(skb->_nfct)) {
		struct nf_conn *ct = (struct nf_conn *)(BPF_CORE_READ(skb, _nfct) & ~7ULL);
		if (ct)
			ev->location = BPF_CORE_READ(ct, status) | (1ULL << 63);
	}
	ev->func_ip = x->func_ip;
	ev->drop_reason = x->drop_reason;
	ev->aux = x->aux;
	ev->aux2 = x->aux2;
	ev->aux3 = x->aux3;
	ev->probe = probe;
	ev->cpu = bpf_get_smp_processor_id();
	if (!x->hookprog)
		ev->pid = bpf_get_current_pid_tgid() >> 32;
	ev->netns = x->unplaced ? 0 : netns;
	ev->flags = x->flags | (has_tuple ? PP_EV_HAS_TUPLE : 0);
	if (!x->hookprog)
		/* current->comm by probe read, not bpf_get_current_comm: a netfilter program may
		 * not call that helper (6.12), and the compiler does not always fold x->hookprog */
		BPF_CORE_READ_STR_INTO(&ev->comm, (struct task_struct *)bpf_get_current_task(), comm);
	if (has_tuple)
		__builtin_memcpy(&ev->tuple, t, sizeof(*t));
	if (aux_family) {
		__builtin_memcpy(ev->aux_addr, aux_addr, 16);
		ev->aux_family = aux_family;
	}
	if (x->unplaced)
		dev = 0;
	if (dev) {
		ev->ifindex = BPF_CORE_READ(dev, ifindex);
		bpf_probe_read_kernel_str(ev->ifname, sizeof(ev->ifname), &dev->name);
	}
	__builtin_memcpy(&ev->pkt, &x->pkt, sizeof(ev->pkt));
	if (dev) {
		ev->pkt.mtu = BPF_CORE_READ(dev, mtu);
		ev->pkt.valid |= PP_PKT_MTU;
	}
	if (skb) {
		unsigned char *head = BPF_CORE_READ(skb, head);
		__u16 mac = BPF_CORE_READ(skb, mac_header);
		ev->len = BPF_CORE_READ(skb, len);
		ev->mark = BPF_CORE_READ(skb, mark);
		ev->pkt_type = BPF_CORE_READ_BITFIELD_PROBED(skb, pkt_type);
		if (mac != PP_NO_HDR)
			bpf_probe_read_kernel(ev->dst_mac, 6, head + mac);
		/* skb_shinfo(): skb->end is an offset from head on 64-bit kernels */
		struct skb_shared_info *si = (struct skb_shared_info *)(head + BPF_CORE_READ(skb, end));
		ev->pkt.gso_size = BPF_CORE_READ(si, gso_size);
		ev->pkt.gso_segs = BPF_CORE_READ(si, gso_segs);
		ev->pkt.valid |= PP_PKT_GSO;
	}
}

/* Stack frames after the event, when the run wants them for this event. */
static __always_inline void pp_stack(void *ctx, struct pp_event *ev)
{
	long n = bpf_get_stack(ctx, (void *)(ev + 1), PP_MAX_STACK * sizeof(__u64), 0);
	if (n > 0) {
		ev->stack_depth = n / sizeof(__u64);
		ev->flags |= PP_EV_STACK;
	}
}

/* Keeps a function entry's event for its return (x->call); the kept copy, or NULL. */
static __always_inline struct pp_event *pp_keep_call(__u16 probe, struct sk_buff *skb, struct net_device *dev,
						     __u32 netns, const struct pp_tuple *t, int has_tuple, struct pp_extra *x)
{
	__u32 zero = 0;
	struct pp_scratch *s = bpf_map_lookup_elem(&scratch, &zero);
	if (!s)
		return 0;
	pp_fill(&s->ev, probe, skb, dev, netns, t, has_tuple, x, 0, 0);
	bpf_map_update_elem(&calls, x->call, &s->ev, BPF_ANY);
	return &s->ev;
}

/* Reserves, fills the common part and submits. t/has_tuple already matched the filter. */
static __always_inline int pp_emit(void *ctx, __u16 probe, struct sk_buff *skb, struct net_device *dev,
				   __u32 netns, const struct pp_tuple *t, int has_tuple,
				   struct pp_extra *x, const __u8 *aux_addr, __u8 aux_family)
{
	x->emitted = 1;
	int with_stack = !x->hookprog && !x->names && (CFG.want_stack == 1 || (CFG.want_stack == 2 && (x->flags & PP_EV_DROP)));
	struct pp_event *kept = x->call ? pp_keep_call(probe, skb, dev, netns, t, has_tuple, x) : 0;
	struct pp_event *ev;

	/* -w: room for the packet bytes after the stack or names; CFG.snaplen is a frozen
	 * constant, so without -w this block is pruned and a run pays nothing. Bytes only
	 * where a device receives or is handed the packet, and at drops: the pcapng copies
	 * (one per device) and the packets that never reached one. */
	int snap = CFG.snaplen && skb && (probe <= PP_PROBE_net_dev_queue || (x->flags & PP_EV_DROP));
	/*
	 * What follows the event, set on the same path as the reservation: the writes after it
	 * test this, not x->names again, which the compiler may reload on a merged path where
	 * the verifier no longer ties it to the size reserved (seen: fexit_nft_do_chain refused
	 * once track.h's code joined the function).
	 */
	enum { ROOM_NONE, ROOM_NAMES, ROOM_STACK } room = ROOM_NONE;
	if (snap) {
		if (x->names) {
			ev = bpf_ringbuf_reserve(&events, sizeof(*ev) + sizeof(struct pp_nf_names) + CFG.snaplen, 0);
			room = ROOM_NAMES;
		} else if (with_stack) {
			ev = bpf_ringbuf_reserve(&events, sizeof(*ev) + PP_MAX_STACK * sizeof(__u64) + CFG.snaplen, 0);
			room = ROOM_STACK;
		} else {
			ev = bpf_ringbuf_reserve(&events, sizeof(*ev) + CFG.snaplen, 0);
		}
	} else if (x->names) {
		ev = bpf_ringbuf_reserve(&events, sizeof(*ev) + sizeof(struct pp_nf_names), 0);
		room = ROOM_NAMES;
	} else if (with_stack) {
		ev = bpf_ringbuf_reserve(&events, sizeof(*ev) + PP_MAX_STACK * sizeof(__u64), 0);
		room = ROOM_STACK;
	} else {
		ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
	}
	if (!ev) {
		pp_count(0);
		return 0;
	}
	if (kept)
		__builtin_memcpy(ev, kept, sizeof(*ev));
	else
		pp_fill(ev, probe, skb, dev, netns, t, has_tuple, x, aux_addr, aux_family);
	if (room == ROOM_NAMES && x->names) {
		__builtin_memcpy((void *)(ev + 1), x->names, sizeof(struct pp_nf_names));
		ev->flags |= PP_EV_NAMES;
	}
	if (room == ROOM_STACK)
		pp_stack(ctx, ev);
	if (snap) /* last: fewest values live, the stack is tight */
		pp_copy_bytes(ev, skb, room == ROOM_NAMES ? sizeof(*ev) + sizeof(struct pp_nf_names) : room == ROOM_STACK ? sizeof(*ev) + PP_MAX_STACK * sizeof(__u64) : sizeof(*ev));
	bpf_ringbuf_submit(ev, 0);
	pp_count(1);
	return 0;
}

/*
 * Filters that need no header parsing: pid, mark, netns, interface. check_pid is a
 * constant: 0 in netfilter hook programs, which have no current-task helpers on every
 * kernel (they ignore -p).
 */
static __always_inline int pp_match_meta_pid(struct sk_buff *skb, struct net_device *dev, __u32 netns, int check_pid)
{
	if (check_pid && CFG.pid && (bpf_get_current_pid_tgid() >> 32) != CFG.pid)
		return 0;
	if (CFG.has_mark) {
		if (!skb || (BPF_CORE_READ(skb, mark) & CFG.mark_mask) != CFG.mark)
			return 0;
	}
	if (CFG.netns && netns != CFG.netns)
		return 0;
	if (CFG.has_ifname && !pp_ifname_match(dev))
		return 0;
	return 1;
}

static __always_inline int pp_match_meta(struct sk_buff *skb, struct net_device *dev, __u32 netns)
{
	return pp_match_meta_pid(skb, dev, netns, 1);
}

/*
 * The event's tuple: from the packet headers, or for a segment queued in TCP's retransmit
 * queue (x->queued) from its socket, outgoing: its headers are only ever built on the
 * clones that are transmitted, and its device and route fields hold the queue's links.
 * Its flags are in its TCP control block.
 */
static __always_inline int pp_event_tuple(struct sk_buff *skb, struct pp_tuple *t, struct pp_extra *x, int direct)
{
	if (!x->queued)
		return pp_parse_pkt(skb, t, &x->pkt, direct);
	if (!x->sk || !pp_parse_sock(x->sk, t, 1))
		return 0;
	__u32 off = bpf_core_field_offset(struct sk_buff, cb) + bpf_core_field_offset(struct tcp_skb_cb, tcp_flags);
	bpf_probe_read_kernel(&t->tcp_flags, 1, (void *)skb + off);
	x->flags |= PP_EV_FROM_SK;
	return 1;
}

/*
 * The socket a packet belongs to: its owner, else the one the tracepoint names (a queued
 * segment's, rx_sk). As a plain value: a tp_btf program's x->sk is a BTF pointer that may
 * be NULL, on which the verifier allows no arithmetic even after a test of a copy.
 */
static __always_inline struct sock *pp_skb_sock(struct sk_buff *skb, struct pp_extra *x)
{
	struct sock *sk = 0;
	if (!x->queued)
		sk = BPF_CORE_READ(skb, sk);
	if (!sk)
		bpf_probe_read_kernel(&sk, sizeof(sk), &x->sk);
	return sk;
}

/*
 * Track mode (CFG.track): a packet is shown when its flow is one of the tracked
 * processes' (track.h). The run's tuple filter decides which of their flows join; -N,
 * -i and --mark still apply to each event. A packet a tracked process sends or drops in
 * task context adds its flow; an skb shown once is followed, and the tuple NAT gives it
 * joins the flows.
 */
static __always_inline int pp_track_skb(void *ctx, __u16 probe, struct sk_buff *skb, struct pp_extra *x,
					struct net_device *dev, struct net_device *route_dev, int direct)
{
	struct pp_tuple t PP_ALIGNED = {};
	__u64 key = (__u64)skb;
	__u32 netns = 0;
	if (CFG.netns)
		netns = pp_event_netns(skb, dev, route_dev, x);
	if (!pp_match_meta_pid(skb, dev, netns, 0))
		return 0;
	if (CFG.pcap && !pp_pcap_match(skb, dev, direct))
		return 0;
	struct sock *owner = pp_skb_sock(skb, x);
	if (owner && !pp_sock_inet(owner))
		return 0; /* a unix socket's skb in a followed skb's memory */
	int has = pp_event_tuple(skb, &t, x, direct);
	__u32 fp = pp_fingerprint(&t, &x->pkt);
	__u32 *seen = x->queued ? 0 : bpf_map_lookup_elem(&track_follow, &key);
	if (seen && *seen == fp) {
		if (has)
			pp_flow_add(&t); /* NAT may have rewritten it since */
	} else if (has && pp_flow_known(&t)) {
		/* a packet of a tracked flow */
	} else if (!x->hookprog && has && pp_match_tuple(&t, has) && pp_sock_owned(ctx, owner)) {
		pp_sock_add(owner);
		pp_flow_add(&t);
	} else if ((x->pkt.valid & PP_PKT_INNER) && pp_flow_known(&x->pkt.inner)) {
		x->pkt.valid |= PP_PKT_RELATED; /* matches through its quote at every step: not followed */
	} else {
		return 0;
	}
	if (x->frees)
		bpf_map_delete_elem(&track_follow, &key);
	else if (!x->queued && !(x->pkt.valid & PP_PKT_RELATED))
		bpf_map_update_elem(&track_follow, &key, &fp, BPF_ANY);
	if (!CFG.netns)
		netns = pp_event_netns(skb, dev, route_dev, x);
	return pp_emit(ctx, probe, skb, dev, netns, &t, has, x, 0, 0);
}

/*
 * dev_arg: the device the tracepoint names, when the skb may already have moved on.
 * direct: x->direct as a literal, so the compiler keeps one branch of each read whatever
 * else the function holds (a value reloaded from *x is not always folded, and the
 * verifier cannot tell a raw_tp skb from a BTF one).
 */
static __always_inline int pp_skb_event_in(void *ctx, __u16 probe, struct sk_buff *skb, struct pp_extra *x,
					   struct net_device *dev_arg, int direct)
{
	struct net_device *route_dev = 0;
	struct pp_tuple t PP_ALIGNED = {};

	if (!skb)
		return 0;
	struct net_device *dev = dev_arg || x->queued ? dev_arg : pp_skb_dev(skb, &route_dev, direct);
	__u64 key = (__u64)skb;
	if (CFG.observe && (x->hookprog || x->frees) && pp_following() && bpf_map_lookup_elem(&nf_follow, &key)) {
		/* matched at an observer before: no filter applies until it leaves netfilter */
		int has = pp_event_tuple(skb, &t, x, direct);
		__u32 ns = pp_event_netns(skb, dev, route_dev, x);
		if (x->frees) {
			if (bpf_map_delete_elem(&nf_follow, &key) == 0) {
				__u32 idx = 2;
				__u64 *v = bpf_map_lookup_elem(&stats, &idx);
				if (v)
					__sync_fetch_and_add(v, -1);
			}
			if (!(x->flags & PP_EV_DROP))
				goto filter; /* a normal free is shown only when it matches */
		}
		return pp_emit(ctx, probe, skb, dev, ns, &t, has, x, 0, 0);
	}
filter:
	if (CFG.track)
		return pp_track_skb(ctx, probe, skb, x, dev, route_dev, direct);
	if (CFG.keep && bpf_map_lookup_elem(&kept, &key)) {
		/* followed: no filter applies any more; forget it when it is freed */
		x->flags |= PP_EV_KEPT;
		int has = pp_event_tuple(skb, &t, x, direct);
		__u32 ns = pp_event_netns(skb, dev, route_dev, x);
		if (x->frees)
			bpf_map_delete_elem(&kept, &key);
		return pp_emit(ctx, probe, skb, dev, ns, &t, has, x, 0, 0);
	}
	if (!x->hookprog && CFG.pid && (bpf_get_current_pid_tgid() >> 32) != CFG.pid)
		return 0;
	__u32 netns = 0;
	/* the namespace costs three reads: only before the match when the filter needs it */
	if (CFG.netns)
		netns = pp_event_netns(skb, dev, route_dev, x);
	if (!pp_match_meta_pid(skb, dev, netns, !x->hookprog))
		return 0;
	if (CFG.pcap && !pp_pcap_match(skb, dev, direct))
		return 0;
	int has = pp_event_tuple(skb, &t, x, direct);
	if (!pp_match_tuple(&t, has) && !pp_match_related(&x->pkt))
		return 0;
	if (!CFG.netns)
		netns = pp_event_netns(skb, dev, route_dev, x);
	if (CFG.keep && !x->frees) {
		__u8 one = 1;
		bpf_map_update_elem(&kept, &key, &one, BPF_ANY);
	}
	return pp_emit(ctx, probe, skb, dev, netns, &t, has, x, 0, 0);
}

static __always_inline int pp_skb_event_dev(void *ctx, __u16 probe, struct sk_buff *skb, struct pp_extra *x,
					    struct net_device *dev_arg)
{
	return x->direct ? pp_skb_event_in(ctx, probe, skb, x, dev_arg, 1) : pp_skb_event_in(ctx, probe, skb, x, dev_arg, 0);
}

static __always_inline int pp_skb_event(void *ctx, __u16 probe, struct sk_buff *skb, struct pp_extra *x)
{
	return pp_skb_event_dev(ctx, probe, skb, x, 0);
}

/* ---- one handler per tracepoint; args are the tracepoint's TP_PROTO in order ---- */

#define SKB_ONLY(name, argi)                                                    \
	static __always_inline int on_##name(__u64 *ctx, int direct)           \
	{                                                                       \
		struct pp_extra x = { .direct = direct };                       \
		return pp_skb_event(ctx, PP_PROBE_##name, (struct sk_buff *)ctx[argi], &x); \
	}

SKB_ONLY(napi_gro_receive_entry, 0)
SKB_ONLY(netif_rx, 0)
SKB_ONLY(netif_receive_skb, 0)
SKB_ONLY(net_dev_queue, 0)
SKB_ONLY(net_dev_start_xmit, 0)
SKB_ONLY(tcp_bad_csum, 0)

/*
 * net_dev_xmit(skb, rc, dev, skb_len): the driver has returned; a veth has already
 * handed the skb to its peer, so the device is the tracepoint's, not skb->dev.
 */
static __always_inline int on_net_dev_xmit(__u64 *ctx, int direct)
{
	struct pp_extra x = { .aux = (int)ctx[1], .direct = direct };
	return pp_skb_event_dev(ctx, PP_PROBE_net_dev_xmit, (struct sk_buff *)ctx[0], &x, (struct net_device *)ctx[2]);
}

/* qdisc_enqueue(qdisc, txq, skb) */
static __always_inline int on_qdisc_enqueue(__u64 *ctx, int direct)
{
	struct Qdisc *q = (struct Qdisc *)ctx[0];
	struct pp_extra x = { .aux = BPF_CORE_READ(q, handle), .aux2 = BPF_CORE_READ(q, parent), .direct = direct };
	return pp_skb_event(ctx, PP_PROBE_qdisc_enqueue, (struct sk_buff *)ctx[2], &x);
}

/* qdisc_dequeue(qdisc, txq, packets, skb) — skb NULL when nothing was dequeued */
static __always_inline int on_qdisc_dequeue(__u64 *ctx, int direct)
{
	struct Qdisc *q = (struct Qdisc *)ctx[0];
	struct pp_extra x = { .aux = BPF_CORE_READ(q, handle), .aux2 = BPF_CORE_READ(q, parent), .direct = direct };
	return pp_skb_event(ctx, PP_PROBE_qdisc_dequeue, (struct sk_buff *)ctx[3], &x);
}

/*
 * kfree_skb(skb, location [, reason [, rx_sk]]): rx_sk (6.11+) is the socket a received
 * skb was dropped by, the only trace of its namespace once TCP took its device and route.
 */
static __always_inline int on_kfree_skb(__u64 *ctx, int direct)
{
	struct pp_extra x = { .location = ctx[1], .flags = PP_EV_DROP, .frees = 1, .direct = direct };
	if (CFG.has_kfree_reason)
		x.drop_reason = (__u32)ctx[2];
	if (CFG.has_kfree_rx_sk)
		x.sk = (struct sock *)ctx[3];
	return pp_skb_event(ctx, PP_PROBE_kfree_skb, (struct sk_buff *)ctx[0], &x);
}

/* consume_skb(skb [, location]) */
static __always_inline int on_consume_skb(__u64 *ctx, int direct)
{
	struct pp_extra x = { .frees = 1, .direct = direct };
	if (CFG.has_consume_location)
		x.location = ctx[1];
	return pp_skb_event(ctx, PP_PROBE_consume_skb, (struct sk_buff *)ctx[0], &x);
}

/* icmp_send(skb, type, code): the skb is the packet the ICMP error is about */
static __always_inline int on_icmp_send(__u64 *ctx, int direct)
{
	struct pp_extra x = { .aux = (int)(((ctx[1] & 0xff) << 8) | (ctx[2] & 0xff)), .direct = direct };
	return pp_skb_event(ctx, PP_PROBE_icmp_send, (struct sk_buff *)ctx[0], &x);
}

/*
 * tcp_retransmit_skb(sk, skb [, err]): the segment waits in the socket's retransmit queue,
 * with neither headers, device nor owner: flow and namespace come from the socket.
 */
static __always_inline int on_tcp_retransmit_skb(__u64 *ctx, int direct)
{
	struct pp_extra x = { .sk = (struct sock *)ctx[0], .queued = 1, .direct = direct };
	return pp_skb_event(ctx, PP_PROBE_tcp_retransmit_skb, (struct sk_buff *)ctx[1], &x);
}

/*
 * tcp_send_reset(sk, skb [, reason]): skb is the packet that caused the reset, NULL for
 * active resets; sk (NULL when no socket took the packet) names the namespace of a packet
 * that lost its device on the way into TCP.
 */
static __always_inline int on_tcp_send_reset(__u64 *ctx, int direct)
{
	struct sock *sk = (struct sock *)ctx[0];
	struct sk_buff *skb = (struct sk_buff *)ctx[1];
	struct pp_extra x = { .sk = sk, .direct = direct };
	if (CFG.has_rst_reason)
		x.aux = (int)ctx[2];
	if (skb)
		return pp_skb_event(ctx, PP_PROBE_tcp_send_reset, skb, &x);
	if (!sk || CFG.pcap)
		return 0; /* an active reset has no packet to run an expression on */
	struct pp_tuple t PP_ALIGNED = {};
	__u32 netns = pp_sock_netns(sk);
	if (!pp_match_meta(0, 0, netns))
		return 0;
	int has = pp_parse_sock(sk, &t, 0);
	if (!pp_match_sock_tuple(sk, &t, has))
		return 0;
	x.flags = PP_EV_FROM_SK;
	return pp_emit(ctx, PP_PROBE_tcp_send_reset, 0, 0, netns, &t, has, &x, 0, 0);
}

/* tcp_receive_reset(sk) */
static __always_inline int on_tcp_receive_reset(__u64 *ctx, int direct)
{
	struct sock *sk = (struct sock *)ctx[0];
	struct pp_tuple t PP_ALIGNED = {};
	struct pp_extra x = { .flags = PP_EV_FROM_SK };
	if (!sk)
		return 0;
	__u32 netns = pp_sock_netns(sk);
	if (CFG.has_mark || CFG.has_ifname || CFG.pcap)
		return 0; /* no packet here to match a mark, an interface or an expression on */
	if (!pp_match_meta(0, 0, netns))
		return 0;
	int has = pp_parse_sock(sk, &t, 0);
	t.tcp_flags = 0x04; /* RST */
	if (!pp_match_sock_tuple(sk, &t, has))
		return 0;
	return pp_emit(ctx, PP_PROBE_tcp_receive_reset, 0, 0, netns, &t, has, &x, 0, 0);
}

/* The flow's protocol, and its ports or ICMP type/code, into t: fl is a struct flowi4 or
 * flowi6 (the same field names), icmp_proto the family's ICMP. */
#define PP_FLOW_L4(t, fl, icmp_proto)                                               \
	do {                                                                         \
		(t).l4proto = BPF_CORE_READ(fl, __fl_common.flowic_proto);            \
		if ((t).l4proto == PP_IPPROTO_TCP || (t).l4proto == PP_IPPROTO_UDP) { \
			(t).sport = bpf_ntohs(BPF_CORE_READ(fl, uli.ports.sport));    \
			(t).dport = bpf_ntohs(BPF_CORE_READ(fl, uli.ports.dport));    \
		} else if ((t).l4proto == (icmp_proto)) {                             \
			(t).icmp_type = BPF_CORE_READ(fl, uli.icmpt.type);            \
			(t).icmp_code = BPF_CORE_READ(fl, uli.icmpt.code);            \
		}                                                                     \
	} while (0)

/* fib_table_lookup(tb_id, flp, nhc, err): an IPv4 route lookup and its result */
static __always_inline int on_fib_table_lookup(__u64 *ctx, int direct)
{
	const struct flowi4 *fl = (const struct flowi4 *)ctx[1];
	struct fib_nh_common *nhc = (struct fib_nh_common *)ctx[2];
	struct pp_extra x = { .aux = (int)ctx[3], .aux2 = (__u32)ctx[0], .flags = PP_EV_FROM_FLOW };
	struct pp_tuple t PP_ALIGNED = {};
	struct net_device *dev = 0;
	__u8 gw[16] = {};
	__u8 gw_family = 0;
	__u32 netns = 0;

	if (!fl || CFG.pcap)
		return 0; /* a route lookup has no packet to run an expression on */
	if (nhc) {
		dev = BPF_CORE_READ(nhc, nhc_dev);
		/* an IPv4 next hop sits in a struct fib_nh whose fib_info holds the route type */
		if (BPF_CORE_READ(nhc, nhc_family) == PP_AF_INET) {
			struct fib_nh *nh = (struct fib_nh *)nhc;
			x.aux3 = BPF_CORE_READ(nh, nh_parent, fib_type);
		}
		__u8 fam = BPF_CORE_READ(nhc, nhc_gw_family);
		if (fam == PP_AF_INET) {
			__be32 g = BPF_CORE_READ(nhc, nhc_gw.ipv4);
			__builtin_memcpy(gw, &g, 4);
			gw_family = 4;
		} else if (fam == PP_AF_INET6) {
			BPF_CORE_READ_INTO(&gw, nhc, nhc_gw.ipv6);
			gw_family = 6;
		}
	}
	if (dev)
		netns = pp_net_inum(BPF_CORE_READ(dev, nd_net.net));
	if (CFG.has_mark && (BPF_CORE_READ(fl, __fl_common.flowic_mark) & CFG.mark_mask) != CFG.mark)
		return 0;
	if (CFG.pid && (bpf_get_current_pid_tgid() >> 32) != CFG.pid)
		return 0;
	if (CFG.netns && netns != CFG.netns)
		return 0;
	if (CFG.has_ifname && !pp_ifname_match(dev))
		return 0;
	t.l3proto = ETH_P_IP;
	__be32 s = BPF_CORE_READ(fl, saddr), d = BPF_CORE_READ(fl, daddr);
	__builtin_memcpy(t.saddr, &s, 4);
	__builtin_memcpy(t.daddr, &d, 4);
	PP_FLOW_L4(t, fl, PP_IPPROTO_ICMP);
	if (!pp_match_flow_tuple(ctx, &t))
		return 0;
	return pp_emit(ctx, PP_PROBE_fib_table_lookup, 0, dev, netns, &t, 1, &x, gw, gw_family);
}

/*
 * fib6_table_lookup(net, res, table, flp): an IPv6 route lookup in one table and its
 * result, in the shape of fib_table_lookup: aux = error, aux2 = table id, aux3 = route
 * type (RTN_*), the next hop's device and gateway. The error follows from the type as the
 * kernel's ip6_rt_type_to_error() has it. A table without a matching route yields the
 * namespace's null entry (type unreachable); the rule code then tries the next table, as
 * -EAGAIN does in IPv4, so it is sent as -EAGAIN with no type ("no-match").
 * Kernels before 5.2 pass a fib6_info / rt6_info instead of a fib6_result: nothing is
 * sent there.
 */
static __always_inline int on_fib6_table_lookup(__u64 *ctx, int direct)
{
	struct net *net = (struct net *)ctx[0];
	const struct fib6_result *res = (const struct fib6_result *)ctx[1];
	struct fib6_table *table = (struct fib6_table *)ctx[2];
	const struct flowi6 *fl = (const struct flowi6 *)ctx[3];
	struct pp_extra x = { .flags = PP_EV_FROM_FLOW };
	struct pp_tuple t PP_ALIGNED = {};
	struct net_device *dev = 0;
	__u8 gw[16] = {};
	__u8 gw_family = 0;

	if (!bpf_core_type_exists(struct fib6_result))
		return 0;
	if (!fl || !res || CFG.pcap)
		return 0; /* a route lookup has no packet to run an expression on */
	__u32 netns = pp_net_inum(net);
	if (CFG.netns && netns != CFG.netns)
		return 0;
	if (CFG.pid && (bpf_get_current_pid_tgid() >> 32) != CFG.pid)
		return 0;
	if (CFG.has_mark && (BPF_CORE_READ(fl, __fl_common.flowic_mark) & CFG.mark_mask) != CFG.mark)
		return 0;
	t.l3proto = ETH_P_IPV6;
	BPF_CORE_READ_INTO(&t.saddr, fl, saddr);
	BPF_CORE_READ_INTO(&t.daddr, fl, daddr);
	PP_FLOW_L4(t, fl, PP_IPPROTO_ICMPV6);
	/* an input lookup (ip6_route_input) names the next header but fills no ports or ICMPv6
	 * type: treat it as IPv4's, which carries no protocol, so it shows and matches the same way */
	if (((t.l4proto == PP_IPPROTO_TCP || t.l4proto == PP_IPPROTO_UDP) && !t.sport && !t.dport) ||
	    (t.l4proto == PP_IPPROTO_ICMPV6 && !t.icmp_type)) {
		t.l4proto = 0;
		t.sport = t.dport = 0;
		t.icmp_code = 0;
	}
	if (!pp_match_flow_tuple(ctx, &t))
		return 0;
	struct fib6_info *f6i = BPF_CORE_READ(res, f6i);
	struct fib6_info *null_entry = 0;
	if (bpf_core_field_exists(net->ipv6.fib6_null_entry))
		null_entry = BPF_CORE_READ(net, ipv6.fib6_null_entry);
	if (!f6i || f6i == null_entry) {
		x.aux = -11; /* -EAGAIN: no route in this table */
	} else {
		__u8 type = BPF_CORE_READ(res, fib6_type);
		x.aux3 = type;
		/* ip6_rt_type_to_error(): fib6_prop[] in net/ipv6/route.c */
		switch (type) {
		case 6: /* RTN_BLACKHOLE */
		case 10: /* RTN_NAT */
		case 11: /* RTN_XRESOLVE */
			x.aux = -22; /* -EINVAL */
			break;
		case 7: /* RTN_UNREACHABLE */
			x.aux = -113; /* -EHOSTUNREACH */
			break;
		case 8: /* RTN_PROHIBIT */
			x.aux = -13; /* -EACCES */
			break;
		case 9: /* RTN_THROW */
			x.aux = -11; /* -EAGAIN */
			break;
		}
		struct fib6_nh *nh = BPF_CORE_READ(res, nh);
		/* a reject route's next hop is the loopback device: only a route without an error names one */
		if (nh && x.aux == 0) {
			dev = BPF_CORE_READ(nh, nh_common.nhc_dev);
			__u8 fam = BPF_CORE_READ(nh, nh_common.nhc_gw_family);
			if (fam == PP_AF_INET6) {
				BPF_CORE_READ_INTO(&gw, nh, nh_common.nhc_gw.ipv6);
				gw_family = 6;
			} else if (fam == PP_AF_INET) {
				__be32 g = BPF_CORE_READ(nh, nh_common.nhc_gw.ipv4);
				__builtin_memcpy(gw, &g, 4);
				gw_family = 4;
			}
		}
	}
	if (table)
		x.aux2 = BPF_CORE_READ(table, tb6_id);
	if (CFG.has_ifname && !pp_ifname_match(dev))
		return 0;
	return pp_emit(ctx, PP_PROBE_fib6_table_lookup, 0, dev, netns, &t, 1, &x, gw, gw_family);
}

#include "evidence.h"

/* Two flavours of each program; user space loads exactly one per tracepoint. */
#define PP_TP(name)                                                             \
	SEC("tp_btf/" #name) int tpbtf_##name(__u64 *ctx) { return on_##name(ctx, 1); } \
	SEC("raw_tp/" #name) int rawtp_##name(__u64 *ctx) { return on_##name(ctx, 0); }

PP_TP(napi_gro_receive_entry)
PP_TP(netif_rx)
PP_TP(netif_receive_skb)
PP_TP(net_dev_queue)
PP_TP(qdisc_enqueue)
PP_TP(qdisc_dequeue)
PP_TP(net_dev_start_xmit)
PP_TP(net_dev_xmit)
PP_TP(fib_table_lookup)
PP_TP(fib6_table_lookup)
PP_TP(tcp_retransmit_skb)
PP_TP(tcp_send_reset)
PP_TP(tcp_receive_reset)
PP_TP(tcp_bad_csum)
PP_TP(icmp_send)
PP_TP(kfree_skb)
PP_TP(consume_skb)
PP_TP(xdp_exception)
PP_TP(xdp_redirect_err)
PP_TP(xdp_devmap_xmit)
PP_TP(xdp_bulk_tx)
PP_TP(inet_sock_set_state)
PP_TP(tcp_retransmit_synack)
PP_TP(sk_data_ready)
PP_TP(sched_process_fork)
PP_TP(sched_process_exit)
PP_TP(sock_send_length)

/*
 * Function-level probes. For fentry/fexit and kprobe, one template per position of the
 * skb argument (1..5); user space attaches each template to every selected function with
 * the skb at that position (fentry/fexit: a clone of the loaded program per function;
 * kprobe: one link per function). kprobe.multi has one program for all positions (below).
 * The function is named by bpf_get_func_ip in the event.
 *
 * Returns: the entry of a function whose return is reported keeps its event (calls), and
 * the return is built from it, with the return value: fentry_ret_skb_N with fexit_skb_N,
 * or one kprobe session program (ksession_skb_N, Linux 6.10+) for both halves. A return
 * whose entry was not kept (the trace started during the call; the LRU evicted it) is
 * built from what the skb holds at return, flagged PP_RET_NO_ENTRY.
 */
static __always_inline int pp_func_event(void *ctx, struct sk_buff *skb, __u8 fargs, int direct,
					 const struct pp_call_key *call)
{
	struct pp_extra x = { .func_ip = bpf_get_func_ip(ctx), .direct = direct, .fargs = fargs, .fctx = ctx, .call = call };
	return pp_skb_event(ctx, PP_PROBE_FUNC, skb, &x);
}

/* A return, from its entry's kept event; 0 when that is not there (or is another call's). */
static __always_inline int pp_return_from_entry(void *ctx, const struct pp_call_key *k, struct sk_buff *skb, __u64 ret)
{
	struct pp_event *rec = bpf_map_lookup_elem(&calls, k);
	if (!rec)
		return 0;
	if (skb && rec->skb != (__u64)skb) {
		bpf_map_delete_elem(&calls, k); /* another call's, left behind (its return was missed) */
		return 0;
	}
	int with_stack = CFG.want_stack == 1;
	struct pp_event *ev = with_stack ? bpf_ringbuf_reserve(&events, sizeof(*ev) + PP_MAX_STACK * sizeof(__u64), 0)
					 : bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
	if (!ev) {
		pp_count(0);
		bpf_map_delete_elem(&calls, k);
		return 1;
	}
	__builtin_memcpy(ev, rec, sizeof(*ev));
	bpf_map_delete_elem(&calls, k);
	ev->ts_ns = bpf_ktime_get_ns();
	ev->cpu = bpf_get_smp_processor_id();
	ev->probe = PP_PROBE_FUNC_RET;
	ev->flags = (ev->flags & ~(PP_EV_STACK | PP_EV_DROP)) | PP_EV_RET;
	ev->stack_depth = 0;
	ev->aux = (int)ret;
	ev->location = ret;
	ev->aux3 = 0;
	if (with_stack)
		pp_stack(ctx, ev);
	bpf_ringbuf_submit(ev, 0);
	pp_count(1);
	return 1;
}

/*
 * A return whose entry was not kept (it did not match the filter, or the trace started
 * during the call): what the skb holds now, said so, and placed nowhere: by now the skb
 * may be in another namespace or on another device than the call (a veth's transmit
 * returns after the peer took the packet).
 */
static __always_inline int pp_return_unjoined(void *ctx, struct sk_buff *skb, __u64 ret, __u8 fargs, int direct)
{
	struct pp_extra x = { .func_ip = bpf_get_func_ip(ctx), .direct = direct, .fargs = fargs, .fctx = ctx, .unplaced = 1,
			      .flags = PP_EV_RET, .aux = (int)ret, .location = ret, .aux3 = PP_RET_NO_ENTRY };
	return pp_skb_event(ctx, PP_PROBE_FUNC_RET, skb, &x);
}

/* fexit: the call's entry is keyed by the trampoline's argument area (ctx) and the function. */
static __always_inline int pp_fexit(__u64 *ctx, struct sk_buff *skb)
{
	__u64 ret = 0;
	bpf_get_func_ret(ctx, &ret);
	struct pp_call_key k = { .frame = (__u64)ctx, .func_ip = bpf_get_func_ip(ctx) };
	if (pp_return_from_entry(ctx, &k, skb, ret))
		return 0;
	return pp_return_unjoined(ctx, skb, ret, PP_FARGS_BTF, 1);
}

static __always_inline int pp_fentry_ret(__u64 *ctx, struct sk_buff *skb)
{
	struct pp_call_key k = { .frame = (__u64)ctx, .func_ip = bpf_get_func_ip(ctx) };
	return pp_func_event(ctx, skb, PP_FARGS_BTF, 1, &k);
}

/* Kprobe sessions (Linux 6.10+): one program for a call's entry and its return. */
extern __u64 *bpf_session_cookie(void) __ksym __weak;
extern bool bpf_session_is_return(void) __ksym __weak;

/* kprobe.multi: one program for every position of the skb argument, named by the function's cookie */
static __always_inline struct sk_buff *pp_cookie_skb(struct pt_regs *ctx)
{
	return (struct sk_buff *)pp_regs_arg(ctx, (__u8)bpf_get_attach_cookie(ctx));
}

static __always_inline int pp_session(struct pt_regs *ctx)
{
	__u64 *cookie = bpf_session_cookie();
	if (!cookie)
		return 1;
	if (bpf_session_is_return()) {
		struct pp_call_key k = { .frame = *cookie, .func_ip = bpf_get_func_ip(ctx) };
		if (k.frame)
			pp_return_from_entry(ctx, &k, 0, PT_REGS_RC(ctx));
		return 0;
	}
	__u32 zero = 0;
	struct pp_scratch *s = bpf_map_lookup_elem(&scratch, &zero);
	if (!s)
		return 1;
	/* an id no other live call on any CPU has: the CPU, then a count */
	__u64 id = ((__u64)(bpf_get_smp_processor_id() + 1) << 48) | (++s->seq & 0xffffffffffffULL);
	struct pp_call_key k = { .frame = id, .func_ip = bpf_get_func_ip(ctx) };
	struct pp_extra x = { .func_ip = k.func_ip, .fargs = PP_FARGS_REGS, .fctx = ctx, .call = &k };
	pp_skb_event(ctx, PP_PROBE_FUNC, pp_cookie_skb(ctx), &x);
	if (!x.emitted)
		return 1; /* not a traced packet: no return call */
	*cookie = id;
	return 0;
}

#define PP_FUNC_TEMPLATES(n)                                                                  \
	SEC("fentry/ip_rcv") int fentry_skb_##n(__u64 *ctx)                                   \
	{ return pp_func_event(ctx, (struct sk_buff *)ctx[n - 1], PP_FARGS_BTF, 1, 0); }      \
	SEC("fentry/ip_rcv") int fentry_ret_skb_##n(__u64 *ctx)                               \
	{ return pp_fentry_ret(ctx, (struct sk_buff *)ctx[n - 1]); }                          \
	SEC("fexit/ip_rcv") int fexit_skb_##n(__u64 *ctx)                                     \
	{ return pp_fexit(ctx, (struct sk_buff *)ctx[n - 1]); }                               \
	SEC("kprobe") int kprobe_skb_##n(struct pt_regs *ctx)                                 \
	{ return pp_func_event(ctx, (struct sk_buff *)PT_REGS_PARM##n(ctx), PP_FARGS_REGS, 0, 0); }

PP_FUNC_TEMPLATES(1)
PP_FUNC_TEMPLATES(2)
PP_FUNC_TEMPLATES(3)
PP_FUNC_TEMPLATES(4)
PP_FUNC_TEMPLATES(5)

/*
 * kprobe.multi and kprobe sessions: one program each, for all functions; each function's
 * cookie is the position of its skb argument. One link for every function's entry and one
 * for those whose return is reported: taking a kprobe.multi link down costs about the same
 * for one function as for a hundred, so fewer links is a faster exit.
 */
SEC("kprobe.multi") int kmulti_skb(struct pt_regs *ctx)
{ return pp_func_event(ctx, pp_cookie_skb(ctx), PP_FARGS_REGS, 0, 0); }
SEC("?kprobe.multi") int ksession_skb(struct pt_regs *ctx)
{ return pp_session(ctx); }

/*
 * Netfilter observers (BPF_PROG_TYPE_NETFILTER, kernel 6.4+): hook programs that only
 * look and always return NF_ACCEPT. User space attaches them just before and just after
 * each iptables-legacy table's priority at each hook (nft trace cannot see x_tables), so
 * "seen before table T and not after it, then a NETFILTER_DROP" names T as the dropper,
 * and "seen after T" means T let the packet through. The slot (which of the ten places
 * at a hook) is the program; the hook and family come from the hook state.
 * libbpf 1.1 does not know SEC("netfilter"): user space sets the program type before load.
 */
struct pp_nf_ctx { /* struct bpf_nf_ctx, without CO-RE: the verifier checks these offsets */
	const struct nf_hook_state *state;
	struct sk_buff *skb;
};

static __always_inline int pp_nf_observe(struct pp_nf_ctx *ctx, __u32 slot)
{
	const struct nf_hook_state *st = ctx->state;
	struct sk_buff *skb = ctx->skb;
	/* the hook state is a trusted BTF pointer: plain loads, no probe-read helper calls */
	__u8 hook = st->hook;
	struct pp_extra x = { .aux = hook, .aux2 = slot, .aux3 = st->pf, .direct = 1, .hookprog = 1, .nfct = 1 };
	/* the input device where the packet came in (prerouting, input, forward), else the output one */
	struct net_device *dev = hook <= 2 /* NF_INET_FORWARD */ ? st->in : st->out;
	pp_skb_event_dev(ctx, PP_PROBE_NF_OBSERVER, skb, &x, dev);
	if (x.emitted) {
		__u64 key = (__u64)skb;
		__u8 one = 1;
		if (bpf_map_update_elem(&nf_follow, &key, &one, BPF_NOEXIST) == 0)
			pp_count(2);
	}
	return 1; /* NF_ACCEPT */
}

#define PP_NF_SLOT(n) SEC("?netfilter") int nf_obs_##n(struct pp_nf_ctx *ctx) { return pp_nf_observe(ctx, n); }
PP_NF_SLOT(0)
PP_NF_SLOT(1)
PP_NF_SLOT(2)
PP_NF_SLOT(3)
PP_NF_SLOT(4)
PP_NF_SLOT(5)
PP_NF_SLOT(6)
PP_NF_SLOT(7)
PP_NF_SLOT(8)
PP_NF_SLOT(9)

/*
 * Netfilter evaluation functions, on kernels with fexit (function backends): each
 * nftables base chain (nft_do_chain) and each x_tables table (ipt_do_table,
 * ip6t_do_table) with the verdict it returned, and its names appended to the event.
 * nf_tables and ip_tables may be modules: libbpf finds the function in their BTF.
 * ipt_do_table took (skb, state, table) before Linux 5.16 and (priv, skb, state) since;
 * user space loads the flavour the kernel's BTF has.
 */
static __always_inline int pp_nf_eval(void *ctx, struct sk_buff *skb, const struct nf_hook_state *st, long ret,
				      const struct pp_nf_names *n)
{
	__u8 hook = BPF_CORE_READ(st, hook);
	struct net_device *dev = hook <= 2 /* NF_INET_FORWARD */ ? BPF_CORE_READ(st, in) : BPF_CORE_READ(st, out);
	struct pp_extra x = { .func_ip = bpf_get_func_ip(ctx), .aux = (int)ret, .aux2 = hook, .aux3 = BPF_CORE_READ(st, pf),
			      .flags = PP_EV_RET, .names = n };
	/* the skb is a probe-read value, not a BTF pointer: reads by probe (a literal 0, or the
	 * compiler may merge it with the direct copy and the verifier refuse the plain load) */
	return pp_skb_event_in(ctx, PP_PROBE_FUNC_RET, skb, &x, dev, 0);
}

/* nft_do_chain(pkt, priv = the base chain) -> verdict */
SEC("?fexit/nft_do_chain") int fexit_nft_do_chain(__u64 *ctx)
{
	struct nft_pktinfo *pkt = (struct nft_pktinfo *)ctx[0];
	struct nft_chain *chain = (struct nft_chain *)ctx[1];
	struct pp_nf_names n = {};
	struct nft_table *tbl = BPF_CORE_READ(chain, table);
	bpf_probe_read_kernel_str(n.table, sizeof(n.table), BPF_CORE_READ(tbl, name));
	bpf_probe_read_kernel_str(n.chain, sizeof(n.chain), BPF_CORE_READ(chain, name));
	/* pktpath's own tracing tables (pktpath_<pid>...) are instrumentation, not the path */
	if (n.table[0] == 'p' && n.table[1] == 'k' && n.table[2] == 't' && n.table[3] == 'p' && n.table[4] == 'a' &&
	    n.table[5] == 't' && n.table[6] == 'h' && n.table[7] == '_')
		return 0;
	return pp_nf_eval(ctx, BPF_CORE_READ(pkt, skb), BPF_CORE_READ(pkt, state), (long)ctx[2], &n);
}

#define PP_XT_EVAL(fn, flavour, SKB, STATE, TABLE)                                                   \
	SEC("?fexit/" #fn) int fexit_##fn##_##flavour(__u64 *ctx)                                      \
	{                                                                                              \
		struct xt_table *t = (struct xt_table *)ctx[TABLE];                                    \
		struct pp_nf_names n = {};                                                             \
		bpf_probe_read_kernel_str(n.table, sizeof(n.table), &t->name);                         \
		return pp_nf_eval(ctx, (struct sk_buff *)ctx[SKB], (const struct nf_hook_state *)ctx[STATE], \
				  (long)ctx[3], &n);                                                   \
	}

PP_XT_EVAL(ipt_do_table, priv, 1, 2, 0)  /* (priv, skb, state), Linux 5.16+ */
PP_XT_EVAL(ipt_do_table, skb, 0, 1, 2)   /* (skb, state, table) */
PP_XT_EVAL(ip6t_do_table, priv, 1, 2, 0)
PP_XT_EVAL(ip6t_do_table, skb, 0, 1, 2)
