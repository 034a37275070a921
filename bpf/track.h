/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Process-tree flow capture (`pktpath diagnose -- CMD`): which packets belong to the flows
 * a command's processes open.
 *
 *   track_pids   the command's tgid (added by user space before it execs) and its
 *                descendants (sched_process_fork); removed when a process exits
 *   track_socks  sockets a tracked process was seen using in task context (connect,
 *                send): packets sent later from softirq (after ARP, by a timer) still
 *                belong to it. Keyed by address, checked by socket inode number: a
 *                freed socket's memory taken by another process's socket (a UDP socket
 *                leaves no trace when it goes) is not taken for it
 *   track_flows  flow tuples, normalised so both directions hit; a packet matches when
 *                its tuple is here (or the header an ICMP error quotes is)
 *   track_follow skbs of tracked flows, with a fingerprint that survives NAT: when one
 *                shows up with another tuple (NAT rewrote it), that tuple joins the flows,
 *                so the replies of the translated flow match too
 *
 * Only runs when CFG.track is set: every use sits behind it, so the verifier prunes all
 * of this from a plain trace.
 */
#ifndef PKTPATH_TRACK_H
#define PKTPATH_TRACK_H

#include "parse.h"

#define PP_TCP_SYN_SENT 2
#define PP_TCP_CLOSE 7
#define PP_TCP_LISTEN 10

/* A flow, both directions as one key: the lower (address, port) end first. */
struct pp_flow_key {
	__u8 a[16];
	__u8 b[16];
	__u16 pa;
	__u16 pb;
	__u8 l4proto;
	__u8 family;
	__u8 pad[2];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32);
	__type(value, __u8);
} track_pids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, __u64); /* the socket's inode number */
} track_socks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct pp_flow_key);
	__type(value, __u8);
} track_flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, __u32);
} track_follow SEC(".maps");

/* [0] flows added, [1] processes added by fork, [2] forks not tracked (track_pids full), [3] sockets added */
#define PP_TRACK_FLOWS 0
#define PP_TRACK_FORKS 1
#define PP_TRACK_PIDS_FULL 2
#define PP_TRACK_SOCKS 3
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} track_stats SEC(".maps");

static __always_inline void pp_track_count(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&track_stats, &idx);
	if (v)
		__sync_fetch_and_add(v, 1);
}

/*
 * Whether this runs in task context, not in a softirq (or hard irq) that interrupted a
 * task: softirq work done while a tracked process is current (its send let the backlog
 * run on local_bh_enable) belongs to other sockets. Softirqs and irqs run on the CPU's
 * own irq stack (x86-64, arm64: do_softirq_own_stack), tasks on their task stack. The
 * program's own frame may be on a private per-CPU stack (6.13+), but its context is on
 * the stack it was called on: a tracepoint's arguments array, a kprobe's pt_regs, a
 * trampoline's frame. So: is ctx inside current's task stack? Its address is read as a
 * number through a probe read (a pointer leak the verifier allows pktpath, which has
 * CAP_PERFMON). PP_THREAD_SIZE is the smallest THREAD_SIZE of those architectures: a
 * bigger stack (KASAN) can only make a task look like softirq, where the socket check
 * still finds the flow. PREEMPT_RT runs softirqs on task stacks.
 */
#define PP_THREAD_SIZE 16384

static __always_inline int pp_in_task(void *ctx)
{
	__u64 at = 0;
	bpf_probe_read_kernel(&at, sizeof(at), &ctx);
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u64 stack = (__u64)BPF_CORE_READ(task, stack);
	return stack && at - stack < PP_THREAD_SIZE;
}

static __always_inline int pp_tgid_tracked(void)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	return bpf_map_lookup_elem(&track_pids, &tgid) != 0;
}

/* The flow key of a tuple; 0 when the packet is not IP. ICMP echo uses its identifier as both ports. */
static __always_inline int pp_flow_key_of(const struct pp_tuple *t, struct pp_flow_key *k)
{
	__u8 fam = t->l3proto == ETH_P_IP ? 4 : t->l3proto == ETH_P_IPV6 ? 6 : 0;
	if (!fam)
		return 0;
	__u16 sp = t->sport, dp = t->dport;
	if (t->l4proto == PP_IPPROTO_ICMP || t->l4proto == PP_IPPROTO_ICMPV6)
		sp = dp = t->icmp_id;
	__u64 s0, s1, d0, d1;
	__builtin_memcpy(&s0, t->saddr, 8);
	__builtin_memcpy(&s1, t->saddr + 8, 8);
	__builtin_memcpy(&d0, t->daddr, 8);
	__builtin_memcpy(&d1, t->daddr + 8, 8);
	int swap = s0 != d0 ? s0 > d0 : s1 != d1 ? s1 > d1 : sp > dp;
	__builtin_memcpy(k->a, swap ? t->daddr : t->saddr, 16);
	__builtin_memcpy(k->b, swap ? t->saddr : t->daddr, 16);
	k->pa = swap ? dp : sp;
	k->pb = swap ? sp : dp;
	k->l4proto = t->l4proto;
	k->family = fam;
	return 1;
}

