import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diffSnapshots, linkCounters, snmpCounters, softnetCounters } from './snapshot.js';
import type { Counter, Snapshot } from './snapshot.js';
import { parseCounterCatalog } from './meaning.js';

const catalog = parseCounterCatalog({
  seeds: { '000': 'seed' },
  counters: [
    { group: 'snmp', names: ['UdpNoPorts'], level: 'drop', meaning: 'no port', reasons: ['NO_SOCKET'], seeds: ['000'] },
    { group: 'snmp', names: ['UdpInDatagrams'], level: 'info', meaning: 'in' },
    { group: 'ethtool', names: ['peer_ifindex'], level: 'info', meaning: 'peer', gauge: true },
  ],
});
const ns = { netns: 7, netnsLabel: 'srv' };

function snap(atMs: number, values: [string, number, Partial<Counter>?][]): Snapshot {
  return { atMs, counters: values.map(([name, value, extra]) => ({ ...ns, group: 'snmp', name, value, ...extra })) };
}

test('moved counters, with meaning, rate, and drops first', () => {
  const a = snap(0, [['UdpNoPorts', 10], ['UdpInDatagrams', 100], ['TcpInSegs', 5]]);
  const b = snap(2000, [['UdpNoPorts', 14], ['UdpInDatagrams', 150], ['TcpInSegs', 5]]);
  const moved = diffSnapshots(a, b, catalog);
  assert.deepEqual(moved.map((m) => [m.name, m.delta, m.perSecond, m.level]), [['UdpNoPorts', 4, 2, 'drop'], ['UdpInDatagrams', 50, 25, 'info']]);
  assert.deepEqual([moved[0]!.meaning, moved[0]!.reasons, moved[0]!.seeds], ['no port', ['NO_SOCKET'], ['000']]);
});

test('new, reset and gauge counters are not deltas; --all shows every counter', () => {
  const gauge = { group: 'ethtool' as const, device: 'veth0' };
  const a = snap(0, [['UdpNoPorts', 10], ['peer_ifindex', 3, gauge]]);
  const b = snap(1000, [['UdpNoPorts', 2], ['peer_ifindex', 4, gauge], ['Fresh', 9]]);
  assert.deepEqual(diffSnapshots(a, b, catalog), []);
  const all = diffSnapshots(a, b, catalog, { all: true });
  assert.deepEqual(all.map((m) => [m.name, m.delta, m.value]).sort(), [['Fresh', 0, 9], ['peer_ifindex', 0, 4]]);
});

test('the same name in two namespaces or on two devices are two counters', () => {
  const a: Snapshot = { atMs: 0, counters: [...linkCounters(ns, [{ ifindex: 1, name: 'a', stats: new Map([['rx_dropped', 1]]) }, { ifindex: 2, name: 'b', stats: new Map([['rx_dropped', 1]]) }])] };
  const b: Snapshot = { atMs: 1000, counters: [...linkCounters(ns, [{ ifindex: 1, name: 'a', stats: new Map([['rx_dropped', 3]]) }, { ifindex: 2, name: 'b', stats: new Map([['rx_dropped', 1]]) }])] };
  assert.deepEqual(diffSnapshots(a, b, catalog).map((m) => [m.device, m.delta, m.level]), [['a', 2, 'drop']]);
});

test('sources become counters: nstat names per namespace, softnet per CPU of the host', () => {
  const c = snmpCounters(ns, 'Udp: NoPorts\nUdp: 3\n', 'TcpExt: ListenDrops\nTcpExt: 1\n', 'Udp6NoPorts 2\n');
  assert.deepEqual(c.map((x) => [x.name, x.value, x.netnsLabel]), [['UdpNoPorts', 3, 'srv'], ['TcpExtListenDrops', 1, 'srv'], ['Udp6NoPorts', 2, 'srv']]);
  const s = softnetCounters('00000010 00000002 00000003 0 0 0 0 0 0 00000004 00000005 00000001 00000001\n');
  assert.deepEqual(s.filter((x) => x.name === 'dropped').map((x) => [x.netnsLabel, x.device, x.value]), [['host', 'cpu1', 2]]);
});
