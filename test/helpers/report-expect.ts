/**
 * What the report must draw for each diagnosis case: the path diagram's lanes, boxes and
 * edges. src/report/layout.test.ts checks them on the recorded traces
 * (test/fixtures/{diagnose,report}), test/integration/report-cases.test.ts on fresh runs.
 */
import assert from 'node:assert/strict';
import type { ReportDoc } from '../../src/report/document.js';
import type { Diagram, Edge, PlacedBox } from '../../src/report/model.js';
import { ReportReplay } from '../../src/report/replay.js';
import { fixtureText } from './fixtures.js';

/** A recorded run (test/fixtures/...), replayed into a report document. */
export function docOf(...path: string[]): ReportDoc {
  const r = new ReportReplay();
  for (const line of fixtureText(...path).split('\n')) r.push(line);
  return r.finish({ source: path.join('/'), made: '2026-01-01T00:00:00Z' });
}

export interface ReportCase {
  readonly name: string;
  /** the lanes, left to right, by the end of their namespace's name (cli, rtr, srv) */
  readonly lanes: readonly string[];
  readonly check: (d: Diagram, doc: ReportDoc) => void;
}

const DURATION = /^\d+(\.\d+)? (ns|us|ms|s)$/;

/** The diagram of the flow the verdict is about (the first drawn). */
export function mainDiagram(doc: ReportDoc): Diagram {
  const d = doc.diagrams[0];
  assert.ok(d, `no diagram; flows: ${doc.flows.length}`);
  return d;
}

export function laneOf(d: Diagram, b: PlacedBox): string {
  return d.lanes[b.lane]!.name;
}

function drops(d: Diagram, reason: string): PlacedBox[] {
  return d.boxes.filter((b) => b.kind === 'drop' && b.drop?.reason === reason);
}

function into(d: Diagram, b: PlacedBox): Edge | undefined {
  return d.edges.find((e) => e.to === b.id && e.kind !== 'cause');
}

/** A box's row and its boxes in the packet's order. */
function rowBoxes(d: Diagram, row: number): PlacedBox[] {
  return d.boxes.filter((b) => b.row === row).sort((a, b) => Number(/b(\d+)x?$/.exec(a.id)![1]) - Number(/b(\d+)x?$/.exec(b.id)![1]));
}

/** The drop is red, in its lane, with its reason, reached by a red arrow, timed unless it comes from an nft trace step (no kernel time). */
function redDrop(d: Diagram, reason: string, lane: string, timed = true): PlacedBox {
  const b = drops(d, reason)[0];
  assert.ok(b, `no ${reason} drop box: ${d.boxes.map((x) => x.label).join(', ')}`);
  assert.equal(b.tone, 'drop');
  assert.ok(laneOf(d, b).endsWith(lane), `${reason} drop in lane ${laneOf(d, b)}, not ${lane}`);
  const e = into(d, b);
  if (e) {
    assert.equal(e.kind, 'drop');
    if (timed) assert.match(e.label, DURATION, `the arrow into the drop says how long: "${e.label}"`);
  }
  return b;
}

/** A packet going back (an ICMP error or reset), made by `cause`, joined to it by a dashed arrow. */
function madeBack(d: Diagram, kind: 'icmp' | 'rst', causeLabel: RegExp, lanes: readonly string[]): void {
  const row = d.rows.findIndex((r) => r.errorKind === kind);
  assert.ok(row >= 0, `no ${kind} row: ${d.rows.map((r) => r.label).join('; ')}`);
  assert.ok(d.rows[row]!.back, `the ${kind} row goes back`);
  const boxes = rowBoxes(d, row);
  for (const l of lanes) assert.ok(boxes.some((b) => laneOf(d, b).endsWith(l)), `the ${kind} packet crosses ${l}`);
  for (let i = 1; i < boxes.length; i++) if (boxes[i]!.lane === boxes[i - 1]!.lane) assert.ok(boxes[i]!.x <= boxes[i - 1]!.x, 'boxes going back are drawn right to left');
  const cause = d.edges.find((e) => e.kind === 'cause' && e.to === boxes[0]!.id);
  assert.ok(cause, `no dashed arrow to the ${kind} packet`);
  assert.match(d.boxes.find((b) => b.id === cause.from)!.label, causeLabel);
}

