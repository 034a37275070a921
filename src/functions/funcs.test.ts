import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseBtf } from '../kernel/btf.js';
import type { Btf } from '../kernel/btf.js';
import {
  DENYLIST,
  MAX_SKB_ARG,
  REASON_EXCLUDED,
  REASON_NO_SKB,
  REASON_NOT_IN_BTF,
  REASON_NOT_IN_BTF_OR_NO_SKB,
  REASON_NOT_TRACEABLE,
  btfHasFunc,
  fastDiscovery,
  parseAvailableFilterFunctions,
  parseFilterFunctions,
  parseFunctionCatalog,
  reasonModuleMissing,
  selectFunctions,
  skbFunctions,
  sockArg,
  traceKey,
  tracefsPaths,
} from './funcs.js';
import type { DefaultEntry, SkbFunc } from './funcs.js';
import { BtfWriter } from '../../test/helpers/btf-encoder.js';
import { ROOT } from '../shared/io/paths.js';

// ---- a synthetic kernel ----

function buildKernel(): { base: Btf; module: Btf } {
  const w = new BtfWriter();
  const int = w.int('int', 4, 32, 1);
  const uint = w.int('unsigned int', 4, 32);
  const u32 = w.ref('typedef', uint, 'u32');
  const skb = w.composite('struct', 'sk_buff', 232, [['len', uint, 0]]);
  const skbPtr = w.ref('ptr', skb);
  const constSkb = w.ref('const', skb);
  const constSkbPtr = w.ref('ptr', constSkb);
  const skbPtrTd = w.ref('typedef', skbPtr, 'skb_ptr_t');
  const volSkbPtr = w.ref('volatile', skbPtrTd); // volatile skb_ptr_t
  const skbPtrPtr = w.ref('ptr', skbPtr);
  const net = w.composite('struct', 'net', 8, [['n', int, 0]]);
  const netPtr = w.ref('ptr', net);
  const sock = w.composite('struct', 'sock', 8, [['n', int, 0]]);
  const sockPtr = w.ref('ptr', sock);
  const charT = w.int('char', 1, 8, 2);
  const charPtr = w.ref('ptr', charT);
  const otherSkb = w.composite('struct', 'sk_buff_head', 24, [['q', int, 0]]);
  const otherPtr = w.ref('ptr', otherSkb);

  w.func('ip_rcv', w.proto(int, [['skb', skbPtr], ['dev', netPtr]]));
  w.func('ip_finish_output2', w.proto(int, [['net', netPtr], ['sk', sockPtr], ['skb', skbPtr]]));
  w.func('skb_const', w.proto(u32, [['skb', constSkbPtr]]));
  w.func('skb_typedef', w.proto(0, [['x', int], ['skb', volSkbPtr]]));
  w.func('br_handle_frame', w.proto(int, [['pskb', skbPtrPtr]]));
  w.func('skb_queue_tail', w.proto(0, [['list', otherPtr], ['x', int]]));
  w.func('sixth', w.proto(int, [['a', int], ['b', int], ['c', int], ['d', int], ['e', int], ['skb', skbPtr]]));
  w.func('fifth', w.proto(int, [['a', int], ['b', int], ['c', int], ['d', int], ['skb', skbPtr], ['f', int], ['g', int]]));
  w.func('two_skbs', w.proto(skbPtr, [['sk', sockPtr], ['a', skbPtr], ['b', skbPtr]]));
  w.func('nf_log_packet', w.proto(0, [['skb', skbPtr], ['fmt', charPtr], ['', 0]]));
  w.func('no_args', w.proto(int, []));
  w.func('dup', w.proto(int, [['x', int]])); // a static "dup" without an skb...
  w.func('dup', w.proto(int, [['skb', skbPtr]])); // ...and one with: this one counts
  w.func('dup2', w.proto(int, [['skb', skbPtr]]));
  w.func('dup2', w.proto(int, [['sk', sockPtr], ['skb', skbPtr]])); // first one wins
  w.func('__bpf_trace_kfree_skb', w.proto(0, [['data', charPtr], ['skb', skbPtr]]));
  w.func('tcp_send_active_reset', w.proto(0, [['sk', sockPtr], ['prio', int]]));
  const base = parseBtf(w.build());

  const m = new BtfWriter(base.endId, base.strEnd);
  const devT = m.composite('struct', 'veth_priv', 8, [['n', int, 0]]);
  const devPtr = m.ref('ptr', devT);
  m.func('veth_xmit', m.proto(int, [['skb', skbPtr], ['dev', devPtr]])); // base skb pointer
  const fwd = m.fwd('sk_buff'); // a module-local forward declaration still counts
  const fwdPtr = m.ref('ptr', fwd);
  m.func('veth_fwd', m.proto(int, [['dev', devPtr], ['skb', fwdPtr]]));
  m.func('veth_open', m.proto(int, [['dev', devPtr]]));
  m.func('ip_rcv', m.proto(int, [['skb', skbPtr]])); // a module copy of a vmlinux name
  const module = parseBtf(m.build(), base);
  return { base, module };
}

