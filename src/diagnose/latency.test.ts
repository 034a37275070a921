import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Histogram } from './latency.js';

/** The q-quantile as the histogram defines it while exact: the sorted samples' floor(q * n)-th. */
function naive(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

test('exact quantiles at every size the exact store grows through (1..64 samples), asked between adds too', () => {
  for (const n of [1, 3, 4, 5, 8, 9, 16, 17, 32, 33, 63, 64]) {
    const h = new Histogram();
    const xs: number[] = [];
    for (let i = 0; i < n; i++) {
      const v = ((i * 7919) % 101) * 1000 + (i % 3 === 0 ? 3e9 : 0); // out of order, some past 2^31
      h.add(v);
      xs.push(v);
      if (i % 5 === 0) assert.equal(h.quantile(0.5), naive(xs, 0.5), `n=${n} after ${i + 1}`);
    }
    for (const q of [0, 0.5, 0.9, 0.99, 1]) assert.equal(h.quantile(q), naive(xs, q), `n=${n} q=${q}`);
    assert.equal(h.count, n);
    assert.equal(h.max, Math.max(...xs));
  }
});

test('past 64 samples the buckets answer, within a bucket of the truth, never above the max', () => {
  const h = new Histogram();
  const xs: number[] = [];
  for (let i = 1; i <= 500; i++) {
    h.add(i * 1000);
    xs.push(i * 1000);
  }
  const p50 = h.quantile(0.5);
  assert.ok(Math.abs(p50 - naive(xs, 0.5)) / naive(xs, 0.5) < 0.2, String(p50));
  assert.ok(h.quantile(1) <= 500_000);
  assert.equal(h.count, 500);
});

test('a negative sample counts as 0', () => {
  const h = new Histogram();
  h.add(-5);
  assert.equal(h.quantile(0.5), 0);
});

test('the max is the largest sample, wherever it came: among the exact ones, at the switch to buckets, or after', () => {
  const cases: [string, number][] = [['first', 0], ['last exact', 63], ['switch', 64], ['after', 200], ['none (all 0)', -1]];
  for (const [what, at] of cases) {
    const h = new Histogram();
    for (let i = 0; i < 300; i++) h.add(i === at ? 5e9 : at < 0 ? 0 : (i % 17) * 1000);
    assert.equal(h.max, at < 0 ? 0 : 5e9, what);
    if (at >= 0) assert.ok(h.quantile(1) <= 5e9, what);
  }
  const e = new Histogram();
  assert.equal(e.max, 0);
  e.add(-3);
  assert.equal(e.max, 0);
});
