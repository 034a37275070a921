import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Btf } from '../kernel/btf.js';
import { chooseFlavours, EXPECTED_ARG, tracepointProgram } from './flavours.js';

test('chooseFlavours: tp_btf when BTF describes the tracepoint, raw_tp by symbol, else skipped', () => {
  const btf = { tracepointArgs: (n: string) => (n === 'a' ? ['struct sk_buff *'] : null) } as unknown as Btf;
  const has = (s: string): boolean => s === '__tracepoint_b';
  assert.deepEqual(chooseFlavours(['a', 'b', 'c'], btf, has, false), [
    { probe: 'a', flavour: 'tp_btf' },
    { probe: 'b', flavour: 'raw_tp' },
    { probe: 'c', reason: 'tracepoint not in this kernel' },
  ]);
  assert.deepEqual(chooseFlavours(['a'], btf, has, true), [{ probe: 'a', flavour: 'raw_tp' }]);
});

test('chooseFlavours: a tracepoint with an argument type the BPF side cannot read is skipped with the reason', () => {
  const sig: Record<string, string[]> = {
    fib6_table_lookup: ['const struct net *', 'const struct fib6_result *', 'struct fib6_table *', 'const struct flowi6 *'],
  };
  const btf = { tracepointArgs: (n: string) => sig[n] ?? null } as unknown as Btf;
  assert.deepEqual(chooseFlavours(['fib6_table_lookup'], btf, () => false, false), [{ probe: 'fib6_table_lookup', flavour: 'tp_btf' }]);
  sig.fib6_table_lookup = ['const struct net *', 'const struct fib6_info *', 'struct fib6_table *', 'const struct flowi6 *'];
  const [c] = chooseFlavours(['fib6_table_lookup'], btf, () => true, false);
  assert.equal(c?.flavour, undefined);
  assert.match(c?.reason ?? '', /passes const struct fib6_info \* where pktpath reads a struct fib6_result \*/);
});

test('the argument checks come from the kernel floors table', () => {
  assert.deepEqual(EXPECTED_ARG.fib6_table_lookup, { index: 1, type: 'struct fib6_result *', what: 'a struct fib6_result * (Linux 5.2+)' });
});

test('tracepointProgram: the program of bpf/pktpath.bpf.c for each flavour', () => {
  assert.equal(tracepointProgram('kfree_skb', 'tp_btf'), 'tpbtf_kfree_skb');
  assert.equal(tracepointProgram('kfree_skb', 'raw_tp'), 'rawtp_kfree_skb');
});
