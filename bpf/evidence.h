/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Evidence probes: what the kernel leaves of failures that never reach kfree_skb with a
 * reason, for the diagnosis. Attached in diagnose runs (and by `trace --evidence`), not by
 * default: the XDP ones carry no packet, so no address or port filter can narrow them,
 * and inet_sock_set_state runs on every TCP state change of the host.
 *
 *   xdp_exception          an XDP program aborted (or returned an invalid action)
 *   xdp_redirect_err       an XDP redirect failed (no such device, not up, ...)
 *   xdp_devmap_xmit        frames redirected to a device that did not take them (only
 *                          when some were dropped: a veth whose peer has no XDP program)
 *   xdp_bulk_tx            the same for XDP_TX frames on a veth
 *   inet_sock_set_state    a TCP socket's state change (SYN_SENT -> CLOSE after the
 *                          retries, with the socket's error)
 *   tcp_retransmit_synack  a listener resends a SYN-ACK (the final ACK did not come, or
 *                          the accept queue was full when it did), with its queue
 *   sk_data_ready          a listener woken with its accept queue full (only then): the
 *                          SYNs that follow are dropped without a reason
 *
 * Included by pktpath.bpf.c after pp_emit and the filter helpers.
 */
#ifndef PKTPATH_EVIDENCE_H
#define PKTPATH_EVIDENCE_H

/* The meta filters an event without a packet can honour: namespace and interface (no mark). */
static __always_inline int pp_match_nopkt(struct net_device *dev, __u32 netns)
{
	if (CFG.has_mark)
		return 0;
	if (CFG.netns && netns != CFG.netns)
		return 0;
	if (CFG.has_ifname && !pp_ifname_match(dev))
		return 0;
	return 1;
}

static __always_inline __u32 pp_dev_netns(const struct net_device *dev)
{
	return dev ? pp_net_inum(BPF_CORE_READ(dev, nd_net.net)) : 0;
}

static __always_inline __u32 pp_prog_id(const struct bpf_prog *prog)
{
	return prog ? BPF_CORE_READ(prog, aux, id) : 0;
}

/* An event about a device (no packet, no tuple). */
static __always_inline int pp_dev_event(void *ctx, __u16 probe, struct net_device *dev, struct pp_extra *x)
{
	__u32 netns = pp_dev_netns(dev);
	if (!pp_match_nopkt(dev, netns))
		return 0;
	return pp_emit(ctx, probe, 0, dev, netns, 0, 0, x, 0, 0);
}

/* xdp_exception(dev, xdp_prog, act): aux = the action, aux2 = the program's id */
static __always_inline int on_xdp_exception(__u64 *ctx, int direct)
{
	struct pp_extra x = { .aux = (int)ctx[2], .aux2 = pp_prog_id((const struct bpf_prog *)ctx[1]) };
	return pp_dev_event(ctx, PP_PROBE_xdp_exception, (struct net_device *)ctx[0], &x);
}

/*
 * xdp_redirect_err(dev, xdp_prog, tgt, err, map_type, map_id, index): aux = the error;
 * where the kernel passes them (CFG.has_xdp_redirect_index), aux2 = index (the target
 * ifindex of a bpf_redirect, the key of a map redirect) and aux3 = the map type (0: none).
 * A veth whose peer has no XDP program refuses redirected frames here (-EOPNOTSUPP,
 * since its xdp_features, 6.3); older kernels drop them later (xdp_devmap_xmit).
 */
static __always_inline int on_xdp_redirect_err(__u64 *ctx, int direct)
{
	struct pp_extra x = { .aux = (int)ctx[3] };
	if (CFG.has_xdp_redirect_index) {
		x.aux2 = (__u32)ctx[6];
		x.aux3 = (__u8)ctx[4];
	}
	return pp_dev_event(ctx, PP_PROBE_xdp_redirect_err, (struct net_device *)ctx[0], &x);
}

/*
 * xdp_devmap_xmit(from_dev, to_dev, sent, drops, err) (5.8+), after a bulk of redirected
 * frames was handed to to_dev: only bulks with drops or an error make an event. The
 * event's device is to_dev; aux = err, aux2 = from_dev's ifindex, aux3 = drops.
 */
static __always_inline int on_xdp_devmap_xmit(__u64 *ctx, int direct)
{
	int drops = (int)ctx[3], err = (int)ctx[4];
	if (drops <= 0 && !err)
		return 0;
	struct net_device *from = (struct net_device *)ctx[0];
	struct pp_extra x = { .aux = err, .aux2 = from ? BPF_CORE_READ(from, ifindex) : 0, .aux3 = drops > 255 ? 255 : drops };
	return pp_dev_event(ctx, PP_PROBE_xdp_devmap_xmit, (struct net_device *)ctx[1], &x);
}

/* xdp_bulk_tx(dev, sent, drops, err) (4.19+): XDP_TX frames a veth could not hand to its peer; aux = err, aux3 = drops */
static __always_inline int on_xdp_bulk_tx(__u64 *ctx, int direct)
{
	int drops = (int)ctx[2], err = (int)ctx[3];
	if (drops <= 0 && !err)
		return 0;
	struct pp_extra x = { .aux = err, .aux3 = drops > 255 ? 255 : drops };
	return pp_dev_event(ctx, PP_PROBE_xdp_bulk_tx, (struct net_device *)ctx[0], &x);
}

