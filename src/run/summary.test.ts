import { test } from 'node:test';
import assert from 'node:assert/strict';
import { summaryLine, summaryText } from './summary.js';
import type { RunCounts } from './summary.js';
import type { Finding } from '../diagnose/explain.js';

const base: RunCounts = { events: 12, lost: 0, backpressure: 0, malformed: 0, drops: new Map() };

test('summaryLine', () => {
  const cases: [string, Partial<RunCounts>, string][] = [
    ['quiet run', {}, 'pktpath: 12 events, 0 lost; no drops'],
    ['drops in the order seen', { drops: new Map([['NO_SOCKET', 2], ['NETFILTER_DROP', 1]]) }, 'pktpath: 12 events, 0 lost; drops: NO_SOCKET 2, NETFILTER_DROP 1'],
    ['ring full', { lost: 7 }, 'pktpath: 12 events, 7 lost; no drops'],
    ['slow output', { lost: 3, backpressure: 4000 }, 'pktpath: 12 events, 3 lost, 4000 dropped for back-pressure (output too slow); no drops'],
    ['stdout closed', { backpressure: 9, outputClosed: true }, 'pktpath: 12 events, 0 lost, 9 dropped for back-pressure (stdout closed); no drops'],
    ['malformed records', { malformed: 2, firstMalformed: 'RangeError: short' }, 'pktpath: 12 events, 0 lost, 2 malformed records skipped (RangeError: short); no drops'],
  ];
  for (const [what, c, want] of cases) assert.equal(summaryLine({ ...base, ...c }), want, what);
});

test('summaryText: the line, then one why: line per finding', () => {
  const f = { text: 'dropped NO_SOCKET (1 time): ...' } as Finding;
  assert.equal(summaryText(base, [f]), 'pktpath: 12 events, 0 lost; no drops\npktpath: why: dropped NO_SOCKET (1 time): ...\n');
});
