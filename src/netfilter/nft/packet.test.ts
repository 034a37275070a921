/** The fields of a `packet:` line. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePacketFields } from './packet.js';
import { tcpFlagsText } from '../../output/tuple.js';

test('parsePacketFields: TCP flag forms', () => {
  assert.equal(parsePacketFields('tcp flags == syn').tcpFlags, 0x02);
  assert.equal(parsePacketFields('tcp flags == 0x12 tcp window 5').tcpFlags, 0x12);
  assert.equal(parsePacketFields('tcp flags == syn | ack tcp window 5').tcpFlags, 0x12);
  assert.equal(parsePacketFields('tcp flags == syn,ack').tcpFlags, 0x12);
  assert.equal(tcpFlagsText(parsePacketFields('tcp flags == 0x11').tcpFlags!), 'ACK,FIN');
  assert.equal(parsePacketFields('tcp flags == bogus').tcpFlags, undefined);
});

test('parsePacketFields: IPv6, ICMPv6 echo id/sequence from nft 1.0.6 "parameter-problem"', () => {
  const p = parsePacketFields(
    'iif "ppx185s" ether saddr d2:91:4f:52:c9:a5 ether daddr fe:48:71:9c:56:46 ip6 saddr fd00:199:185::1 ip6 daddr fd00:199:185::2 ip6 dscp cs0 ip6 ecn not-ect ip6 hoplimit 64 ip6 flowlabel 76283 ip6 nexthdr ipv6-icmp ip6 length 64 icmpv6 type echo-request icmpv6 code no-route icmpv6 parameter-problem 1629487105 @th,64,96 0xf583036b0000000054660300 ',
  );
  assert.deepEqual(p, {
    iif: 'ppx185s',
    etherSaddr: 'd2:91:4f:52:c9:a5',
    etherDaddr: 'fe:48:71:9c:56:46',
    family: 6,
    saddr: 'fd00:199:185::1',
    daddr: 'fd00:199:185::2',
    length: 64,
    ttl: 64,
    flowLabel: 76283,
    l4proto: 'icmpv6',
    icmpType: 'echo-request',
    icmpCode: 'no-route',
    icmpId: 0x6120,
    icmpSeq: 1,
  });
});

test('parsePacketFields: ICMP echo, ICMP error, ARP, numeric iif, hop-by-hop, UDP', () => {
  const echo = parsePacketFields('oif "c" ip saddr 1.1.1.1 ip daddr 2.2.2.2 ip protocol icmp icmp type echo-request icmp code net-unreachable icmp id 23712 icmp sequence 1 @th,64,96 0xb983');
  assert.equal(echo.l4proto, 'icmp');
  assert.equal(echo.icmpId, 23712);
  assert.equal(echo.icmpSeq, 1);
  const err = parsePacketFields('ip saddr 1.1.1.1 ip daddr 2.2.2.2 icmp type destination-unreachable icmp code port-unreachable icmp id 0 icmp sequence 0');
  assert.equal(err.icmpCode, 'port-unreachable');
  assert.equal(err.icmpId, undefined);
  assert.deepEqual(parsePacketFields('oif "ppx185s" arp operation reply '), { oif: 'ppx185s', arpOp: 'reply' });
  assert.equal(parsePacketFields('iif 7 ip saddr 1.1.1.1 ip daddr 2.2.2.2').iif, '7');
  assert.equal(parsePacketFields('ip6 saddr fe80::1 ip6 daddr ff02::16 ip6 nexthdr ip ip6 length 56 @th,0,160 0x8f00').l4proto, 'hopopts');
  const udp = parsePacketFields('ip saddr 1.1.1.1 ip daddr 2.2.2.2 ip protocol udp ip length 31 udp sport 44590 udp dport 5353 udp length 11 @th,64,24 0x68690a');
  assert.deepEqual([udp.l4proto, udp.sport, udp.dport, udp.length], ['udp', 44590, 5353, 31]);
  assert.equal(parsePacketFields('vlan id 10 vlan type ip ip saddr 1.1.1.1 ip daddr 2.2.2.2 meta mark 0x10').vlanId, 10);
  assert.equal(parsePacketFields('ip saddr 1.1.1.1 ip daddr 2.2.2.2 meta mark 0x10').mark, 16);
});