static __always_inline int pp_flow_known(const struct pp_tuple *t)
{
	struct pp_flow_key k = {};
	return pp_flow_key_of(t, &k) && bpf_map_lookup_elem(&track_flows, &k) != 0;
}

/* Whether an ICMP/ICMPv6 message is an echo request or reply: the only ones with an identifier to key a flow on. */
static __always_inline int pp_icmp_echo(const struct pp_tuple *t)
{
	if (t->l4proto == PP_IPPROTO_ICMP)
		return t->icmp_type == 8 || t->icmp_type == 0;
	return t->icmp_type == 128 || t->icmp_type == 129;
}

/*
 * Adds the flow; counts it when it is new. Not a TCP/UDP one without both ports, nor an
 * ICMP message other than echo: an error's key (no identifier) would take every later
 * error between the same hosts for the command's (errors match through what they quote).
 */
static __always_inline void pp_flow_add(const struct pp_tuple *t)
{
	struct pp_flow_key k = {};
	__u8 one = 1;
	if ((t->l4proto == PP_IPPROTO_TCP || t->l4proto == PP_IPPROTO_UDP) && (!t->sport || !t->dport))
		return;
	if ((t->l4proto == PP_IPPROTO_ICMP || t->l4proto == PP_IPPROTO_ICMPV6) && !pp_icmp_echo(t))
		return;
	if (pp_flow_key_of(t, &k) && bpf_map_update_elem(&track_flows, &k, &one, BPF_NOEXIST) == 0)
		pp_track_count(PP_TRACK_FLOWS);
}

/* The inode number of the socket's file (struct socket_alloc): one per socket ever made; 0 once closed. */
static __always_inline __u64 pp_sock_ino(struct sock *sk)
{
	struct socket *so = BPF_CORE_READ(sk, sk_socket);
	if (!so)
		return 0;
	struct inode *ino = (struct inode *)((void *)so + bpf_core_field_offset(struct socket_alloc, vfs_inode));
	return BPF_CORE_READ(ino, i_ino);
}

static __always_inline int pp_sock_tracked(struct sock *sk)
{
	__u64 k = (__u64)sk;
	__u64 *ino = sk ? bpf_map_lookup_elem(&track_socks, &k) : 0;
	return ino && *ino == pp_sock_ino(sk);
}

/* A socket not open in a file (closed, or kernel-made) cannot be told from a later one: not added. */
static __always_inline void pp_sock_add(struct sock *sk)
{
	__u64 k = (__u64)sk;
	__u64 ino = pp_sock_ino(sk);
	__u64 *known = bpf_map_lookup_elem(&track_socks, &k);
	if (!ino || (known && *known == ino))
		return;
	if (bpf_map_update_elem(&track_socks, &k, &ino, BPF_ANY) == 0)
		pp_track_count(PP_TRACK_SOCKS);
}

/*
 * Whether a socket is an IPv4/IPv6 one. A unix socket's skb (the command writing to a
 * pipe that is a socketpair, or to the journal) holds no IP header: parsed as one it
 * would be a flow of garbage, and pktpath's own output on the same socket would join.
 */
static __always_inline int pp_sock_inet(struct sock *sk)
{
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
	return family == PP_AF_INET || family == PP_AF_INET6;
}

/* Whether a packet with this socket belongs to the tracked processes: a socket seen before, or one a tracked IP socket a tracked process uses right now in task context. */
static __always_inline int pp_sock_owned(void *ctx, struct sock *sk)
{
	if (!sk || !pp_sock_inet(sk))
		return 0;
	if (pp_sock_tracked(sk))
		return 1;
	return pp_tgid_tracked() && pp_in_task(ctx);
}

/*
 * What identifies one packet across NAT (which rewrites addresses and ports only): the
 * IPv4 ID and TCP sequence numbers. Lets a reused skb address (an skb freed without a
 * tracepoint, by __kfree_skb) not be taken for the packet followed before.
 */
static __always_inline __u32 pp_fingerprint(const struct pp_tuple *t, const struct pp_pkt *p)
{
	__u32 fp = t->l4proto | ((__u32)t->icmp_type << 8);
	if (p->valid & PP_PKT_IP)
		fp ^= (__u32)p->ip_id << 16;
	if (p->valid & PP_PKT_TCP)
		fp ^= p->tcp_seq ^ (p->tcp_ack * 2654435761u);
	return fp;
}

