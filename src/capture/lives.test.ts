import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LifeTable } from './lives.js';
import type { CopyIn } from './lives.js';

const T0 = 1_700_000_000_000_000_000n;
const bytes = (n: number, fill: number): Uint8Array => new Uint8Array(n).fill(fill);
const copyIn = (b: Uint8Array, o: Partial<CopyIn> = {}): CopyIn => ({ bytes: b, len: b.length, protocol: 0x0800, summary: 'udp a -> b', ...o });
// places 1 and 2 at where 10 (one device), place 3 at where 11
const Q = { place: 1, where: 10 };
const X = { place: 2, where: 10 };
const RX = { place: 3, where: 11 };

test('a life: steps in order with their places, times, extras and the copies they took', () => {
  const t = new LifeTable({ maxLives: 4, maxSteps: 8, maxCopies: 4, snaplen: 64 });
  const a = t.open(0xa0n, T0);
  assert.equal(t.slot(0xa0n), a);
  assert.ok(t.add(a, { n: 1, tsNs: T0, ...Q, extra: null }, copyIn(bytes(100, 7))));
  assert.ok(t.add(a, { n: 2, tsNs: T0 + 1500n, ...RX, extra: { drop: 'X' } }, copyIn(bytes(40, 9), { protocol: 0x86dd })));
  assert.equal(t.passed(a, Q.place), true);
  assert.equal(t.passed(a, X.place), false);
  assert.equal(t.hasCopyAt(a, X.where), true, 'a copy at the device whatever the probe');
  assert.equal(t.hasCopyAt(a, 12), false);
  assert.equal(t.slot(0xb0n), -1, 'no such life');
  const life = t.close(0xa0n)!;
  assert.equal(life.t0, T0);
  assert.deepEqual(life.steps.map((s) => [s.n, s.dtNs, s.place, s.extra]), [
    [1, 0, 1, null],
    [2, 1500, 3, { drop: 'X' }],
  ]);
  const first = t.copy(life.steps[0]!.copy);
  assert.equal(first.bytes.length, 64, 'cut to snaplen');
  assert.equal(first.len, 100, 'the length on the wire stays');
  assert.ok(first.bytes.every((b) => b === 7));
  assert.deepEqual([t.copy(life.steps[1]!.copy).bytes.length, t.copy(life.steps[1]!.copy).protocol], [40, 0x86dd]);
  assert.equal(t.slot(0xa0n), -1);
  assert.equal(t.close(0xa0n), null);
});

test('bounded: slots, steps and copies run out, and freeing gives them back', () => {
  const t = new LifeTable({ maxLives: 2, maxSteps: 2, maxCopies: 2, snaplen: 64 });
  const one = t.open(1n, T0);
  t.add(one, { n: 1, tsNs: T0, ...Q, extra: null }, copyIn(bytes(10, 1)));
  assert.equal(t.add(one, { n: 2, tsNs: T0, ...X, extra: null }, null), true);
  assert.equal(t.add(one, { n: 3, tsNs: T0, ...X, extra: null }, null), false, 'maxSteps');
  const two = t.open(2n, T0);
  assert.equal(t.full(), true, 'no slot left');
  assert.equal(t.oldest(), 1n);
  assert.equal(t.oldest(1n), 2n, 'the oldest other than the one being added to');
  const life = t.close(1n)!;
  assert.equal(t.full(), false);
  t.add(two, { n: 4, tsNs: T0, ...Q, extra: null }, copyIn(bytes(10, 2)));
  assert.equal(t.canCopy(), false, "no copy left while the closed life's copy is being written");
  t.add(two, { n: 5, tsNs: T0, ...RX, extra: null }, copyIn(bytes(10, 3)));
  assert.equal(t.hasCopyAt(two, RX.where), false, 'a step with no copy left takes none');
  t.releaseCopy(life.steps[0]!.copy);
  assert.equal(t.canCopy(), true);
  assert.deepEqual(t.skbs(), [2n]);
});
