import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildReport } from './report.js';
import type { DropReport } from './report.js';
import type { DropRow } from './rows.js';
import { formatReportJson } from './json.js';
import { formatReportText, formatScreen } from './text.js';
import type { Moved } from '../stats/snapshot.js';

function row(reason: string, delta: number, total: number, over: Partial<DropRow> = {}): DropRow {
  return {
    id: reason, reason, location: 'nf_hook_slow', netns: 4026532000, netnsLabel: 'blue', ifindex: 3, device: 'veth0', proto: 'udp',
    total, bytes: total * 30, delta, rate: delta, samples: ['U:10.0.0.1:5000->10.0.0.2:7777'], stacks: [], hidden: false,
    meaning: 'a netfilter rule (iptables or nftables) dropped it', ...over,
  };
}

const counter: Moved = {
  netns: 4026532000, netnsLabel: 'blue', group: 'snmp', name: 'UdpNoPorts', value: 10, delta: 4, perSecond: 4, level: 'drop',
  meaning: 'UDP datagrams to a port nobody listens on', reasons: ['NO_SOCKET'], seeds: [],
};
const quiet: Moved = { ...counter, name: 'InOctets', level: 'info', meaning: 'bytes in' };

function report(type: DropReport['type'], rows: DropRow[]): DropReport {
  return buildReport({
    type, index: 3, at: Date.UTC(2025, 0, 2, 3, 4, 5), seconds: 1, all: false, rows,
    probe: { samples: 3, samplesLost: 1, tableFull: 0, filtered: 7, recursionMisses: 2 }, moved: [counter, quiet],
  });
}

const rows = [row('NETFILTER_DROP', 5, 20), row('NO_SOCKET', 0, 2), row('NOT_SPECIFIED', 9, 40, { hidden: true })];

test('plain text: an interval shows the rows that moved, each with its meaning, then the counters that moved', () => {
  const text = formatReportText(report('interval', rows), true);
  const lines = text.split('\n');
  assert.equal(lines[0], 'drops, interval 3 (1.00 s): 5 drops in 1 of 2 rows; hidden: 9 NOT_SPECIFIED and benign frees (--all shows them); left out by the filter: 7; lost: 2 uncounted, 1 samples');
  assert.match(lines[1]!, /^COUNT\s+RATE\/s\s+TOTAL\s+REASON\s+LOCATION\s+NETNS\s+DEVICE\s+PROTO\s+SAMPLE$/);
  assert.match(lines[2]!, /^5\s+5\.0\s+20\s+NETFILTER_DROP\s+nf_hook_slow\s+blue\s+veth0\s+udp\s+U:10\.0\.0\.1:5000->10\.0\.0\.2:7777$/);
  assert.equal(lines[3], '    a netfilter rule (iptables or nftables) dropped it');
  assert.ok(!text.includes('NO_SOCKET '), 'a row that did not move is left out of an interval');
  assert.equal(lines[4], 'counters that moved:');
  assert.match(text, /blue\s+snmp\s+-\s+UdpNoPorts\s+4\s+4\.0\s+UDP datagrams to a port nobody listens on/);
  assert.ok(!text.includes('InOctets'), 'counters of level info are not drops');
});

test('plain text: the total shows every row; the screen is cut to the terminal', () => {
  const total = formatReportText(report('total', rows));
  assert.match(total.split('\n')[0]!, /^drops, total since the start \(1\.00 s\): 22 drops in 2 rows; hidden: 40/);
  assert.match(total, /NO_SOCKET/);
  const screen = formatScreen(report('interval', rows), { columns: 40, rows: 6 });
  assert.equal(screen.length, 5, 'the last line stays free for the cursor');
  assert.ok(screen.every((l) => l.length <= 40), screen.join('\n'));
  assert.match(screen[3]!, /^5 /);
});

test('JSON: one object with the rows, what is hidden, lost and left out, and the counters', () => {
  const j = JSON.parse(formatReportJson(report('interval', rows))) as Record<string, unknown>;
  assert.deepEqual(
    { ...j, rows: undefined, counters: undefined },
    {
      type: 'interval', index: 3, time: '2025-01-02T03:04:05.000Z', seconds: 1, all: false, drops: { count: 5, total: 22 },
      hidden: { reasons: ['NOT_SPECIFIED', 'UNIX_DISCONNECT', 'UNIX_SKIP_OOB', 'IPV6_NDISC_NS_OTHERHOST'], rows: 1, count: 9, total: 40 },
      lost: { samples: 1, uncounted: 2 }, filtered: 7, rows: undefined, counters: undefined,
    },
  );
  assert.deepEqual((j.rows as unknown[])[0], {
    reason: 'NETFILTER_DROP', location: 'nf_hook_slow', netns: 'blue', netns_inode: 4026532000, device: 'veth0', ifindex: 3, proto: 'udp',
    count: 5, total: 20, rate: 5, bytes: 600, meaning: 'a netfilter rule (iptables or nftables) dropped it', samples: ['U:10.0.0.1:5000->10.0.0.2:7777'],
  });
  assert.deepEqual(j.counters, [{ netns: 'blue', group: 'snmp', name: 'UdpNoPorts', delta: 4, rate: 4, level: 'drop', meaning: 'UDP datagrams to a port nobody listens on', reasons: ['NO_SOCKET'] }]);
});