const kernel = buildKernel();
const synth = skbFunctions(kernel.base, { modules: [{ name: 'veth', btf: kernel.module }] });
const byKey = new Map(synth.map((f) => [traceKey(f.name, f.module), f]));

test('skbFunctions: finds struct sk_buff * among the first five arguments, through typedefs and qualifiers', () => {
  assert.deepEqual(
    synth.map((f) => [traceKey(f.name, f.module), f.skbArg]),
    [
      ['ip_rcv', 1],
      ['ip_finish_output2', 3],
      ['skb_const', 1],
      ['skb_typedef', 2],
      ['fifth', 5],
      ['two_skbs', 2],
      ['nf_log_packet', 1],
      ['dup', 1],
      ['dup2', 1],
      ['__bpf_trace_kfree_skb', 2],
      ['veth_xmit [veth]', 1],
      ['veth_fwd [veth]', 2],
      ['ip_rcv [veth]', 1],
    ],
  );
  for (const absent of ['br_handle_frame', 'skb_queue_tail', 'sixth', 'no_args', 'tcp_send_active_reset', 'veth_open']) {
    assert.ok(!synth.some((f) => f.name === absent), `${absent} takes no skb in its first five arguments`);
  }
});

test('skbFunctions: spells parameters and return type, counts args, marks variadic', () => {
  const f = byKey.get('ip_finish_output2')!;
  assert.deepEqual(f.params, ['struct net *', 'struct sock *', 'struct sk_buff *']);
  assert.equal(f.ret, 'int');
  assert.equal(f.nargs, 3);
  assert.equal(f.variadic, false);
  assert.equal(f.module, undefined);
  assert.equal(kernel.base.type(f.btfId).name, 'ip_finish_output2');

  assert.deepEqual(byKey.get('skb_const')!.params, ['const struct sk_buff *']);
  assert.equal(byKey.get('skb_const')!.ret, 'u32');
  assert.deepEqual(byKey.get('skb_typedef')!.params, ['int', 'volatile skb_ptr_t']);
  assert.equal(byKey.get('skb_typedef')!.ret, 'void');
  assert.equal(byKey.get('fifth')!.nargs, 7, 'any number of arguments is kept');
  assert.equal(byKey.get('two_skbs')!.ret, 'struct sk_buff *');

  const v = byKey.get('nf_log_packet')!;
  assert.equal(v.variadic, true);
  assert.equal(v.nargs, 2);
  assert.deepEqual(v.params, ['struct sk_buff *', 'char *']);

  const dup = byKey.get('dup2')!;
  assert.deepEqual(dup.params, ['struct sk_buff *'], 'the first same-named FUNC taking an skb wins');

  const m = byKey.get('veth_xmit [veth]')!;
  assert.equal(m.module, 'veth');
  assert.deepEqual(m.params, ['struct sk_buff *', 'struct veth_priv *']);
  assert.equal(kernel.module.type(m.btfId).name, 'veth_xmit');
  assert.ok(m.btfId >= kernel.module.startId);
});

test('skbFunctions: the raw reader and the public-API reader agree', () => {
  const slow = skbFunctions(kernel.base, { modules: [{ name: 'veth', btf: kernel.module }], slow: true });
  assert.deepEqual(slow, synth);
  assert.ok(fastDiscovery(kernel.base) && fastDiscovery(kernel.module), 'the raw reader understands this Btf');
  assert.deepEqual(skbFunctions(kernel.base), synth.filter((f) => f.module === undefined));
});

