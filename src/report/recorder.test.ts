/** The recorder's bounds: the first lines in full, then only drops, ICMP errors and resets; every event counted and timed. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReportRecorder } from './recorder.js';

test('keeps the first maxEvents lines, then only notable ones up to maxNotable, and counts all', () => {
  const rec = new ReportRecorder({ maxEvents: 3, maxNotable: 2 });
  let asked = 0;
  const kinds = ['receive', 'transmit', 'receive', 'receive', 'drop', 'transmit', 'icmp', 'drop'] as const;
  kinds.forEach((kind, i) => rec.push({ skb: 1n, tsNs: i * 1000, kind }, () => (asked++, `line ${i + 1}`)));
  const r = rec.recorded();
  assert.equal(r.total, 8);
  assert.deepEqual(r.lines.map((l) => l.n), [1, 2, 3, 5, 7]);
  assert.equal(r.notable, 2);
  assert.equal(asked, 5, 'a line is formatted only when it is kept');
  // every event is timed: #1-#5 (4 spans, the drop ends the life), #6-#8 (2 spans)
  const rows = r.latency.rows();
  assert.equal(rows.reduce((a, x) => a + x.count, 0), 4 + 2);
});

test('a qdisc time is its measured wait, not the skb gap', () => {
  const rec = new ReportRecorder();
  rec.push({ skb: 1n, tsNs: 0, kind: 'qdisc' }, () => '');
  rec.push({ skb: 2n, tsNs: 500e6, kind: 'qdisc', waitNs: 400e6 }, () => '');
  const q = rec.recorded().latency.rows().find((x) => x.stage === 'qdisc')!;
  assert.equal(q.count, 1);
  assert.equal(q.maxNs, 400e6);
});

test('events keep the number the run gives them (the diagnosis names the same); the count is of events pushed', () => {
  const rec = new ReportRecorder();
  rec.push({ skb: 1n, tsNs: 0, kind: 'receive' }, () => 'a', 3);
  rec.push({ skb: 1n, tsNs: 1, kind: 'receive' }, () => 'b', 7);
  rec.push({ skb: 1n, tsNs: 2, kind: 'receive' }, () => 'c');
  const r = rec.recorded();
  assert.deepEqual(r.lines.map((l) => l.n), [3, 7, 3]);
  assert.equal(r.total, 3);
});
