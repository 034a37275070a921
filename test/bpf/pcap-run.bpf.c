// SPDX-License-Identifier: GPL-2.0
/*
 * Runs bpf/pcap.h on packets handed to BPF_PROG_TEST_RUN (XDP), so tests can check a
 * translated expression, as the verifier accepts it, against tcpdump on the same bytes,
 * and the bench can time the filter alone. Returns 1 on a match, 0 otherwise.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "parse.h"
#include "pcap.h"

char LICENSE[] SEC("license") = "GPL";

/* bytes the expression reads (set before load, as the probes' CFG is) */
volatile const __u32 need_l2 = PP_PCAP_WIN;
volatile const __u32 need_l3 = PP_PCAP_WIN;

/* the frame as an skb with its Ethernet header would show it */
SEC("xdp") int run_l2(struct xdp_md *ctx)
{
	unsigned char *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	__u32 len = end - data;
	return pp_pcap_run(data, len, len, need_l2, 0, 1);
}

/* the frame from its network header on, as an skb without a link-layer header yet shows it */
SEC("xdp") int run_l3(struct xdp_md *ctx)
{
	unsigned char *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	__u32 len = end - data;
	if (len < PP_ETH_HLEN)
		return 0;
	/* the length of the frame it came in, as the probes report it */
	return pp_pcap_run(data + PP_ETH_HLEN, len - PP_ETH_HLEN, len, need_l3, 0, 0);
}

/* 4 bytes TPID, TCI (network order), then a frame whose outer tag the kernel took out of band */
SEC("xdp") int run_l2_vlan(struct xdp_md *ctx)
{
	unsigned char *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	if (data + 4 > end)
		return 0;
	__u32 vlan = (__u32)data[0] << 24 | (__u32)data[1] << 16 | (__u32)data[2] << 8 | data[3];
	__u32 len = end - data - 4;
	return pp_pcap_run(data + 4, len, len, need_l2, vlan, 1);
}
