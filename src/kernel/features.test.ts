import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseBtf } from './btf.js';
import { KERNEL_FLOORS, floorsMarkdown, hasFeature, kernelFeatureFields, missingArguments, missingFeature } from './features.js';
import type { FeatureId, KernelFacts } from './features.js';
import { BtfWriter } from '../../test/helpers/btf-encoder.js';

/** A kernel's BTF with these bpf enum values, structs and tracepoint signatures (as pointer type names). */
function kernel(o: { funcs: string[]; attach: string[]; maps: string[]; progs: string[]; structs: string[]; tps: Record<string, string[]>; kernelBtf: boolean }) {
  const w = new BtfWriter();
  const u32 = w.int('unsigned int', 4, 32);
  const voidp = w.ref('ptr', 0);
  w.enum('bpf_func_id', 4, o.funcs.map((v, i) => [v, i]));
  w.enum('bpf_attach_type', 4, o.attach.map((v, i) => [v, i]));
  w.enum('bpf_map_type', 4, o.maps.map((v, i) => [v, i]));
  w.enum('bpf_prog_type', 4, o.progs.map((v, i) => [v, i]));
  for (const s of o.structs) w.composite('struct', s, 4, [['x', u32, 0]]);
  w.composite('struct', 'bpf_btf_info', 8, o.kernelBtf ? [['id', u32, 0], ['kernel_btf', u32, 32]] : [['id', u32, 0]]);
  for (const [tp, args] of Object.entries(o.tps)) {
    const params: [string, number][] = [['', voidp], ...args.map((a): [string, number] => ['', w.ref('ptr', w.composite('struct', a, 4, []))])];
    w.ref('typedef', w.ref('ptr', w.proto(0, params)), `btf_trace_${tp}`);
  }
  return parseBtf(w.build());
}

const OLD: KernelFacts = {
  // about Linux 5.10: fentry and the ring buffer, not bpf_get_func_ip, kprobe.multi or BPF netfilter programs
  btf: kernel({
    funcs: ['BPF_FUNC_probe_read_kernel'],
    attach: ['BPF_TRACE_RAW_TP', 'BPF_TRACE_FENTRY', 'BPF_TRACE_FEXIT'],
    maps: ['BPF_MAP_TYPE_RINGBUF'],
    progs: ['BPF_PROG_TYPE_RAW_TRACEPOINT'],
    structs: [],
    tps: {
      kfree_skb: ['sk_buff', 'location'],
      consume_skb: ['sk_buff'],
      fib6_table_lookup: ['net', 'fib6_result', 'fib6_table', 'flowi6'],
      xdp_redirect_err: ['net_device', 'bpf_prog', 'to_ifindex', 'err', 'bpf_map', 'map_index'],
      xdp_devmap_xmit: ['bpf_map', 'map_index', 'sent', 'drops', 'net_device', 'net_device', 'err'],
    },
    kernelBtf: true,
  }),
  hasSymbol: () => false,
};
const NEW: KernelFacts = {
  btf: kernel({
    funcs: ['BPF_FUNC_probe_read_kernel', 'BPF_FUNC_get_func_ip', 'BPF_FUNC_get_func_ret'],
    attach: ['BPF_TRACE_RAW_TP', 'BPF_TRACE_FENTRY', 'BPF_TRACE_FEXIT', 'BPF_TRACE_KPROBE_MULTI'],
    maps: ['BPF_MAP_TYPE_RINGBUF'],
    progs: ['BPF_PROG_TYPE_RAW_TRACEPOINT', 'BPF_PROG_TYPE_NETFILTER'],
    structs: ['bpf_nf_ctx'],
    tps: {
      kfree_skb: ['sk_buff', 'location', 'reason', 'sock'],
      consume_skb: ['sk_buff', 'location'],
      tcp_send_reset: ['sock', 'sk_buff', 'reason'],
      xdp_redirect_err: ['net_device', 'bpf_prog', 'tgt', 'err', 'map_type', 'map_id', 'index'],
      xdp_devmap_xmit: ['net_device', 'net_device', 'sent', 'drops', 'err'],
    },
    kernelBtf: true,
  }),
  hasSymbol: (s) => s === 'register_kprobe',
};

