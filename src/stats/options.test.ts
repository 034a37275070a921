import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDurationMs, parseStatsOptions } from './options.js';
import type { RawStatsOptions } from './options.js';
import { UsageError } from '../shared/errors.js';

test('times: units and bare seconds', () => {
  const table: [string, number | null][] = [['500ms', 500], ['1s', 1000], ['1.5s', 1500], ['2m', 120_000], ['1h', 3_600_000], ['3', 3000], ['1 s', 1000], ['', null], ['-1s', null], ['1d', null], ['s', null], ['1e3', null]];
  for (const [text, ms] of table) assert.equal(parseDurationMs(text), ms, text);
});

test('bad input: one line naming the option', () => {
  const table: [RawStatsOptions, RegExp][] = [
    [{ interval: 'fast' }, /^invalid --interval "fast": expected a time from 100 ms to 24 h/],
    [{ interval: '10ms' }, /--interval "10ms"/],
    [{ interval: '48h' }, /--interval "48h"/],
    [{ duration: 'soon' }, /^invalid --duration "soon"/],
    [{ count: '0' }, /^invalid --count "0": expected a whole number/],
    [{ count: '2.5' }, /--count "2.5"/],
    [{ count: '2', duration: '5s' }, /exclusive/],
    [{ netns: '' }, /--netns ""/],
  ];
  for (const [raw, msg] of table) assert.throws(() => parseStatsOptions(raw), (e: unknown) => e instanceof UsageError && msg.test(e.message), JSON.stringify(raw));
});

test('--duration becomes a number of intervals', () => {
  assert.deepEqual(parseStatsOptions({}), { intervalMs: 1000, all: false, json: false });
  assert.equal(parseStatsOptions({ duration: '10s' }).count, 10);
  assert.equal(parseStatsOptions({ duration: '3s', interval: '2s' }).count, 2);
  assert.equal(parseStatsOptions({ duration: '200ms', interval: '1s' }).count, 1);
  assert.equal(parseStatsOptions({ count: '4', all: true }).count, 4);
});