/*
 * inet_sock_set_state(sk, oldstate, newstate), TCP sockets only: aux = old state, aux2 =
 * new state, aux3 = the socket's error (ETIMEDOUT when the SYN retries ran out,
 * ECONNREFUSED after a reset). The tuple is the socket's, outgoing.
 */
static __always_inline int on_inet_sock_set_state(__u64 *ctx, int direct)
{
	struct sock *sk = (struct sock *)ctx[0];
	int oldstate = (int)ctx[1], newstate = (int)ctx[2];
	struct pp_tuple t PP_ALIGNED = {};
	if (!sk || BPF_CORE_READ(sk, sk_protocol) != PP_IPPROTO_TCP)
		return 0;
	__u32 netns = pp_sock_netns(sk);
	if (!pp_match_nopkt(0, netns) || CFG.has_ifname)
		return 0;
	int has = pp_parse_sock(sk, &t, 1);
	/* a socket going to CLOSE has given its port back (inet_num 0), not its inet_sport */
	if (has && !t.sport)
		t.sport = bpf_ntohs(BPF_CORE_READ((struct inet_sock *)sk, inet_sport));
	if (CFG.track ? !pp_track_sock_state(sk, &t, has, newstate) : !pp_match_tuple(&t, has))
		return 0;
	struct pp_extra x = { .aux = oldstate, .aux2 = newstate, .aux3 = BPF_CORE_READ(sk, sk_err), .flags = PP_EV_FROM_SK };
	return pp_emit(ctx, PP_PROBE_inet_sock_set_state, 0, 0, netns, &t, has, &x, 0, 0);
}

/*
 * tcp_retransmit_synack(listener, req): the SYN-ACK's tuple from the request socket
 * (whose sock_common holds the connection's addresses); aux = the listener's accept
 * queue length, aux2 = its backlog, aux3 = which resend this is.
 */
static __always_inline int on_tcp_retransmit_synack(__u64 *ctx, int direct)
{
	struct sock *sk = (struct sock *)ctx[0];
	struct request_sock *req = (struct request_sock *)ctx[1];
	struct pp_tuple t PP_ALIGNED = {};
	if (!sk || !req)
		return 0;
	__u32 netns = pp_sock_netns(sk);
	if (!pp_match_nopkt(0, netns) || CFG.has_ifname)
		return 0;
	int has = pp_parse_sock((struct sock *)req, &t, 1);
	t.l4proto = PP_IPPROTO_TCP; /* a request sock has no sk_protocol */
	t.tcp_flags = 0x12;         /* SYN,ACK */
	if (!pp_match_sock_tuple(0, &t, has))
		return 0;
	struct pp_extra x = {
		.aux = BPF_CORE_READ(sk, sk_ack_backlog),
		.aux2 = BPF_CORE_READ(sk, sk_max_ack_backlog),
		.aux3 = BPF_CORE_READ(req, num_retrans) + 1,
		.flags = PP_EV_FROM_SK,
	};
	return pp_emit(ctx, PP_PROBE_tcp_retransmit_synack, 0, 0, netns, &t, has, &x, 0, 0);
}

/*
 * sk_data_ready(sk) (6.3+) runs whenever a socket gets data; a listener gets it when a
 * connection joins its accept queue. Only a TCP listener whose queue is then full
 * (sk_acceptq_is_full: more queued than the backlog) makes an event: the SYNs after it
 * are freed in tcp_conn_request without a drop reason. Tuple: the listener's address as
 * the destination; aux = queued, aux2 = backlog. Not narrowed to the tracked flows in
 * track mode (a listener has none): a full queue is rare and always worth showing.
 */
static __always_inline int on_sk_data_ready(__u64 *ctx, int direct)
{
	struct sock *sk = (struct sock *)ctx[0];
	struct pp_tuple t PP_ALIGNED = {};
	if (!sk || BPF_CORE_READ(sk, __sk_common.skc_state) != PP_TCP_LISTEN)
		return 0;
	__u32 queued = BPF_CORE_READ(sk, sk_ack_backlog), backlog = BPF_CORE_READ(sk, sk_max_ack_backlog);
	if (queued <= backlog || BPF_CORE_READ(sk, sk_protocol) != PP_IPPROTO_TCP)
		return 0;
	__u32 netns = pp_sock_netns(sk);
	if (!pp_match_nopkt(0, netns) || CFG.has_ifname)
		return 0;
	int has = pp_parse_sock(sk, &t, 0);
	if (!CFG.track && !pp_match_tuple(&t, has))
		return 0;
	struct pp_extra x = { .aux = queued, .aux2 = backlog, .flags = PP_EV_FROM_SK };
	return pp_emit(ctx, PP_PROBE_sk_data_ready, 0, 0, netns, &t, has, &x, 0, 0);
}

#endif
