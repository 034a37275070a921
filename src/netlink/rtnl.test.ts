import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAddresses, parseLinks } from './rtnl.js';
import { fixtureBytes, fixtureText } from '../../test/helpers/fixtures.js';

interface IpLink {
  ifindex: number;
  ifname: string;
  stats64: { rx: Record<string, number>; tx: Record<string, number> };
  linkinfo?: { info_kind: string };
}

/** `ip -s -s -j link` field -> IFLA_STATS64 field, for the ones both print. */
const IP_FIELDS: [string, 'rx' | 'tx', string][] = [
  ['rx_bytes', 'rx', 'bytes'], ['rx_packets', 'rx', 'packets'], ['rx_errors', 'rx', 'errors'], ['rx_dropped', 'rx', 'dropped'],
  ['rx_over_errors', 'rx', 'over_errors'], ['multicast', 'rx', 'multicast'], ['rx_length_errors', 'rx', 'length_errors'],
  ['rx_crc_errors', 'rx', 'crc_errors'], ['rx_frame_errors', 'rx', 'frame_errors'], ['rx_fifo_errors', 'rx', 'fifo_errors'],
  ['rx_missed_errors', 'rx', 'missed_errors'], ['tx_bytes', 'tx', 'bytes'], ['tx_packets', 'tx', 'packets'],
  ['tx_errors', 'tx', 'errors'], ['tx_dropped', 'tx', 'dropped'], ['tx_carrier_errors', 'tx', 'carrier_errors'],
  ['collisions', 'tx', 'collisions'], ['tx_aborted_errors', 'tx', 'aborted_errors'], ['tx_fifo_errors', 'tx', 'fifo_errors'],
  ['tx_window_errors', 'tx', 'window_errors'], ['tx_heartbeat_errors', 'tx', 'heartbeat_errors'],
];

test('link dump: the same links, names and statistics as ip -s -s -j link printed for that namespace', () => {
  const links = parseLinks(fixtureBytes('host/links.bin'), 45);
  const ip = JSON.parse(fixtureText('host/ip-s-link.json')) as IpLink[];
  assert.deepEqual(links.map((l) => [l.ifindex, l.name]), ip.map((l) => [l.ifindex, l.ifname]));
  for (const l of links) {
    const ref = ip.find((x) => x.ifindex === l.ifindex)!;
    for (const [ours, dir, theirs] of IP_FIELDS) assert.equal(l.stats.get(ours), ref.stats64[dir][theirs], `${l.name} ${ours}`);
    assert.ok(l.stats.has('rx_nohandler') && l.stats.has('rx_otherhost_dropped'), 'this kernel reports the 6.x fields');
  }
  assert.deepEqual(links.map((l) => l.kind), [undefined, 'veth', 'veth']);
});

test('address dump: the addresses ip -j addr printed', () => {
  const addrs = parseAddresses(fixtureBytes('host/addrs.bin'), 46);
  const ip = JSON.parse(fixtureText('host/ip-addr.json')) as { ifindex: number; addr_info: { local: string; prefixlen: number; family: string }[] }[];
  const want = ip.flatMap((l) => l.addr_info.map((a) => `${l.ifindex} ${a.local}/${a.prefixlen}`)).sort();
  assert.deepEqual(addrs.map((a) => `${a.ifindex} ${a.address}/${a.prefixlen}`).sort(), want);
  assert.ok(addrs.some((a) => a.family === 6 && a.address === 'fd00:199:254::1'));
});
