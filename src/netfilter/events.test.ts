import { test } from 'node:test';
import assert from 'node:assert/strict';
import { icmpCodeOf, tupleOfPacket } from './events.js';
import { parseTraceLine } from './nft/parse.js';
import type { NftTracePacket } from './model.js';

test('tupleOfPacket: ICMP type and code from the names nft prints', () => {
  const unreach: NftTracePacket = { family: 4, saddr: '10.0.0.254', daddr: '10.0.0.1', l4proto: 'icmp', icmpType: 'destination-unreachable', icmpCode: 'admin-prohibited' };
  const t = tupleOfPacket(unreach);
  assert.equal(t?.icmpType, 3);
  assert.equal(t?.icmpCode, 13);
  const v6 = tupleOfPacket({ family: 6, saddr: 'fd00::1', daddr: 'fd00::2', l4proto: 'icmpv6', icmpType: 'destination-unreachable', icmpCode: 'admin-prohibited' });
  assert.equal(v6?.icmpType, 1);
  assert.equal(v6?.icmpCode, 1);
  // echo: code 0, which nft 1.0.6 calls net-unreachable
  assert.equal(tupleOfPacket({ ...unreach, icmpType: 'echo-request', icmpCode: 'net-unreachable' })?.icmpCode, 0);
  assert.equal(tupleOfPacket({ ...unreach, icmpType: 'echo-request', icmpCode: undefined })?.icmpCode, 0);
  assert.equal(tupleOfPacket(null), null);
});

test('icmpCodeOf: numbers, names per family, unknown names', () => {
  assert.equal(icmpCodeOf('3', false), 3);
  assert.equal(icmpCodeOf('port-unreachable', false), 3);
  assert.equal(icmpCodeOf('port-unreachable', true), 4);
  assert.equal(icmpCodeOf('no-route', true), 0);
  assert.equal(icmpCodeOf('frag-needed', true), 0, 'not an ICMPv6 name');
  assert.equal(icmpCodeOf('something-new', false), 0);
  assert.equal(icmpCodeOf(undefined, false), 0);
});

test('a reject rule\'s ICMP error, from the trace line to the tuple', () => {
  const line =
    'trace id 1a2b3c4d ip filter OUTPUT packet: oif "veth0" ip saddr 10.0.0.254 ip daddr 10.0.0.1 ip dscp 0x30 ip ecn not-ect ip ttl 64 ip id 0 ip protocol icmp ip length 88 icmp type destination-unreachable icmp code admin-prohibited icmp checksum 1234';
  const rec = parseTraceLine(line);
  assert.ok(rec?.packet, 'a packet record');
  const t = tupleOfPacket(rec.packet);
  assert.deepEqual([t?.icmpType, t?.icmpCode], [3, 13]);
});
