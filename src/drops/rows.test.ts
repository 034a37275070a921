import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeSample } from './decode.js';
import type { DropEntry, DropKey } from './decode.js';
import { DropTable } from './rows.js';
import { fakeNamer, key, sampleBytes } from '../../test/helpers/drops.js';

const entry = (k: DropKey, count: number): DropEntry => ({ key: k, count, bytes: count * 30 });
const sample = (k: DropKey, sport: number, ifname?: string) => {
  const b = sampleBytes(k, sport, 9, ifname);
  return decodeSample(new DataView(b.buffer), b, 0, b.length)!;
};

test('two call sites in one function are one row; intervals give the change, the total gives the totals', () => {
  const t = new DropTable(fakeNamer, { all: false, reasonsKnown: true });
  const site1 = key({ location: 0xffffffff81000010n });
  const site2 = key({ location: 0xffffffff81000020n });
  t.update([entry(site1, 3), entry(site2, 2)]);
  const first = t.snapshot(1, 'interval');
  assert.equal(first.length, 1);
  assert.deepEqual(
    [first[0]!.reason, first[0]!.location, first[0]!.netnsLabel, first[0]!.device, first[0]!.proto, first[0]!.total, first[0]!.delta, first[0]!.bytes],
    ['NO_SOCKET', '__udp4_lib_rcv', 'blue', 'veth0', 'udp', 5, 5, 150],
  );
  t.update([entry(site1, 10), entry(site2, 2)]);
  const second = t.snapshot(2, 'interval')[0]!;
  assert.deepEqual([second.delta, second.total, second.rate], [7, 12, 3.5]);
  assert.deepEqual([t.snapshot(4, 'total')[0]!.delta, t.snapshot(4, 'interval')[0]!.delta], [12, 0], 'a total does not start a new interval');
});

test('rows differ by reason, namespace, device and protocol, and come biggest change first', () => {
  const t = new DropTable(fakeNamer, { all: false, reasonsKnown: true });
  t.update([
    entry(key(), 1),
    entry(key({ reason: 6, location: 0xffffffff81000200n }), 50),
    entry(key({ netns: 99 }), 4),
    entry(key({ ifindex: 8 }), 2),
    entry(key({ l3proto: 0x86dd }), 3),
  ]);
  const rows = t.snapshot(1, 'interval');
  assert.deepEqual(
    rows.map((r) => `${r.reason} ${r.netnsLabel} ${r.device} ${r.proto} ${r.delta}`),
    ['NETFILTER_DROP blue veth0 udp 50', 'NO_SOCKET 99 if3 udp 4', 'NO_SOCKET blue veth0 udp6 3', 'NO_SOCKET blue if8 udp 2', 'NO_SOCKET blue veth0 udp 1'],
  );
  assert.match(rows[0]!.meaning, /netfilter rule/);
  assert.deepEqual(t.netnsWithDrops().sort((a, b) => a - b), [99, 4026532000], 'the namespaces whose counters are read');
});

test('samples: each row keeps its two latest distinct flows; a device nobody names takes the sample\'s name', () => {
  const t = new DropTable(fakeNamer, { all: false, reasonsKnown: true });
  const k = key({ ifindex: 12 });
  t.update([entry(k, 4)]);
  t.addSamples([sample(k, 1000, 'pp9s'), sample(k, 2000, 'pp9s'), sample(k, 1000, 'pp9s'), sample(k, 3000, 'pp9s')]);
  const r = t.snapshot(1, 'interval')[0]!;
  assert.deepEqual(r.samples, ['U:10.0.0.1:3000->10.0.0.2:9', 'U:10.0.0.1:1000->10.0.0.2:9']);
  assert.equal(r.device, 'pp9s');
  assert.match(r.meaning, /^no socket is bound to the destination address and port/);
});

test('NOT_SPECIFIED is hidden unless --all, and never on a kernel without reasons', () => {
  const rows = (all: boolean, reasonsKnown: boolean): boolean => {
    const t = new DropTable(fakeNamer, { all, reasonsKnown });
    t.update([entry(key({ reason: 1 }), 5)]);
    return t.snapshot(1, 'interval')[0]!.hidden;
  };
  assert.deepEqual([rows(false, true), rows(true, true), rows(false, false)], [true, false, false]);
});

test('--stack: a row\'s top stacks with their counts, told apart by their frames; a stack the kernel could not record has none', () => {
  const namer = { ...fakeNamer, stack: (id: number) => (id === 7 || id === 8 ? ['nf_hook_slow+0x4f', 'ip_local_deliver+0x3a'] : id === 9 ? ['tcp_v4_rcv+0x1'] : undefined) };
  const t = new DropTable(namer, { all: false, reasonsKnown: true });
  t.update([entry(key({ stackId: 7 }), 9), entry(key({ stackId: 8 }), 1), entry(key({ stackId: -14 }), 2), entry(key({ stackId: 9 }), 3)]);
  const r = t.snapshot(1, 'interval')[0]!;
  assert.equal(r.total, 15);
  assert.deepEqual(r.stacks, [
    { count: 10, frames: ['nf_hook_slow+0x4f', 'ip_local_deliver+0x3a'] },
    { count: 3, frames: ['tcp_v4_rcv+0x1'] },
    { count: 2, frames: [] },
  ]);
});

test('a key the kernel evicted (LRU) keeps its counts in its row; one that came back counts from 0', () => {
  const t = new DropTable(fakeNamer, { all: false, reasonsKnown: true });
  const a = key();
  const b = key({ location: 0xffffffff81000020n });
  t.update([entry(a, 5), entry(b, 3)]);
  assert.equal(t.snapshot(1, 'interval')[0]!.total, 8);
  t.update([entry(b, 4)]);
  assert.deepEqual([t.snapshot(1, 'interval')[0]!.total, t.snapshot(1, 'total')[0]!.total], [9, 9], 'a gone: its 5 stay');
  t.update([entry(a, 2), entry(b, 4)]);
  assert.equal(t.snapshot(1, 'interval')[0]!.delta, 2, 'a back from 0');
  t.update([entry(a, 1), entry(b, 4)]);
  assert.equal(t.snapshot(1, 'total')[0]!.total, 12, 'a evicted and back between two reads: the 1 counted since');
});
