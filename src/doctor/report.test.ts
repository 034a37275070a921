import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backendRow, closingRows, flavourRow, floorRows, formatDoctor, ftraceRow, iptableMethodRow, row, tracepointRows } from './report.js';
import type { KernelFloor } from '../kernel/features.js';

test('attempt rows: ok with what was done, no with the reason', () => {
  const cases: [ReturnType<typeof row>, ReturnType<typeof row>][] = [
    [flavourRow('tp_btf', { ok: true, value: 'tp_btf' }), row('tracepoints via tp_btf', 'ok', 'loaded and attached netif_receive_skb')],
    [flavourRow('tp_btf', { ok: true, value: 'raw_tp' }), row('tracepoints via tp_btf', 'no', 'the kernel took raw_tp instead')],
    [flavourRow('raw_tp', { ok: false, error: 'load: EPERM' }), row('tracepoints via raw_tp', 'no', 'load: EPERM')],
    [backendRow('kprobe', { ok: true, value: 12 }), row('backend kprobe', 'ok', 'attached to ip_rcv and detached (12 ms)')],
    [backendRow('fentry', { ok: false, error: 'backend fentry (load): refused; see pktpath doctor' }), row('backend fentry', 'no', 'fentry (load): refused')],
    [backendRow('fentry', null), row('backend fentry', 'no', 'ip_rcv not in BTF: cannot test')],
    [ftraceRow('1'), row('ftrace', 'info', 'kernel.ftrace_enabled=1')],
    [ftraceRow('0'), row('ftrace', 'no', 'kernel.ftrace_enabled=0: fentry/fexit and kprobes on ftrace cannot attach')],
  ];
  for (const [got, want] of cases) assert.deepEqual(got, want);
});

test('tracepointRows: a count, then one warning per missing tracepoint', () => {
  assert.deepEqual(tracepointRows(['a', 'b'], ['c']), [row('tracepoints', 'ok', '2/3 present'), row('  c', 'warn', 'not in this kernel: skipped')]);
  assert.equal(tracepointRows([], ['c'])[0]!.verdict, 'no');
});

test('floorRows: ok when the proof is there, no for a required floor, warn for an optional one, info when it cannot be told', () => {
  const floors: KernelFloor[] = [
    { feature: 'ringbuf', what: 'BPF ring buffer', since: '5.8', proof: { kind: 'symbol', name: 'ringbuf' }, usedFor: 'every trace', required: true },
    { feature: 'kprobes', what: 'kprobes', proof: { kind: 'symbol', name: 'register_kprobe' }, usedFor: 'backend kprobe' },
    { feature: 'func_ret', what: 'bpf_get_func_ret', since: '5.17', proof: { kind: 'enum', enum: 'bpf_func_id', value: 'BPF_FUNC_get_func_ret' }, usedFor: 'return values' },
  ];
  const none = { btf: null, hasSymbol: () => false };
  assert.deepEqual(floorRows(none, floors), [
    row('floor ringbuf', 'no', 'missing: Linux 5.8+ BPF ring buffer: symbol ringbuf; for every trace'),
    row('floor kprobes', 'warn', 'missing: kprobes: symbol register_kprobe; for backend kprobe'),
    row('floor func_ret', 'info', 'Linux 5.17+ bpf_get_func_ret: BPF_FUNC_get_func_ret in enum bpf_func_id; for return values (cannot tell here)'),
  ]);
  assert.equal(floorRows({ btf: null, hasSymbol: () => true }, floors)[0]!.verdict, 'ok');
  assert.equal(floorRows(null).length, floorRows(none).length, 'every floor of the table, even without BTF');
});

test('iptableMethodRow and closingRows: the method and the summary follow the rows before', () => {
  assert.match(iptableMethodRow('nftables v1.0.6', true, true).detail, /BPF netfilter observers/);
  assert.match(iptableMethodRow('nftables v1.0.6', true, false).detail, /drops only/);
  assert.match(iptableMethodRow('nftables v1.0.6', false, true).detail, /iptables-legacy-save missing/);
  assert.equal(iptableMethodRow(null, true, true).verdict, 'no');
  const rows = [row('backend fentry', 'no', 'x'), row('backend kprobe', 'ok', 'y')];
  assert.deepEqual(closingRows(rows, true), [
    row('ring buffer', 'ok', 'BPF_MAP_TYPE_RINGBUF, read in place (mmap)'),
    row('summary', 'ok', 'pktpath trace works here: tracepoints, kernel functions via kprobe'),
  ]);
  assert.deepEqual(closingRows([], false).map((r) => r.verdict), ['info', 'no']);
});

test('formatDoctor: aligned columns, one row per line', () => {
  assert.equal(formatDoctor([row('kernel', 'info', '6.18'), row('BTF (vmlinux)', 'ok', '/sys/kernel/btf/vmlinux')]), 'kernel         info  6.18\nBTF (vmlinux)  ok    /sys/kernel/btf/vmlinux');
});