/* tcp:inet_sock_set_state in track mode: whether the socket's events belong to the tracked flows. */
static __always_inline int pp_track_sock_state(struct sock *sk, const struct pp_tuple *t, int has, int newstate)
{
	int tracked = pp_sock_tracked(sk);
	/* connect() is the only way to SYN_SENT: task context of the connecting process */
	if (!tracked && newstate == PP_TCP_SYN_SENT && pp_tgid_tracked() && pp_match_tuple(t, has)) {
		pp_sock_add(sk);
		tracked = 1;
	}
	if (!tracked)
		tracked = has && pp_flow_known(t);
	if (tracked && has)
		pp_flow_add(t);
	if (newstate == PP_TCP_CLOSE) {
		__u64 k = (__u64)sk;
		bpf_map_delete_elem(&track_socks, &k);
	}
	return tracked;
}

/* A socket's event (no packet): in track mode, a tracked socket or flow; else the tuple filter. */
static __always_inline int pp_match_sock_tuple(struct sock *sk, const struct pp_tuple *t, int has)
{
	if (CFG.track)
		return pp_sock_tracked(sk) || (has && pp_flow_known(t));
	return pp_match_tuple(t, has);
}

/*
 * A route lookup's flow: in track mode, a tracked flow, or one a tracked process looks up
 * in task context (connect, once its port is chosen), which joins; else the filter (an
 * input lookup carries no protocol or ports: only the address can be matched).
 */
static __always_inline int pp_match_flow_tuple(void *ctx, const struct pp_tuple *t)
{
	if (!CFG.track)
		return t->l4proto ? pp_match_tuple(t, 1) : pp_match_addr(t);
	if (pp_flow_known(t))
		return 1;
	if (!t->l4proto || !pp_match_tuple(t, 1) || !pp_tgid_tracked() || !pp_in_task(ctx))
		return 0;
	pp_flow_add(t);
	return pp_flow_known(t);
}

/* ---- the tracking tracepoints (loaded only in track mode; they emit no events) ---- */

/* sched_process_fork(parent, child): a child process of a tracked one is tracked too (a new thread already is) */
static __always_inline int on_sched_process_fork(__u64 *ctx, int direct)
{
	struct task_struct *parent = (struct task_struct *)ctx[0];
	struct task_struct *child = (struct task_struct *)ctx[1];
	__u32 ptgid = BPF_CORE_READ(parent, tgid);
	__u32 ctgid = BPF_CORE_READ(child, tgid);
	__u8 one = 1;
	if (ctgid == ptgid || !bpf_map_lookup_elem(&track_pids, &ptgid))
		return 0;
	if (bpf_map_update_elem(&track_pids, &ctgid, &one, BPF_NOEXIST) == 0)
		pp_track_count(PP_TRACK_FORKS);
	else
		pp_track_count(PP_TRACK_PIDS_FULL);
	return 0;
}

/* sched_process_exit(task [, group_dead]): the last thread of a tracked process is gone (its pid may be reused) */
static __always_inline int on_sched_process_exit(__u64 *ctx, int direct)
{
	struct task_struct *task = (struct task_struct *)ctx[0];
	__u32 tgid = BPF_CORE_READ(task, tgid);
	if (!bpf_map_lookup_elem(&track_pids, &tgid) || BPF_CORE_READ(task, signal, live.counter) != 0)
		return 0;
	bpf_map_delete_elem(&track_pids, &tgid);
	return 0;
}

/*
 * sock_send_length(sk, ret, flags), at the end of every send syscall (6.3+): a socket a
 * tracked process sends on is tracked, so what it sends later from softirq (a datagram
 * that waited for ARP) still matches. Its flow joins when it is connected.
 */
static __always_inline int on_sock_send_length(__u64 *ctx, int direct)
{
	struct sock *sk = (struct sock *)ctx[0];
	struct pp_tuple t PP_ALIGNED = {};
	if (!sk || pp_sock_tracked(sk) || !pp_tgid_tracked())
		return 0;
	int has = pp_parse_sock(sk, &t, 1);
	if (!has || (t.l4proto != PP_IPPROTO_TCP && t.l4proto != PP_IPPROTO_UDP && t.l4proto != PP_IPPROTO_ICMP &&
		     t.l4proto != PP_IPPROTO_ICMPV6))
		return 0;
	if (!pp_match_tuple(&t, has))
		return 0;
	pp_sock_add(sk);
	if (t.l4proto == PP_IPPROTO_TCP || t.l4proto == PP_IPPROTO_UDP)
		pp_flow_add(&t);
	return 0;
}

#endif
