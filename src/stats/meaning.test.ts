import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { guessLevel, parseCounterCatalog } from './meaning.js';
import type { CounterGroup } from './meaning.js';
import { ROOT } from '../shared/io/paths.js';

const catalog = parseCounterCatalog(JSON.parse(readFileSync(join(ROOT, 'src/stats/counters.json'), 'utf8')));

/** The counters issue 10 names, and a few more the seed cases meet: each must be explained. */
const REQUIRED: [CounterGroup, string, string[]][] = [
  ['snmp', 'TcpExtListenOverflows', ['TCP_LISTEN_OVERFLOW']],
  ['snmp', 'TcpExtListenDrops', []],
  ['snmp', 'TcpExtIPReversePathFilter', ['IP_RPFILTER']],
  ['snmp', 'TcpInCsumErrors', ['TCP_CSUM']],
  ['snmp', 'UdpNoPorts', ['NO_SOCKET']],
  ['snmp', 'Udp6NoPorts', ['NO_SOCKET']],
  ['snmp', 'UdpInErrors', []],
  ['snmp', 'UdpRcvbufErrors', ['SOCKET_RCVBUFF']],
  ['snmp', 'UdpInCsumErrors', ['UDP_CSUM']],
  ['snmp', 'IcmpOutDestUnreachs', []],
  ['snmp', 'TcpExtOutOfWindowIcmps', []],
  ['snmp', 'TcpExtTCPTimeouts', []],
  ['snmp', 'TcpRetransSegs', []],
  ['snmp', 'TcpOutRsts', ['NO_SOCKET']],
  ['snmp', 'IpInAddrErrors', ['IP_INADDRERRORS']],
  ['snmp', 'IpOutNoRoutes', ['IP_OUTNOROUTES']],
  ['snmp', 'IpExtInNoRoutes', ['IP_INNOROUTES']],
  ['snmp', 'IpFragFails', ['PKT_TOO_BIG']],
  ['snmp', 'Icmp6InPktTooBigs', []],
  ['snmp', 'IcmpMsgOutType3', []],
  ['link', 'rx_missed_errors', []],
  ['link', 'rx_dropped', []],
  ['link', 'tx_dropped', []],
  ['link', 'rx_fifo_errors', []],
  ['ethtool', 'rx_missed_errors', []],
  ['ethtool', 'rx_queue_0_xdp_drops', ['XDP']],
  ['ethtool', 'tx_queue_3_xdp_xmit_errors', ['XDP']],
  ['softnet', 'dropped', ['CPU_BACKLOG']],
  ['softnet', 'time_squeeze', []],
];

test('every counter the issue names has a meaning, and the drop reasons it corresponds to', () => {
  for (const [group, name, reasons] of REQUIRED) {
    const info = catalog.lookup(group, name);
    assert.ok(info, `${group} ${name} has no entry in counters.json`);
    assert.ok(info.meaning.length > 20, `${name}: meaning too short`);
    for (const r of reasons) assert.ok(info.reasons.includes(r), `${name} should list ${r}`);
  }
});

test('entries are well formed: reasons are kernel-style names, seeds are known, gauges are marked', () => {
  for (const e of catalog.entries) {
    for (const r of e.reasons) assert.match(r, /^[A-Z0-9_]+$/, `${e.meaning}: reason ${r}`);
    for (const s of e.seeds) assert.ok(catalog.seeds.has(s));
  }
  assert.equal(catalog.lookup('ethtool', 'peer_ifindex')?.gauge, true);
  assert.equal(catalog.lookup('softnet', 'backlog')?.gauge, true);
  assert.equal(catalog.lookup('snmp', 'rx_dropped'), undefined, 'names are per group');
  assert.deepEqual([...catalog.seeds.keys()].sort(), ['000', '001', '004']);
});

test('bad catalogs are refused with the entry number', () => {
  const seeds = { '000': 'x' };
  const table: [unknown, RegExp][] = [
    [{}, /no "counters" list/],
    [{ seeds, counters: [{ group: 'nic', names: ['a'], level: 'drop', meaning: 'm' }] }, /entry 0: unknown group nic/],
    [{ seeds, counters: [{ group: 'snmp', names: ['a'], level: 'bad', meaning: 'm' }] }, /unknown level/],
    [{ seeds, counters: [{ group: 'snmp', level: 'drop', meaning: 'm' }] }, /names or pattern needed/],
    [{ seeds, counters: [{ group: 'snmp', names: ['a'], level: 'drop', meaning: 'm', seeds: ['009'] }] }, /unknown seed 009/],
  ];
  for (const [json, msg] of table) assert.throws(() => parseCounterCatalog(json), msg);
});

test('uncatalogued counters get a level from their name', () => {
  assert.deepEqual(['rx_fw_discards', 'tx_timeout_count', 'rx_packets_phy'].map(guessLevel), ['drop', 'error', 'info']);
});
