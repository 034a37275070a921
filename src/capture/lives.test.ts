import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LifeTable } from './lives.js';
import type { CopyIn } from './lives.js';

const T0 = 1_700_000_000_000_000_000n;
const bytes = (n: number, fill: number): Uint8Array => new Uint8Array(n).fill(fill);
const copyIn = (b: Uint8Array, o: Partial<CopyIn> = {}): CopyIn => ({ bytes: b, len: b.length, protocol: 0x0800, ifindex: 2, dir: 2, mac: null, summary: 'udp a -> b', ...o });

test('a life: steps in order with their places, times, extras and the copies they took', () => {
  const t = new LifeTable({ maxLives: 4, maxSteps: 8, maxCopies: 4, snaplen: 64 });
  const q = t.place('net_dev_queue', 'cli', 'veth0');
  const rx = t.place('netif_receive_skb', 'srv', 'veth1');
  assert.equal(t.place('net_dev_queue', 'cli', 'veth0'), q, 'interned: the same place is the same number');
  t.open(0xa0n, T0);
  assert.ok(t.add(0xa0n, { n: 1, tsNs: T0, place: q, extra: null }, copyIn(bytes(100, 7))));
  assert.ok(t.add(0xa0n, { n: 2, tsNs: T0 + 1500n, place: rx, extra: { drop: 'X' } }, copyIn(bytes(40, 9), { dir: 1 })));
  assert.equal(t.passed(0xa0n, q), true);
  assert.equal(t.passed(0xa0n, t.place('net_dev_xmit', 'cli', 'veth0')), false);
  assert.equal(t.hasCopyAt(0xa0n, t.place('net_dev_xmit', 'cli', 'veth0')), true, 'a copy at (cli, veth0) whatever the probe');
  assert.equal(t.hasCopyAt(0xa0n, t.place('net_dev_xmit', 'cli', 'veth9')), false);
  const life = t.close(0xa0n)!;
  assert.equal(life.t0, T0);
  assert.deepEqual(life.steps.map((s) => [s.n, s.dtNs, s.probe, s.netns, s.dev, s.extra]), [
    [1, 0, 'net_dev_queue', 'cli', 'veth0', null],
    [2, 1500, 'netif_receive_skb', 'srv', 'veth1', { drop: 'X' }],
  ]);
  const first = t.copy(life.steps[0]!.copy);
  assert.equal(first.bytes.length, 64, 'cut to snaplen');
  assert.equal(first.len, 100, 'the length on the wire stays');
  assert.ok(first.bytes.every((b) => b === 7));
  assert.deepEqual([t.copy(life.steps[1]!.copy).bytes.length, t.copy(life.steps[1]!.copy).dir], [40, 1]);
  assert.equal(t.has(0xa0n), false);
  assert.equal(t.close(0xa0n), null);
});

test('bounded: the table is full when its slots or its copies run out, and freeing gives them back', () => {
  const t = new LifeTable({ maxLives: 2, maxSteps: 2, maxCopies: 2, snaplen: 64 });
  const p = t.place('net_dev_queue', 'cli', 'veth0');
  t.open(1n, T0);
  t.add(1n, { n: 1, tsNs: T0, place: p, extra: null }, copyIn(bytes(10, 1)));
  assert.equal(t.add(1n, { n: 2, tsNs: T0, place: p, extra: null }, null), true);
  assert.equal(t.add(1n, { n: 3, tsNs: T0, place: p, extra: null }, null), false, 'maxSteps');
  t.open(2n, T0);
  assert.equal(t.full(), true, 'no slot left');
  assert.equal(t.oldest(), 1n);
  const life = t.close(1n)!;
  assert.equal(t.full(), false);
  t.add(2n, { n: 4, tsNs: T0, place: p, extra: null }, copyIn(bytes(10, 2)));
  assert.equal(t.full(), true, 'no copy left while the closed life\'s copy is being written');
  t.releaseCopy(life.steps[0]!.copy);
  assert.equal(t.full(), false);
  assert.deepEqual([...t.skbs()], [2n]);
});