test('skbFunctions: a BTF without struct sk_buff has no skb functions', () => {
  const w = new BtfWriter();
  const int = w.int('int', 4, 32, 1);
  w.func('f', w.proto(int, [['x', int]]));
  assert.deepEqual(skbFunctions(parseBtf(w.build())), []);
});

test('btfHasFunc looks in vmlinux and the modules', () => {
  const has = btfHasFunc(kernel.base, [{ name: 'veth', btf: kernel.module }]);
  assert.equal(has('tcp_send_active_reset'), true);
  assert.equal(has('veth_open'), true);
  assert.equal(has('nope'), false);
  assert.equal(btfHasFunc(kernel.base)('veth_open'), false);
});

// ---- available_filter_functions ----

test('parseAvailableFilterFunctions: names, modules, __pfx_, duplicates, blank lines', () => {
  const text = [
    'ip_rcv',
    '__pfx_ip_rcv',
    'tcp_v4_rcv',
    'veth_xmit [veth]',
    'add_grec',
    'add_grec',
    '',
    '  nft_do_chain [nf_tables]  ',
    'veth_xmit [veth]',
  ].join('\n');
  const set = parseAvailableFilterFunctions(text);
  assert.deepEqual([...set], ['ip_rcv', 'tcp_v4_rcv', 'veth_xmit [veth]', 'add_grec', 'nft_do_chain [nf_tables]']);
  assert.ok(!set.has('veth_xmit'), 'module functions are keyed with their module');
  assert.deepEqual([...parseFilterFunctions(text).duplicates], ['add_grec', 'veth_xmit [veth]']);
  assert.equal(parseAvailableFilterFunctions('').size, 0);
});

test('parseAvailableFilterFunctions: available_filter_functions_addrs format', () => {
  const text = 'ffffffff81002014 __traceiter_initcall_level\nffffffff81b2c5a0 ip_rcv\nffffffffc0a01230 veth_xmit [veth]\nffffffff81000000 __pfx_ip_rcv\n';
  assert.deepEqual([...parseAvailableFilterFunctions(text)], ['__traceiter_initcall_level', 'ip_rcv', 'veth_xmit [veth]']);
  // A function that looks like hex is still a name when nothing follows it.
  assert.deepEqual([...parseAvailableFilterFunctions('deadbeef\ncafe [mod]\n')], ['deadbeef', 'cafe [mod]']);
});

test('tracefsPaths: tracefs first, then the debugfs copy', () => {
  assert.deepEqual(tracefsPaths(), [
    '/sys/kernel/tracing/available_filter_functions',
    '/sys/kernel/debug/tracing/available_filter_functions',
  ]);
});

// ---- selection ----

const D = (name: string, module?: string): DefaultEntry =>
  module === undefined ? { name, stage: 'ip', family: 'any', what: 'x' } : { name, stage: 'ip', family: 'any', module, what: 'x' };

const names = (fs: readonly SkbFunc[]): string[] => fs.map((f) => traceKey(f.name, f.module));

test('selectFunctions: defaults, in catalogue order, with a reason for each one skipped', () => {
  const defaults = [
    D('ip_finish_output2'),
    D('ip_rcv'),
    D('ip_rcv'), // listed twice: once
    D('napi_gro_receive'),
    D('tcp_send_active_reset'),
    D('br_handle_frame', 'bridge'),
    D('br_forward', 'bridge'),
    D('veth_xmit', 'veth'),
    D('__bpf_trace_kfree_skb'),
    D('skb_const'),
  ];
  const hasFunc = btfHasFunc(kernel.base, [{ name: 'veth', btf: kernel.module }]);
  const traceable = new Set(['ip_finish_output2', 'ip_rcv', 'veth_xmit [veth]', '__bpf_trace_kfree_skb']);
  const r = selectFunctions(synth, { defaults, all: false, traceable, hasFunc });
  assert.deepEqual(names(r.selected), ['ip_finish_output2', 'ip_rcv', 'veth_xmit [veth]']);
  assert.equal(r.selected[1]!.module, undefined, 'vmlinux wins over a module copy');
  assert.deepEqual(r.skipped, [
    { name: 'napi_gro_receive', reason: REASON_NOT_IN_BTF },
    { name: 'tcp_send_active_reset', reason: REASON_NO_SKB },
    { name: 'br_handle_frame', reason: REASON_NO_SKB },
    { name: 'br_forward', reason: reasonModuleMissing('bridge', true) },
    { name: '__bpf_trace_kfree_skb', reason: `denied: ${DENYLIST[0]!.reason}` },
    { name: 'skb_const', reason: REASON_NOT_TRACEABLE },
  ]);
  assert.match(reasonModuleMissing('bridge', true), /module bridge not loaded/);

  // Without hasFunc the two BTF reasons cannot be told apart; traceable unknown: everything is tried.
  const r2 = selectFunctions(synth, { defaults, all: false, traceable: null });
  assert.deepEqual(names(r2.selected), ['ip_finish_output2', 'ip_rcv', 'veth_xmit [veth]', 'skb_const']);
  assert.deepEqual(
    r2.skipped.map((s) => s.reason),
    [
      REASON_NOT_IN_BTF_OR_NO_SKB,
      REASON_NOT_IN_BTF_OR_NO_SKB,
      reasonModuleMissing('bridge', false),
      reasonModuleMissing('bridge', false),
      `denied: ${DENYLIST[0]!.reason}`,
    ],
  );
});

