import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CounterBook } from './counters.js';
import type { Counter, Snapshot } from '../stats/snapshot.js';
import { diffSnapshots } from '../stats/snapshot.js';
import { parseCounterCatalog } from '../stats/meaning.js';

const catalog = parseCounterCatalog({ counters: [{ group: 'snmp', names: ['UdpNoPorts'], level: 'drop', meaning: 'no port' }] });
const c = (netns: number, value: number): Counter => ({ netns, netnsLabel: `ns${netns}`, group: 'snmp', name: 'UdpNoPorts', value });
const snap = (atMs: number, ...counters: Counter[]): Snapshot => ({ atMs, counters });
const deltas = ([a, b]: [Snapshot, Snapshot]): string[] => diffSnapshots(a, b, catalog).map((m) => `${m.netnsLabel}+${m.delta}`);

test('a namespace read again after intervals without a read: its change since its last known value', () => {
  const book = new CounterBook(snap(0, c(1, 10), c(2, 100)));
  assert.deepEqual(deltas(book.interval(snap(1000, c(1, 12)), 0)), ['ns1+2']);
  assert.deepEqual(deltas(book.interval(snap(2000, c(1, 12), c(2, 107)), 1000)), ['ns2+7'], 'ns2 from the start\'s read');
  assert.deepEqual(deltas(book.total(3000)), ['ns2+7', 'ns1+2']);
});

test('a namespace made after the start counts from 0; a counter never seen in a namespace read at the start is left out', () => {
  const book = new CounterBook(snap(0, c(1, 10)));
  assert.deepEqual(deltas(book.interval(snap(1000, c(3, 5)), 0)), ['ns3+5']);
  assert.deepEqual(deltas(book.interval(snap(2000, c(3, 9), { ...c(1, 1), name: 'Udp6NoPorts' }), 1000)), ['ns3+4']);
  assert.deepEqual(deltas(book.total(3000)), ['ns3+9']);
});

test('a read between intervals (a scrape) counts for the total, not for the next interval\'s change', () => {
  const book = new CounterBook(snap(0, c(1, 10)));
  book.observe(snap(500, c(1, 14), c(5, 2)));
  assert.deepEqual(deltas(book.total(600)), ['ns1+4', 'ns5+2']);
  assert.deepEqual(deltas(book.interval(snap(1000, c(1, 15), c(5, 3)), 0)), ['ns1+5', 'ns5+3']);
  assert.deepEqual(deltas(book.total(1100)), ['ns1+5', 'ns5+3']);
});
