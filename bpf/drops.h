/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one definition of what `pktpath drops` shares between kernel and user space:
 * the counting key and value of the per-CPU drop table, the sample record of the side
 * channel, and the run's own settings.
 *
 * Fixed-width types only. src/drops/layout.ts mirrors it and src/drops/layout.test.ts
 * checks the mirror against the BTF of build/drops.bpf.o.
 */
#ifndef PKTPATH_DROPS_H
#define PKTPATH_DROPS_H

#include "event.h"

#define PP_DROP_STACK_DEPTH 32

/* One row of the drop table, as the kernel counts it. */
struct pp_drop_key {
	__u64 location;   /* kfree_skb's caller */
	__u32 reason;     /* enum skb_drop_reason; 0 on kernels without reasons */
	__u32 netns;      /* inode of the packet's network namespace, 0 unknown */
	__u32 ifindex;    /* device the skb was on (or its route's), 0 none */
	__u16 l3proto;    /* ETH_P_* (host order), 0 unknown */
	__u8 l4proto;     /* IPPROTO_* when l3proto is IP */
	__u8 pad;
	__s32 stack_id;   /* id in the stacks map with --stack, else -1 (or a bpf_get_stackid error) */
	__u32 pad2;
};

/* Per CPU, per key. */
struct pp_drop_val {
	__u64 count;
	__u64 bytes;      /* skb->len summed */
	__u64 sample_tat; /* this key's sample budget on this CPU: GCRA theoretical arrival time (ns) */
};

/* What the side channel carries: a rate-limited example packet of a key. */
struct pp_drop_sample {
	struct pp_drop_key key;
	struct pp_tuple tuple;
	__u32 len;
	__u8 has_tuple;
	__u8 pad[3];
	char ifname[PP_IFNAMSIZ];
	__u64 ts_ns;
};

/* Counters in the per-CPU `drop_stats` array. */
#define PP_DROPS_SAMPLES        0 /* samples written to the ring */
#define PP_DROPS_SAMPLES_LOST   1 /* samples the ring had no room for */
#define PP_DROPS_TABLE_FULL     2 /* drops not counted: the table had no room for a new key */
#define PP_DROPS_FILTERED       3 /* drops the run's filter left out */
#define PP_DROPS_NSTATS         4

/* The run's settings that struct pp_config (event.h) does not hold; .rodata, frozen at load. */
struct pp_drops_config {
	__u64 sample_period_ns; /* one sample per key per CPU every this often, at most... */
	__u32 sample_burst;     /* ...with bursts of this many */
	__u8 want_stack;        /* --stack: key by kernel stack too */
	__u8 pad[3];
};

#endif