test('selectFunctions: a default only in modules prefers its catalogue module, then a traceable copy', () => {
  const copies: SkbFunc[] = [
    { name: 'dev_queue_xmit', module: 'act_mirred', skbArg: 1, nargs: 1, btfId: 9, params: [], ret: 'int', variadic: false },
    { name: 'dev_queue_xmit', module: 'sch_x', skbArg: 1, nargs: 1, btfId: 10, params: [], ret: 'int', variadic: false },
  ];
  const traceable = new Set(['dev_queue_xmit [sch_x]']);
  assert.deepEqual(names(selectFunctions(copies, { defaults: [D('dev_queue_xmit')], all: false, traceable }).selected), ['dev_queue_xmit [sch_x]']);
  const r = selectFunctions(copies, { defaults: [D('dev_queue_xmit', 'act_mirred')], all: false, traceable });
  assert.deepEqual(r.skipped, [{ name: 'dev_queue_xmit', module: 'act_mirred', reason: REASON_NOT_TRACEABLE }]);
});

test('selectFunctions: --all takes every discovered function, minus denied, untraceable and excluded', () => {
  const r = selectFunctions(synth, { defaults: [D('ip_rcv')], all: true, traceable: null });
  assert.equal(r.selected.length, synth.length - 1);
  assert.deepEqual(r.skipped, [{ name: '__bpf_trace_kfree_skb', reason: `denied: ${DENYLIST[0]!.reason}` }]);

  const traceable = new Set(synth.map((f) => traceKey(f.name, f.module)).filter((k) => k !== 'fifth' && k !== 'veth_fwd [veth]'));
  const r2 = selectFunctions(synth, { defaults: [], all: true, traceable, exclude: /^dup/, denylist: [] });
  assert.deepEqual(names(r2.selected), [
    'ip_rcv', 'ip_finish_output2', 'skb_const', 'skb_typedef', 'two_skbs', 'nf_log_packet', '__bpf_trace_kfree_skb', 'veth_xmit [veth]', 'ip_rcv [veth]',
  ]);
  assert.deepEqual(r2.skipped, [
    { name: 'fifth', reason: REASON_NOT_TRACEABLE },
    { name: 'dup', reason: REASON_EXCLUDED },
    { name: 'dup2', reason: REASON_EXCLUDED },
    { name: 'veth_fwd', module: 'veth', reason: REASON_NOT_TRACEABLE },
  ]);
});

test('selectFunctions: --func restricts to matching functions out of all discovered (with or without --all)', () => {
  for (const all of [false, true]) {
    const r = selectFunctions(synth, { defaults: [D('ip_finish_output2')], all, include: /^ip_rcv$|skb/, exclude: /typedef/, traceable: null });
    assert.deepEqual(names(r.selected), ['ip_rcv', 'skb_const', 'two_skbs', 'ip_rcv [veth]']);
    assert.deepEqual(r.skipped, [
      { name: 'skb_typedef', reason: REASON_EXCLUDED },
      { name: '__bpf_trace_kfree_skb', reason: `denied: ${DENYLIST[0]!.reason}` },
    ]);
  }
  // A global regex is not stateful across names.
  const g = selectFunctions(synth, { defaults: [], all: false, include: /veth/g, traceable: null });
  assert.deepEqual(names(g.selected), ['veth_xmit [veth]', 'veth_fwd [veth]']);
  // Matching nothing selects nothing.
  assert.deepEqual(selectFunctions(synth, { defaults: [D('ip_rcv')], all: false, include: /^zzz/, traceable: null }), { selected: [], skipped: [] });
});

