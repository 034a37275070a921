import { test } from 'node:test';
import assert from 'node:assert/strict';
import { trimTracerFrames } from './stack.js';

const names = new Map<bigint, string>([
  [1n, '0xffffffffc0201234'],
  [2n, 'bpf_trace_run4+0xfc'],
  [3n, 'sk_skb_reason_drop+0x90'],
  [4n, 'tcp_v4_rcv+0x91'],
  [5n, '__bpf_trace_kfree_skb+0x10'],
]);
const name = (a: bigint): string => names.get(a) ?? `0x${a.toString(16)}`;

test('leading tracer frames are dropped, the rest kept in order', () => {
  assert.deepEqual(trimTracerFrames([1n, 2n, 5n, 3n, 4n], name), [3n, 4n]);
});

test('a stack without tracer frames is unchanged', () => {
  assert.deepEqual(trimTracerFrames([3n, 4n], name), [3n, 4n]);
});

test('machinery later in the stack is kept (only the leading run goes)', () => {
  assert.deepEqual(trimTracerFrames([2n, 3n, 2n, 4n], name), [3n, 2n, 4n]);
});

test('all-machinery stacks are kept whole rather than emptied', () => {
  assert.deepEqual(trimTracerFrames([1n, 2n], name), [1n, 2n]);
});
