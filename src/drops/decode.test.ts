import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeEntries, decodeSample, sumPerCpu } from './decode.js';
import { key, sampleBytes, tableBytes } from '../../test/helpers/drops.js';

test('a whole-table read: each key with its counts summed over the CPUs', () => {
  const a = key();
  const b = key({ reason: 6, location: 0xffffffff81000200n, stackId: 7, l3proto: 0x86dd, l4proto: 6 });
  const { keys, values } = tableBytes(
    [
      { key: a, perCpu: [[3, 90], [4, 120]] },
      { key: b, perCpu: [[0, 0], [1000000, 60000000]] },
    ],
    2,
  );
  const e = decodeEntries(keys, values, 2, 2);
  assert.deepEqual(e, [
    { key: a, count: 7, bytes: 210 },
    { key: b, count: 1000000, bytes: 60000000 },
  ]);
  assert.deepEqual(decodeEntries(keys, values, 0, 2), [], 'no entries');
});

test('a sample record: its key, its flow and its device; a short record is refused', () => {
  const k = key({ ifindex: 9 });
  const bytes = sampleBytes(k, 40000, 9, 'pp3s');
  const s = decodeSample(new DataView(bytes.buffer), bytes, 0, bytes.length);
  assert.ok(s);
  assert.deepEqual(s.key, k);
  assert.equal(s.ifname, 'pp3s');
  assert.equal(s.len, 29);
  assert.deepEqual([s.tuple?.family, s.tuple?.sport, s.tuple?.dport, [...(s.tuple?.daddr ?? [])]], [4, 40000, 9, [10, 0, 0, 2]]);
  assert.equal(decodeSample(new DataView(bytes.buffer), bytes, 0, 40), null);
});

test('per-CPU u64 statistics are summed', () => {
  assert.equal(sumPerCpu(new BigUint64Array([1n, 2n, 40n]).buffer), 43);
  assert.equal(sumPerCpu(new ArrayBuffer(0)), 0);
});
