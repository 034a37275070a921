// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmark producer: one run of `flood` (BPF_PROG_RUN) writes BATCH records of the
 * real event size into the ring buffer, as fast as the kernel can. Used to compare
 * pktpath's in-place JavaScript reader with libbpf's C ring_buffer__poll on the
 * same object, in the same run.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "event.h"

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20);
} events SEC(".maps");

/* [0] lost (ring full), [1] emitted */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

volatile const __u32 BATCH = 4096;

static long emit_one(__u64 i, void *ctx)
{
	__u32 k = 0;
	struct pp_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		__u64 *v = bpf_map_lookup_elem(&stats, &k);
		if (v)
			__sync_fetch_and_add(v, 1);
		return 0;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->ts_ns = bpf_ktime_get_ns();
	e->skb = i;
	e->probe = 3;
	e->len = 60;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("syscall")
int flood(void *ctx)
{
	__u32 k = 1;
	bpf_loop(BATCH, emit_one, 0, 0);
	__u64 *v = bpf_map_lookup_elem(&stats, &k);
	if (v)
		__sync_fetch_and_add(v, BATCH);
	return 0;
}
