import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reasonMeaning } from './meaning.js';
import { protoLabel } from './proto.js';
import { REASONS } from '../diagnose/rules/index.js';

test('the meaning is the diagnosis\'s words for the reason', () => {
  assert.equal(reasonMeaning('NO_SOCKET'), REASONS.NO_SOCKET!.meaning);
  assert.match(reasonMeaning('QDISC_DROP'), /queueing discipline/);
  assert.match(reasonMeaning('SOME_NEW_REASON'), /no explanation in pktpath yet/);
});

test('protocol labels', () => {
  const cases: [number, number, string][] = [
    [0x0800, 6, 'tcp'], [0x86dd, 6, 'tcp6'], [0x0800, 17, 'udp'], [0x86dd, 17, 'udp6'], [0x0800, 1, 'icmp'], [0x86dd, 58, 'icmpv6'],
    [0x0800, 47, 'ipv4/47'], [0x86dd, 50, 'ipv6/50'], [0x0806, 0, 'arp'], [0x88cc, 0, '0x88cc'], [0, 0, '-'],
  ];
  for (const [l3, l4, want] of cases) assert.equal(protoLabel(l3, l4), want, `${l3}/${l4}`);
});
