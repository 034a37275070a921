import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LifeTable } from './lives.js';
import type { CopyIn } from './lives.js';

const T0 = 1_700_000_000_000_000_000n;
const bytes = (n: number, fill: number): Uint8Array => new Uint8Array(n).fill(fill);
const copyIn = (b: Uint8Array, o: Partial<CopyIn> = {}): CopyIn => ({ bytes: b, len: b.length, protocol: 0x0800, summary: 'udp a -> b', ...o });
// places 1 and 2 at where 10 (one device), place 3 at where 11
const Q = [1, 10] as const;
const X = [2, 10] as const;
const RX = [3, 11] as const;

test('a life: steps in order with their places, times, extras and the copies they took', () => {
  const t = new LifeTable({ maxLives: 4, maxSteps: 8, maxCopies: 4, snaplen: 64 });
  const a = t.open(0xa0n, T0);
  assert.equal(t.slot(0xa0n), a);
  assert.ok(t.add(a, 1, T0, ...Q, null, copyIn(bytes(100, 7))));
  assert.ok(t.add(a, 2, T0 + 1500n, ...RX, { drop: 'X' }, copyIn(bytes(40, 9), { protocol: 0x86dd })));
  assert.equal(t.passed(a, Q[0]), true);
  assert.equal(t.passed(a, X[0]), false);
  assert.equal(t.hasCopyAt(a, X[1]), true, 'a copy at the device whatever the probe');
  assert.equal(t.hasCopyAt(a, 12), false);
  assert.equal(t.slot(0xb0n), -1, 'no such life');
  assert.equal(t.close(0xa0n), a);
  assert.equal(t.start(a), T0);
  const steps = Array.from({ length: t.steps(a) }, (_, i) => [t.stepN(a, i), t.stepDt(a, i), t.stepPlace(a, i), t.stepExtra(a, i)]);
  assert.deepEqual(steps, [
    [1, 0, 1, null],
    [2, 1500, 3, { drop: 'X' }],
  ]);
  const first = t.copy(t.stepCopy(a, 0));
  assert.equal(first.bytes.length, 64, 'cut to snaplen');
  assert.equal(first.len, 100, 'the length on the wire stays');
  assert.ok(first.bytes.every((b) => b === 7));
  assert.deepEqual([t.copy(t.stepCopy(a, 1)).bytes.length, t.copy(t.stepCopy(a, 1)).protocol], [40, 0x86dd]);
  assert.equal(t.slot(0xa0n), -1);
  assert.equal(t.close(0xa0n), -1);
  t.release(a);
  const again = t.open(0xc0n, T0);
  assert.equal(again, a, 'the slot comes back');
  assert.deepEqual([t.steps(again), t.stepExtra(again, 1)], [0, null], 'empty, its extras gone');
});

test('bounded: slots, steps and copies run out, and freeing gives them back', () => {
  const t = new LifeTable({ maxLives: 2, maxSteps: 2, maxCopies: 2, snaplen: 64 });
  const one = t.open(1n, T0);
  t.add(one, 1, T0, ...Q, null, copyIn(bytes(10, 1)));
  assert.equal(t.add(one, 2, T0, ...X, null, null), true);
  assert.equal(t.add(one, 3, T0, ...X, null, null), false, 'maxSteps');
  const two = t.open(2n, T0);
  assert.equal(t.full(), true, 'no slot left');
  assert.equal(t.oldest(), 1n);
  assert.equal(t.oldest(1n), 2n, 'the oldest other than the one being added to');
  t.close(1n);
  assert.equal(t.full(), true, 'a closed life holds its slot until released');
  t.release(one);
  assert.equal(t.full(), false);
  t.add(two, 4, T0, ...Q, null, copyIn(bytes(10, 2)));
  assert.equal(t.canCopy(), false, "no copy left while the closed life's copy is being written");
  t.add(two, 5, T0, ...RX, null, copyIn(bytes(10, 3)));
  assert.equal(t.hasCopyAt(two, RX[1]), false, 'a step with no copy left takes none');
  t.releaseCopy(t.stepCopy(one, 0));
  assert.equal(t.canCopy(), true);
  assert.deepEqual(t.skbs(), [2n]);
});

test('step times: exact from a monotonic clock of minutes (numbers) and of years (bigints)', () => {
  for (const t0 of [5_000_000_000_123n, 2n ** 60n + 7n]) {
    const t = new LifeTable({ maxLives: 1, maxSteps: 3, maxCopies: 1, snaplen: 64 });
    const s = t.open(1n, t0);
    for (const [i, dt] of [0n, 1n, 123_456_789n].entries()) t.add(s, i, t0 + dt, ...Q, null, null);
    assert.deepEqual([0, 1, 2].map((i) => t.stepDt(s, i)), [0, 1, 123_456_789], `t0 ${t0}`);
  }
});