test('DENYLIST: tracepoint plumbing only', () => {
  const denied = (n: string): boolean => DENYLIST.some((r) => r.pattern.test(n));
  for (const n of ['__bpf_trace_kfree_skb', '__traceiter_net_dev_queue', '__probestub_kfree_skb', 'perf_trace_net_dev_xmit', 'trace_event_raw_event_kfree_skb']) {
    assert.ok(denied(n), n);
  }
  for (const n of ['kfree_skb_reason', 'sk_skb_reason_drop', 'skb_copy_bits', 'bpf_prog_run_generic_xdp', 'trace_tg', 'nf_log_trace', 'ip_rcv']) {
    assert.ok(!denied(n), n);
  }
});

// ---- the catalogue ----

const catalogue = parseFunctionCatalog(JSON.parse(readFileSync(join(ROOT, 'src/functions/functions.json'), 'utf8')));

test('functions.json: valid, and covers the path Mytracer traces on IPv4 and IPv6', () => {
  const names = new Set(catalogue.map((d) => d.name));
  for (const n of [
    'napi_gro_receive', 'netif_receive_skb', '__netif_receive_skb', '__netif_receive_skb_core', '__netif_receive_skb_one_core',
    'netif_receive_skb_internal', 'netif_rx', 'ip_rcv', 'ip_rcv_core', 'ip_rcv_finish', 'ip_local_deliver', 'ip_local_deliver_finish',
    'ip_protocol_deliver_rcu', 'ipv6_rcv', 'ip6_rcv_core', 'ip6_rcv_finish', 'ip6_input', 'ip6_input_finish', 'ip6_protocol_deliver_rcu',
    'tcp_v4_rcv', 'tcp_v6_rcv', 'tcp_v4_do_rcv', 'tcp_rcv_established', 'tcp_rcv_state_process', 'tcp_check_req', 'tcp_validate_incoming',
    'udp_rcv', 'udpv6_rcv', '__udp4_lib_rcv', 'icmp_rcv', 'icmpv6_rcv', 'ping_rcv', '__ip_queue_xmit', 'ip_queue_xmit', '__ip_local_out',
    'ip_local_out', 'ip_output', 'ip_finish_output', '__ip_finish_output', 'ip_finish_output2', 'ip6_xmit', 'ip6_output', 'ip6_finish_output',
    'ip6_finish_output2', 'neigh_resolve_output', 'dev_queue_xmit', '__dev_queue_xmit', 'dev_hard_start_xmit', 'sch_direct_xmit',
    'validate_xmit_skb', 'ip_forward', 'ip_forward_finish', 'ip6_forward', 'tcp_v4_send_reset', 'tcp_v6_send_reset', 'tcp_send_active_reset',
    'ip_send_unicast_reply', 'nf_hook_slow', 'ipt_do_table', 'ip6t_do_table', 'nft_do_chain', 'br_handle_frame', 'br_handle_frame_finish',
    'br_forward', 'br_dev_xmit', 'br_nf_pre_routing', 'kfree_skb_reason', 'sk_skb_reason_drop', '__kfree_skb', 'consume_skb',
    'skb_copy_datagram_iter', 'packet_rcv', 'tpacket_rcv',
  ]) {
    assert.ok(names.has(n), n);
  }
  assert.ok(catalogue.some((d) => d.family === 'ipv6') && catalogue.some((d) => d.family === 'ipv4'));
  assert.equal(catalogue.find((d) => d.name === 'br_forward')?.module, 'bridge');
  assert.equal(catalogue.find((d) => d.name === 'nf_hook_slow')?.ret, true);
  assert.equal(catalogue.find((d) => d.name === 'ip_rcv_finish')?.ret, undefined);
});

