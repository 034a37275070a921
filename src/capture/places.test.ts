import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Places, directionOf } from './places.js';

const PROBES = ['net_dev_queue', 'netif_receive_skb', 'kfree_skb', 'ip_rcv'];

test('a place is one id per (probe, namespace, device), named once; its vantage point is shared by the probes at the device', () => {
  let named = 0;
  const places = new Places({ probeName: (id) => (named++, PROBES[id]!), netnsName: (ino) => (ino === 7 ? 'srv' : undefined) });
  const q = places.id(0, 7, 2, 'veth0');
  assert.equal(places.id(0, 7, 2, 'veth0'), q, 'the same place');
  const rx = places.id(1, 7, 2, 'veth0');
  const other = places.id(0, 8, 2, 'veth0');
  assert.notEqual(rx, q);
  assert.equal(places.list[rx]!.where, places.list[q]!.where, 'same namespace and device');
  assert.notEqual(places.list[other]!.where, places.list[q]!.where, 'another namespace');
  const { labelBytes, probeBytes, seenAt, ...plain } = places.list[q]!;
  assert.deepEqual(plain, { probe: 'net_dev_queue', netns: 'srv', dev: 'veth0', ifindex: 2, dir: 'out', end: false, where: 0 });
  assert.deepEqual([labelBytes, probeBytes, seenAt].map((f) => [Buffer.from(f.bytes).toString(), f.chars]), [
    ['net_dev_queue [srv/veth0]', 25],
    ['net_dev_queue', 13],
    ['; seen at net_dev_queue on veth0 in netns srv (event ', 53],
  ]);
  assert.deepEqual([places.list[other]!.netns, places.list[rx]!.dir], ['8', 'in'], 'an unnamed namespace by its inode');
  assert.equal(places.list[places.id(2, 7, 0, '')]!.end, true);
  assert.equal(named, 4, 'names looked up once per place');
  // more places than the cache holds: still one id each
  const ids = Array.from({ length: 600 }, (_, i) => places.id(3, 100 + i, i, `d${i}`));
  assert.deepEqual(Array.from({ length: 600 }, (_, i) => places.id(3, 100 + i, i, `d${i}`)), ids);
  assert.equal(new Set(ids).size, 600);
});

test('directionOf: receiving probes in, device hand-over out, the rest none', () => {
  assert.deepEqual(['netif_rx', 'net_dev_start_xmit', 'ip_rcv'].map(directionOf), ['in', 'out', null]);
});