test('hasFeature: each proof kind, on an older and a newer kernel', () => {
  const cases: [FeatureId, boolean | null, boolean | null][] = [
    ['btf', true, true],
    ['raw_tp', true, true],
    ['ringbuf', true, true],
    ['fentry', true, true],
    ['func_ip', false, true],
    ['func_ret', false, true],
    ['kprobe_multi', false, true],
    ['kprobes', false, true],
    ['netfilter_prog', false, true],
    ['module_btf', true, true],
    ['kfree_skb_reason', false, true],
    ['consume_skb_location', false, true],
    ['tcp_send_reset_reason', false, true],
    ['fib6_result', true, null], // the newer fake kernel has no fib6_table_lookup: cannot tell
    ['xdp_redirect_index', false, true],
    ['xdp_devmap_xmit_devs', false, true],
  ];
  for (const [f, old, now] of cases) {
    assert.equal(hasFeature(f, OLD), old, `${f} on the older kernel`);
    assert.equal(hasFeature(f, NEW), now, `${f} on the newer kernel`);
  }
  assert.equal(hasFeature('func_ip', { btf: null, hasSymbol: () => true }), null, 'no BTF: BTF proofs cannot tell');
  assert.equal(hasFeature('btf', { btf: null, hasSymbol: () => true }), false);
});

test('missingFeature: the first floor the kernel provably lacks, in words; null when none', () => {
  assert.equal(missingFeature(['fentry', 'func_ip'], OLD), 'needs bpf_get_func_ip (Linux 5.15+), and this kernel has no BPF_FUNC_get_func_ip in enum bpf_func_id');
  assert.equal(missingFeature(['kprobes'], OLD), 'needs kprobes (CONFIG_KPROBES), and this kernel has no symbol register_kprobe');
  assert.equal(missingFeature(['fentry', 'func_ip', 'func_ret'], NEW), null);
});

test('missingArguments: the tracepoint arguments an older kernel lacks, only for the tracepoints attached', () => {
  assert.deepEqual(missingArguments(['kfree_skb', 'netif_rx'], OLD), [
    { what: 'kfree_skb drop reason', reason: 'needs kfree_skb drop reason (Linux 5.17+), and this kernel has no kfree_skb tracepoint with 3 arguments' },
    { what: 'kfree_skb receiving socket', reason: 'needs kfree_skb receiving socket (Linux 6.11+), and this kernel has no kfree_skb tracepoint with 4 arguments' },
  ]);
  assert.deepEqual(missingArguments(['netif_rx'], OLD), []);
  assert.deepEqual(missingArguments(['kfree_skb', 'consume_skb', 'tcp_send_reset'], NEW), []);
});

test('kernelFeatureFields: the pp_config flags follow the tracepoint signatures of the floors table', () => {
  const flags = (v: number): Record<string, number> =>
    ({ has_kfree_reason: v, has_kfree_rx_sk: v, has_consume_location: v, has_rst_reason: v, has_xdp_redirect_index: v });
  assert.deepEqual(kernelFeatureFields(OLD.btf!), flags(0));
  assert.deepEqual(kernelFeatureFields(NEW.btf!), flags(1));
});

test('the floors table: one row per feature, releases in order, and the README shows it', () => {
  const ids = KERNEL_FLOORS.map((f) => f.feature);
  assert.equal(new Set(ids).size, ids.length, 'no feature twice');
  const num = (v: string): number => v.split('.').reduce((a, x) => a * 100 + Number(x), 0);
  const versions = KERNEL_FLOORS.flatMap((f) => (f.since ? [num(f.since)] : []));
  assert.deepEqual(versions, [...versions].sort((a, b) => a - b), 'oldest first');
  assert.match(floorsMarkdown(), /^\| feature \| Linux \| proven by \| pktpath uses it for \|\n\|---\|/);
  assert.match(floorsMarkdown(), /\| bpf_get_func_ret \| 5\.17 \| `BPF_FUNC_get_func_ret in enum bpf_func_id` \|/);
});
