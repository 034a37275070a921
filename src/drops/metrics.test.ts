import { test } from 'node:test';
import assert from 'node:assert/strict';
import { counterFamilies, dropFamilies, lostFamily, SeriesBudget } from './metrics.js';
import type { DropRow } from './rows.js';
import type { Moved } from '../stats/snapshot.js';

function row(id: string, reason: string, total: number, hidden = false): DropRow {
  return {
    id, reason, location: `f_${id}`, netns: 1, netnsLabel: 'blue', ifindex: 2, device: 'veth0', proto: 'udp',
    total, bytes: 0, delta: 0, rate: 0, samples: [], stacks: [], hidden, meaning: '',
  };
}

const values = (f: { samples: readonly { labels: Readonly<Record<string, string>>; value: number }[] }): string[] =>
  f.samples.map((s) => `${Object.values(s.labels).join(',')}=${s.value}`);

test('the first N rows keep series of their own for good; later rows are folded per reason into location="other"', () => {
  const budget = new SeriesBudget(2);
  const first = dropFamilies([row('a', 'NO_SOCKET', 5), row('b', 'NO_SOCKET', 9), row('c', 'NO_SOCKET', 1)], budget)[0]!;
  assert.deepEqual(values(first), ['NO_SOCKET,f_b,blue,veth0,udp=9', 'NO_SOCKET,f_a,blue,veth0,udp=5', 'NO_SOCKET,other,other,other,other=1']);
  // c grows past a: a keeps its series, c stays folded, so no series ever goes down
  const later = dropFamilies([row('a', 'NO_SOCKET', 5), row('b', 'NO_SOCKET', 9), row('c', 'NO_SOCKET', 50), row('d', 'QDISC_DROP', 2)], budget)[0]!;
  assert.deepEqual(values(later), [
    'NO_SOCKET,f_b,blue,veth0,udp=9',
    'NO_SOCKET,f_a,blue,veth0,udp=5',
    'NO_SOCKET,other,other,other,other=50',
    'QDISC_DROP,other,other,other,other=2',
  ]);
});

test('hidden rows go to pktpath_drops_hidden_total by reason, not to pktpath_drops_total', () => {
  const [drops, hidden] = dropFamilies([row('a', 'NOT_SPECIFIED', 7, true), row('b', 'NOT_SPECIFIED', 3, true), row('c', 'NO_SOCKET', 1)], new SeriesBudget(10));
  assert.deepEqual([drops!.name, values(drops!)], ['pktpath_drops_total', ['NO_SOCKET,f_c,blue,veth0,udp=1']]);
  assert.deepEqual([hidden!.name, values(hidden!)], ['pktpath_drops_hidden_total', ['NOT_SPECIFIED=10']]);
});

function moved(group: Moved['group'], name: string, delta: number, level: Moved['level'], device?: string): Moved {
  return { netns: 1, netnsLabel: group === 'softnet' ? 'host' : 'blue', group, name, value: 100 + delta, delta, perSecond: 0, level, reasons: [], seeds: [], ...(device ? { device } : {}) };
}

test('moved counters: one family per group, drop and error level only, with a budget of their own', () => {
  const f = counterFamilies(
    [moved('snmp', 'UdpNoPorts', 5, 'drop'), moved('snmp', 'InOctets', 900, 'info'), moved('link', 'rx_dropped', 2, 'drop', 'veth0'), moved('softnet', 'dropped', 1, 'drop', 'cpu1'), moved('ethtool', 'rx_errors', 3, 'error', 'eth0')],
    new SeriesBudget(3),
  );
  assert.deepEqual(
    f.map((x) => [x.name, values(x)]),
    [
      ['pktpath_snmp_total', ['blue,UdpNoPorts=5']],
      ['pktpath_link_total', ['blue,veth0,rx_dropped=2']],
      ['pktpath_ethtool_total', ['blue,eth0,rx_errors=3']],
      ['pktpath_softnet_total', []],
    ],
  );
});

test('lost events: samples and uncounted drops', () => {
  assert.deepEqual(values(lostFamily({ samples: 4, uncounted: 0 })), ['samples=4', 'uncounted=0']);
});
