import { test } from 'node:test';
import assert from 'node:assert/strict';
import { trimTracerFrames } from './stack.js';

const names = new Map<bigint, string>([
  [1n, '0xffffffffc0201234'],
  [2n, 'bpf_trace_run4+0xfc'],
  [3n, 'sk_skb_reason_drop+0x90'],
  [4n, 'tcp_v4_rcv+0x91'],
  [5n, '__bpf_trace_kfree_skb+0x10'],
  // an fentry stack under a function with fexit (6.12 guest, ip_local_out traced)
  [10n, 'ip_local_out+0x9'],
  [11n, '__ip_queue_xmit+0x18f'],
  [12n, '0xffffffffc004a654'],
  [13n, '__ip_queue_xmit+0x9'],
  [14n, '__tcp_transmit_skb+0xb09'],
  [15n, 'bpf_trampoline_6442496542+0x6a [bpf]'],
  [16n, 'arch_rethook_trampoline+0x0'],
  [17n, 'bpf_prog_6deef7357e7b4530_fentry_skb_1+0x1a3 [bpf]'],
]);
const name = (a: bigint): string => names.get(a) ?? `0x${a.toString(16)}`;

test('leading tracer frames are dropped, the rest kept in order', () => {
  assert.deepEqual(trimTracerFrames([1n, 2n, 5n, 3n, 4n], name), [3n, 4n]);
});

test('a stack without tracer frames is unchanged', () => {
  assert.deepEqual(trimTracerFrames([3n, 4n], name), [3n, 4n]);
});

test('tracepoint machinery later in the stack is kept (only the leading run goes)', () => {
  assert.deepEqual(trimTracerFrames([2n, 3n, 2n, 4n], name), [3n, 2n, 4n]);
});

test('all-machinery stacks are kept whole rather than emptied', () => {
  assert.deepEqual(trimTracerFrames([1n, 2n], name), [1n, 2n]);
});

test('trampolines below the first frame go: an unnamed one with the patched entry it returns to, named ones alone', () => {
  const cases: [string, bigint[], bigint[]][] = [
    ['unnamed fexit trampoline and __ip_queue_xmit+0x9', [17n, 10n, 11n, 12n, 13n, 14n], [10n, 11n, 14n]],
    ['named trampoline and the patched entry', [10n, 11n, 15n, 13n, 14n], [10n, 11n, 14n]],
    ['rethook trampoline', [10n, 11n, 16n, 14n], [10n, 11n, 14n]],
    ['an unnamed frame not followed by an entry site stays', [10n, 11n, 12n, 14n], [10n, 11n, 12n, 14n]],
    ['our BPF program deeper down', [10n, 17n, 11n], [10n, 11n]],
  ];
  for (const [what, stack, want] of cases) assert.deepEqual(trimTracerFrames(stack, name), want, what);
});
