import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reasonMeaning } from './meaning.js';
import { protoLabel } from './proto.js';
import type { RawTuple } from '../engine/event.js';

const udp: RawTuple = {
  family: 4, saddr: new Uint8Array([10, 0, 0, 1]), daddr: new Uint8Array([10, 0, 0, 2]), sport: 5000, dport: 53,
  l3proto: 0x0800, l4proto: 17, tcpFlags: 0, icmpType: 0, icmpCode: 0, icmpId: 0,
};

test('the meaning comes from the diagnosis rules, filled in from a sample when there is one', () => {
  assert.match(reasonMeaning('NO_SOCKET', udp), /^no socket is bound to 10\.0\.0\.2:53\/udp in that namespace/);
  assert.match(reasonMeaning('NO_SOCKET', null), /^no socket is bound to the destination port in that namespace/);
  const v6 = { ...udp, family: 6 as const, daddr: new Uint8Array([0xfd, 0, ...new Array<number>(13).fill(0), 2]), l3proto: 0x86dd };
  assert.match(reasonMeaning('NO_SOCKET', v6), /^no socket is bound to \[fd00::2\]:53\/udp/);
  assert.doesNotMatch(reasonMeaning('NO_SOCKET', null), /\{/);
  assert.match(reasonMeaning('QDISC_DROP', null), /queueing discipline/);
  assert.match(reasonMeaning('SOME_NEW_REASON', null), /no explanation in pktpath yet/);
});

test('protocol labels', () => {
  const cases: [number, number, string][] = [
    [0x0800, 6, 'tcp'], [0x86dd, 6, 'tcp6'], [0x0800, 17, 'udp'], [0x86dd, 17, 'udp6'], [0x0800, 1, 'icmp'], [0x86dd, 58, 'icmpv6'],
    [0x0800, 47, 'ipv4/47'], [0x86dd, 50, 'ipv6/50'], [0x0806, 0, 'arp'], [0x88cc, 0, '0x88cc'], [0, 0, '-'],
  ];
  for (const [l3, l4, want] of cases) assert.equal(protoLabel(l3, l4), want, `${l3}/${l4}`);
});
