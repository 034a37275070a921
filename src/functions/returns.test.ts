import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseBtf } from '../kernel/btf.js';
import { errnoTable } from '../kernel/errno.js';
import { returnSpec, returnValue } from './returns.js';
import type { RetConvention, ReturnSpec } from './returns.js';
import { BtfWriter } from '../../test/helpers/btf-encoder.js';

/** A small kernel-like BTF: the return types of real network functions. */
function kernelLike() {
  const w = new BtfWriter();
  const int = w.int('int', 4, 32, 1);
  const uint = w.int('unsigned int', 4, 32);
  const bool = w.int('_Bool', 1, 8, 4);
  const boolT = w.ref('typedef', bool, 'bool');
  const skb = w.composite('struct', 'sk_buff', 8, []);
  const skbPtr = w.ref('ptr', skb);
  const reason = w.enum('skb_drop_reason', 4, [
    ['SKB_NOT_DROPPED_YET', 0],
    ['SKB_CONSUMED', 1],
    ['SKB_DROP_REASON_NOT_SPECIFIED', 2],
    ['SKB_DROP_REASON_NO_SOCKET', 3],
    ['SKB_DROP_REASON_MAX', 4],
  ]);
  const gro = w.enum('gro_result', 4, [['GRO_MERGED', 0], ['GRO_MERGED_FREE', 1], ['GRO_HELD', 2], ['GRO_NORMAL', 3], ['GRO_CONSUMED', 4]]);
  const groT = w.ref('typedef', gro, 'gro_result_t');
  const constInt = w.ref('const', int);
  const btf = parseBtf(w.build());
  return { btf, ids: { int, uint, bool, boolT, skbPtr, reason, groT, constInt } };
}

const errno = errnoTable({ EPERM: 1, ENOENT: 2, EAGAIN: 11, EWOULDBLOCK: 11, ENOMEM: 12, EINVAL: 22, EHOSTUNREACH: 113 });
const name = (n: number): string | undefined => errno.get(n);
const neg = (n: number): bigint => BigInt.asUintN(64, BigInt(n));

test('returnSpec: the BTF return type decides the kind; void has none', () => {
  const { btf, ids } = kernelLike();
  const cases: [string, number, RetConvention | undefined, Partial<ReturnSpec> | null][] = [
    ['void', 0, undefined, null],
    ['int', ids.int, undefined, { kind: 'int', bits: 32, type: 'int' }],
    ['const int', ids.constInt, undefined, { kind: 'int', bits: 32 }],
    ['unsigned int', ids.uint, undefined, { kind: 'uint', bits: 32 }],
    ['unsigned int verdict', ids.uint, 'verdict', { kind: 'uint', convention: 'verdict' }],
    ['_Bool', ids.bool, undefined, { kind: 'bool', bits: 8 }],
    ['bool typedef', ids.boolT, undefined, { kind: 'bool', type: 'bool' }],
    ['struct sk_buff *', ids.skbPtr, undefined, { kind: 'ptr', bits: 64, type: 'struct sk_buff *' }],
    ['enum skb_drop_reason', ids.reason, undefined, { kind: 'enum', bits: 32, type: 'enum skb_drop_reason' }],
    ['gro_result_t', ids.groT, undefined, { kind: 'enum', type: 'gro_result_t' }],
  ];
  for (const [what, id, conv, want] of cases) {
    const got = returnSpec(btf, id, conv);
    if (want === null) assert.equal(got, null, what);
    else for (const [k, v] of Object.entries(want)) assert.deepEqual(got?.[k as keyof ReturnSpec], v, `${what}: ${k}`);
  }
});