export const REPORT_CASES: Readonly<Record<string, ReportCase>> = {
  'closed-port': {
    name: 'connect to a closed port: the SYN dies NO_SOCKET in srv, a reset goes back',
    lanes: ['cli', 'srv'],
    check: (d) => {
      redDrop(d, 'NO_SOCKET', 'srv');
      madeBack(d, 'rst', /send reset/, ['srv', 'cli']);
      assert.ok(d.edges.filter((e) => e.kind === 'a').every((e) => e.label === '' || DURATION.test(e.label)));
    },
  },
  'output-drop': {
    name: 'OUTPUT DROP in cli (--iptable): the filter OUTPUT DROP box, then the drop with its rule',
    lanes: ['cli'],
    check: (d) => {
      const b = redDrop(d, 'NETFILTER_DROP', 'cli', false);
      assert.match(b.drop?.rule ?? '', /drop/);
      const nf = d.boxes.find((x) => x.kind === 'netfilter' && x.row === b.row)!;
      assert.equal(nf.label, 'OUTPUT');
      assert.ok(nf.lines.includes('filter OUTPUT DROP'), nf.lines.join('|'));
      assert.equal(nf.tone, 'drop');
      assert.ok(d.rows.some((r) => r.retransmit), 'the resent SYN is its own row');
    },
  },
  'forward-reject': {
    name: 'FORWARD REJECT in rtr (all namespaces): the drop in rtr, ICMP 3/13 made and sent back to cli',
    lanes: ['cli', 'rtr'],
    check: (d) => {
      redDrop(d, 'NETFILTER_DROP', 'rtr');
      const icmp = d.boxes.find((b) => b.kind === 'icmp')!;
      assert.equal(icmp.label, 'ICMP 3/13 sent');
      assert.equal(icmp.tone, 'error-sent');
      madeBack(d, 'icmp', /ICMP 3\/13 sent/, ['rtr', 'cli']);
    },
  },
  'forward-reject-iptable': {
    name: 'FORWARD REJECT in rtr (--iptable -N rtr): FORWARD, ICMP sent, the drop with the REJECT rule',
    lanes: ['rtr'],
    check: (d) => {
      const b = redDrop(d, 'NETFILTER_DROP', 'rtr');
      assert.match(b.drop?.rule ?? '', /reject with icmp type admin-prohibited/);
      assert.deepEqual(rowBoxes(d, b.row).map((x) => x.kind), ['receive', 'netfilter', 'icmp', 'drop']);
    },
  },
  pmtu: {
    name: 'PMTU black hole: big segments die PKT_TOO_BIG in rtr, which sends ICMP 3/4 each time',
    lanes: ['cli', 'rtr', 'srv'],
    check: (d) => {
      redDrop(d, 'PKT_TOO_BIG', 'rtr');
      assert.ok(drops(d, 'PKT_TOO_BIG').length >= 3, 'the sender keeps resending: several rows end PKT_TOO_BIG');
      assert.ok(d.boxes.some((b) => b.label === 'ICMP 3/4 sent'));
      if (d.rows.some((r) => r.errorKind === 'icmp')) {
        // traced since the kernel side follows an ICMP error through its quoted header
        madeBack(d, 'icmp', /ICMP 3\/4 sent/, ['rtr', 'cli']);
        assert.ok(drops(d, 'NETFILTER_DROP').some((b) => laneOf(d, b).endsWith('cli')), 'the frag-needed is dropped by cli\u2019s firewall');
      }
    },
  },
  'tc-delay': {
    name: 'tbf on srv: the replies wait hundreds of ms in the qdisc',
    lanes: ['cli', 'srv'],
    check: (d, doc) => {
      const slow = d.boxes.filter((b) => b.kind === 'qdisc' && b.dwellNs >= 1e8);
      assert.ok(slow.length, `no qdisc box that held a packet 100 ms: ${d.boxes.filter((b) => b.kind === 'qdisc').map((b) => b.lines.join('/')).join(', ')}`);
      assert.ok(slow.every((b) => laneOf(d, b).endsWith('srv')));
      assert.ok(slow[0]!.lines.some((l) => /^waited \d+(\.\d+)? (ms|s)$/.test(l)), slow[0]!.lines.join('|'));
      const q = doc.latency.find((r) => r.stage === 'qdisc');
      assert.ok(q && q.p50Bin >= 19, `the histogram's qdisc median is at least 100 ms (bin ${q?.p50Bin})`);
    },
  },
};

/** Checks the lanes and the case's own expectations. */
export function checkReportCase(c: ReportCase, doc: ReportDoc): void {
  const d = mainDiagram(doc);
  assert.equal(d.lanes.length, c.lanes.length, `lanes: ${d.lanes.map((l) => l.name).join(', ')}`);
  c.lanes.forEach((l, i) => assert.ok(d.lanes[i]!.name.endsWith(`-${l}`), `lane ${i} is ${d.lanes[i]!.name}, not ${l}`));
  c.check(d, doc);
}