test('parseFunctionCatalog rejects malformed catalogues', () => {
  const ok = { name: 'ip_rcv', stage: 'ip', family: 'ipv4', what: 'x' };
  const cases: [unknown, RegExp][] = [
    [{}, /"functions" array missing/],
    [{ functions: [{ ...ok, what: undefined }] }, /lacks "what"/],
    [{ functions: [{ ...ok, stage: 'l2' }] }, /unknown stage "l2"/],
    [{ functions: [{ ...ok, family: 'ipx' }] }, /unknown family/],
    [{ functions: [ok, ok] }, /duplicate ip_rcv/],
    [{ functions: [{ ...ok, name: 'ip rcv' }] }, /bad name/],
    [{ functions: [{ ...ok, module: 'a b' }] }, /bad module/],
    [{ functions: [{ ...ok, ret: 'yes' }] }, /"ret" must be true, false or one of verdict, net_rx/],
  ];
  for (const [json, re] of cases) assert.throws(() => parseFunctionCatalog(json), re);
  assert.deepEqual(parseFunctionCatalog({ functions: [{ ...ok, extra: 1 }] }), [ok]);
  assert.deepEqual(parseFunctionCatalog({ functions: [{ ...ok, module: 'm', ret: true }] }), [{ ...ok, module: 'm', ret: true }]);
  assert.deepEqual(parseFunctionCatalog({ functions: [{ ...ok, ret: 'verdict' }] }), [{ ...ok, ret: 'verdict' }], 'a convention');
  assert.deepEqual(parseFunctionCatalog({ functions: [{ ...ok, ret: false }] }), [ok]);
});

// ---- the running kernel ----

const VMLINUX = '/sys/kernel/btf/vmlinux';

test('host vmlinux BTF: skb functions', (t) => {
  if (!existsSync(VMLINUX)) {
    t.skip(`${VMLINUX} not present (kernel without CONFIG_DEBUG_INFO_BTF?)`);
    return;
  }
  const btf = parseBtf(readFileSync(VMLINUX));
  const t0 = performance.now();
  const all = skbFunctions(btf);
  const ms = performance.now() - t0;
  t.diagnostic(`${all.length} functions take a struct sk_buff * in their first ${MAX_SKB_ARG} arguments; found in ${ms.toFixed(1)} ms`);
  assert.ok(all.length > 1000, `${all.length} skb functions`);

  const get = (n: string): SkbFunc => {
    const f = all.find((x) => x.name === n && x.module === undefined);
    assert.ok(f, n);
    return f;
  };
  assert.equal(get('ip_rcv').skbArg, 1);
  assert.equal(get('tcp_v4_rcv').skbArg, 1);
  assert.deepEqual(get('tcp_v4_rcv').params, ['struct sk_buff *']);
  assert.equal(get('__dev_queue_xmit').skbArg, 1);
  const o2 = get('ip_finish_output2');
  assert.equal(o2.skbArg, 3);
  assert.deepEqual(o2.params, ['struct net *', 'struct sock *', 'struct sk_buff *']);
  for (const f of all) assert.ok(f.skbArg >= 1 && f.skbArg <= MAX_SKB_ARG && f.skbArg <= f.nargs, f.name);

  const hasFunc = btfHasFunc(btf);
  const r = selectFunctions(all, { defaults: catalogue, all: false, traceable: null, hasFunc });
  t.diagnostic(`defaults: ${r.selected.length} of ${catalogue.length} resolve; skipped: ${r.skipped.map((s) => `${s.name} (${s.reason})`).join(', ')}`);
  assert.ok(r.selected.length >= catalogue.length * 0.7, `${r.selected.length} defaults resolve`);
  assert.ok(r.skipped.every((s) => s.reason.startsWith('not in') || s.reason === REASON_NO_SKB));
});

test('sockArg: the first struct sock * among the first five parameters, 1-based; 0 when none', () => {
  const cases: [string[], number][] = [
    [['struct sock *', 'struct sk_buff *'], 1],
    [['struct net *', 'const struct sock *', 'struct sk_buff *'], 2],
    [['struct sk_buff *'], 0],
    [['struct sock **', 'struct sk_buff *'], 0],
    [['int', 'int', 'int', 'int', 'int', 'struct sock *'], 0],
    [['struct socket *', 'struct sk_buff *'], 0],
  ];
  for (const [params, want] of cases) assert.equal(sockArg(params), want, params.join(', '));
});