test('returnValue: NULL, booleans, errno names, verdicts, drop reasons, enumerators, plain numbers', () => {
  const { btf, ids } = kernelLike();
  const spec = (id: number, conv?: RetConvention): ReturnSpec => returnSpec(btf, id, conv)!;
  const cases: [string, ReturnSpec, bigint, number | string, string | null][] = [
    ['NULL pointer', spec(ids.skbPtr), 0n, '0x0', 'NULL'],
    ['a pointer keeps its 64 bits', spec(ids.skbPtr), 0xffff888004bd76e8n, '0xffff888004bd76e8', null],
    ['ERR_PTR', spec(ids.skbPtr), neg(-12), '0xfffffffffffffff4', 'ERR_PTR(-ENOMEM)'],
    ['bool false', spec(ids.boolT), 0n, 0, 'false'],
    ['bool true (upper bits are not the function\'s)', spec(ids.bool), 0xdead0001n, 1, 'true'],
    ['-EPERM', spec(ids.int), neg(-1), -1, '-EPERM'],
    ['-EAGAIN, not its alias', spec(ids.int), neg(-11), -11, '-EAGAIN'],
    ['int from a 32-bit register write', spec(ids.int), 0xffffffffn, -1, '-EPERM'],
    ['0 is no errno', spec(ids.int), 0n, 0, null],
    ['positive int', spec(ids.int), 1n, 1, null],
    ['beyond errno range', spec(ids.int), neg(-5000), -5000, null],
    ['unsigned stays plain', spec(ids.uint), 69309672n, 69309672, null],
    ['NF_ACCEPT', spec(ids.uint, 'verdict'), 1n, 1, 'NF_ACCEPT'],
    ['NF_DROP', spec(ids.uint, 'verdict'), 0n, 0, 'NF_DROP'],
    ['NF_DROP_REASON (stolen with an errno) is a drop', spec(ids.uint, 'verdict'), 0x10002n, 65538, 'NF_DROP'],
    ['NET_RX_DROP', spec(ids.int, 'net_rx'), 1n, 1, 'NET_RX_DROP'],
    ['NET_XMIT_CN', spec(ids.int, 'net_xmit'), 2n, 2, 'NET_XMIT_CN'],
    ['net_xmit errno', spec(ids.int, 'net_xmit'), neg(-113), -113, '-EHOSTUNREACH'],
    ['TC_ACT_SHOT', spec(ids.int, 'tc_act'), 2n, 2, 'TC_ACT_SHOT'],
    ['TC_ACT_UNSPEC is no -EPERM', spec(ids.int, 'tc_act'), neg(-1), -1, 'TC_ACT_UNSPEC'],
    ['drop reason named like drops are', spec(ids.reason), 3n, 3, 'NO_SOCKET'],
    ['not dropped yet', spec(ids.reason), 0n, 0, 'NOT_DROPPED_YET'],
    ['enumerator', spec(ids.groT), 3n, 3, 'GRO_NORMAL'],
    ['unknown enumerator', spec(ids.groT), 9n, 9, null],
  ];
  for (const [what, s, raw, value, want] of cases) {
    const { failed: _failed, ...got } = returnValue(s, raw, name);
    assert.deepEqual(got, { value, name: want }, what);
  }
});

test('errnoTable: the usual name of a shared number, and the kernel-internal ones', () => {
  const t = errnoTable({ EWOULDBLOCK: 11, EAGAIN: 11, ENOTSUP: 95, EOPNOTSUPP: 95, EDEADLK: 35, EDEADLOCK: 35 });
  assert.equal(t.get(11), 'EAGAIN');
  assert.equal(t.get(95), 'EOPNOTSUPP');
  assert.equal(t.get(35), 'EDEADLK');
  assert.equal(t.get(524), 'ENOTSUPP');
  assert.equal(t.get(512), 'ERESTARTSYS');
});

test('returnValue: failed marks the values that say the packet went no further', () => {
  const { btf, ids } = kernelLike();
  const spec = (id: number, conv?: RetConvention): ReturnSpec => returnSpec(btf, id, conv)!;
  const cases: [string, ReturnSpec, bigint, boolean][] = [
    ['-EPERM', spec(ids.int), neg(-1), true],
    ['0', spec(ids.int), 0n, false],
    ['NULL', spec(ids.skbPtr), 0n, true],
    ['a pointer', spec(ids.skbPtr), 0xffff888004bd76e8n, false],
    ['ERR_PTR', spec(ids.skbPtr), neg(-12), true],
    ['NF_DROP', spec(ids.uint, 'verdict'), 0n, true],
    ['NF_ACCEPT', spec(ids.uint, 'verdict'), 1n, false],
    ['NET_RX_DROP', spec(ids.int, 'net_rx'), 1n, true],
    ['NET_XMIT_SUCCESS', spec(ids.int, 'net_xmit'), 0n, false],
    ['TC_ACT_SHOT', spec(ids.int, 'tc_act'), 2n, true],
    ['a drop reason', spec(ids.reason), 3n, true],
    ['not dropped yet', spec(ids.reason), 0n, false],
    ['consumed', spec(ids.reason), 1n, false],
    ['a bool says nothing', spec(ids.boolT), 0n, false],
    ['an enumerator says nothing', spec(ids.groT), 2n, false],
  ];
  for (const [what, s, raw, failed] of cases) assert.equal(returnValue(s, raw, name).failed === true, failed, what);
});
