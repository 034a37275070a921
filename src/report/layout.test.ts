/**
 * The path diagram on recorded traces of real runs (test/fixtures/diagnose, recorded by
 * the diagnosis tests; test/fixtures/report, recorded by the report's browser test):
 * lanes, boxes and edges for each case of test/helpers/report-expect.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixtureText } from '../../test/helpers/fixtures.js';
import { REPORT_CASES, checkReportCase, docOf } from '../../test/helpers/report-expect.js';
import { ReportReplay } from './replay.js';

const FIXTURES: readonly [string, string[]][] = [
  ['closed-port', ['diagnose', 'tcp.no-listener.jsonl']],
  ['output-drop', ['diagnose', 'nf.output-drop.jsonl']],
  ['forward-reject', ['report', 'forward-reject.jsonl']],
  ['forward-reject-iptable', ['diagnose', 'nf.reject.jsonl']],
  ['pmtu', ['report', 'pmtu.jsonl']],
  ['pmtu', ['diagnose', 'pmtu.black-hole.jsonl']],
  ['tc-delay', ['diagnose', 'latency.dominant-hop.jsonl']],
  ['tc-delay', ['report', 'tc-delay.jsonl']],
];

for (const [name, path] of FIXTURES) {
  const c = REPORT_CASES[name]!;
  test(`layout of ${path.join('/')}: ${c.name}`, () => {
    const doc = docOf(...path);
    checkReportCase(c, doc);
    // geometry: boxes inside their lane, no two boxes of a row on top of each other
    const d = doc.diagrams[0]!;
    for (const b of d.boxes) {
      const l = d.lanes[b.lane]!;
      assert.ok(b.x >= l.x && b.x + b.w <= l.x + l.w, `${b.id} outside its lane`);
      assert.ok(!d.boxes.some((o) => o !== b && o.row === b.row && Math.abs(o.x - b.x) < b.w), `${b.id} overlaps another box`);
    }
    // every event of a box or an edge is an event of the run
    const ns = new Set(doc.events.map((e) => e.n));
    for (const x of [...d.boxes, ...d.edges]) for (const n of x.events) assert.ok(ns.has(n), `#${n}`);
  });
}

test('a long flow is bounded: at most the row cap drawn, drops and resends first, the rest counted', () => {
  const r = new ReportReplay({ maxEvents: 10_000, maxNotable: 10 });
  for (const line of fixtureText('diagnose', 'pmtu.black-hole.jsonl').split('\n')) r.push(line);
  const doc = r.finish({ source: 'x', made: 'y' }, { rows: 5, cell: 8, maxFlows: 24 });
  const d = doc.diagrams[0]!;
  assert.equal(d.rows.length, 5);
  assert.equal(d.hiddenPackets, doc.flows[0]!.packets.length - 5);
  assert.ok(d.rows.some((row) => /SYN/.test(row.label)) || d.rows.every((row) => row.end.startsWith('dropped')), 'interesting packets first');
});
