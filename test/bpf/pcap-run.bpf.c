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

/* 2 bytes: how much of the frame is linear (big endian), then the frame: the rest is "in page fragments" */
SEC("xdp") int run_l2_linear(struct xdp_md *ctx)
{
	unsigned char *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	if (data + 2 > end)
		return 0;
	__u32 linear = (__u32)data[0] << 8 | data[1];
	__u32 len = end - data - 2;
	return pp_pcap_run(data + 2, linear < len ? linear : len, len, need_l2, 0, 1);
}

/*
 * The alternative the translation was measured against (npm run bench): a bounded
 * classic BPF interpreter, one bpf_loop step per instruction (Linux 5.17+), reading the
 * program from .rodata. Same window, same result; only the Ethernet form.
 */
struct pp_cbpf_insn {
	__u16 code;
	__u8 jt, jf;
	__u32 k;
};
#define PP_INTERP_MAX 256
volatile const struct pp_cbpf_insn interp_prog[PP_INTERP_MAX];

struct pp_interp {
	const struct pp_pcap_win *w;
	__u32 caplen, wirelen, pc, a, x, result;
	__u32 m[16];
};

/* the byte at window offset `off` (checked against caplen by the caller) */
#define PP_B(c, off) ((__u32)(c)->w->b[(off) & (PP_PCAP_WIN - 1)])

static __always_inline int pp_interp_load(struct pp_interp *c, __u32 off, __u32 n, __u32 *out)
{
	if (off > PP_PCAP_WIN - n || off + n > c->caplen)
		return 0;
	*out = n == 1 ? PP_B(c, off) : n == 2 ? PP_B(c, off) << 8 | PP_B(c, off + 1)
					     : PP_B(c, off) << 24 | PP_B(c, off + 1) << 16 | PP_B(c, off + 2) << 8 | PP_B(c, off + 3);
	return 1;
}

static __always_inline __u32 pp_interp_alu(__u32 op, __u32 a, __u32 v)
{
	switch (op) {
	case 0x00: return a + v;
	case 0x10: return a - v;
	case 0x20: return a * v;
	case 0x30: return v ? a / v : 0;
	case 0x40: return a | v;
	case 0x50: return a & v;
	case 0x60: return v < 32 ? a << v : 0;
	case 0x70: return v < 32 ? a >> v : 0;
	case 0x80: return -a;
	case 0x90: return v ? a % v : 0;
	default: return a ^ v;
	}
}

static long pp_interp_step(__u32 i, struct pp_interp *c)
{
	__u32 pc = c->pc;
	if (pc >= PP_INTERP_MAX)
		return 1;
	__u16 code = interp_prog[pc].code;
	__u32 k = interp_prog[pc].k, v = 0;
	__u32 size = (code & 0x18) == 0x00 ? 4 : (code & 0x18) == 0x08 ? 2 : 1;
	c->pc = pc + 1;
	switch (code & 0x07) {
	case 0x00: /* LD */
	case 0x01: /* LDX */
		switch (code & 0xe0) {
		case 0x00: v = k; break;
		case 0x80: v = c->wirelen; break;
		case 0x60: v = c->m[k & 15]; break;
		case 0x20: if (!pp_interp_load(c, k, size, &v)) return 1; break;
		case 0x40: if (!pp_interp_load(c, c->x + k, size, &v)) return 1; break;
		case 0xa0: if (!pp_interp_load(c, k, 1, &v)) return 1; v = (v & 0xf) << 2; break;
		default: return 1;
		}
		if (code & 0x07)
			c->x = v;
		else
			c->a = v;
		return 0;
	case 0x02: c->m[k & 15] = c->a; return 0;
	case 0x03: c->m[k & 15] = c->x; return 0;
	case 0x04:
		if ((code & 0xf0) == 0x30 && (code & 0x08) && !c->x)
			return 1; /* division by zero rejects */
		c->a = pp_interp_alu(code & 0xf0, c->a, code & 0x08 ? c->x : k);
		return 0;
	case 0x05: {
		__u32 rhs = code & 0x08 ? c->x : k, yes;
		switch (code & 0xf0) {
		case 0x00: c->pc = pc + 1 + k; return 0;
		case 0x10: yes = c->a == rhs; break;
		case 0x20: yes = c->a > rhs; break;
		case 0x30: yes = c->a >= rhs; break;
		default: yes = (c->a & rhs) != 0; break;
		}
		c->pc = pc + 1 + (yes ? interp_prog[pc].jt : interp_prog[pc].jf);
		return 0;
	}
	case 0x06: c->result = ((code & 0x18) == 0x10 ? c->a : k) != 0; return 1;
	default: if (code & 0x80) c->a = c->x; else c->x = c->a; return 0;
	}
}

SEC("xdp") int run_interp(struct xdp_md *ctx)
{
	unsigned char *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	__u32 zero = 0;
	struct pp_pcap_buf *buf = bpf_map_lookup_elem(&pcap_buf, &zero);
	if (!buf)
		return 0;
	__u64 len = end - data;
	struct pp_interp c = { .w = &buf->win[0], .wirelen = len };
	c.caplen = pp_pcap_clamp(len < need_l2 ? len : need_l2, PP_PCAP_WIN);
	if (bpf_probe_read_kernel(buf->win[0].b, c.caplen, data))
		return 0;
	bpf_loop(PP_INTERP_MAX, pp_interp_step, &c, 0);
	return c.result;
}

/* what BPF_PROG_TEST_RUN itself costs, to subtract from the timings */
SEC("xdp") int run_nothing(struct xdp_md *ctx)
{
	return 0;
}
