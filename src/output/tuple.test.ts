import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RawTuple } from '../engine/event.js';
import {
  ETH_P_ARP,
  ETH_P_IP,
  ETH_P_IPV6,
  formatAddr,
  parseAddr,
  pktInfo,
  protoName,
  tcpFlagsText,
  toTuple,
} from './tuple.js';

const v6 = (text: string): Uint8Array => {
  const p = parseAddr(text);
  assert.ok(p && p.family === 6, `test setup: ${text}`);
  return p.bytes;
};
const v4 = (text: string): Uint8Array => {
  const p = parseAddr(text);
  assert.ok(p && p.family === 4, `test setup: ${text}`);
  return p.bytes;
};

test('formatAddr', () => {
  const cases: [number[], 4 | 6, string][] = [
    [[10, 0, 0, 1], 4, '10.0.0.1'],
    [[255, 255, 255, 255], 4, '255.255.255.255'],
    [[192, 168, 1, 2, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9], 4, '192.168.1.2'], // first 4 of 16
    [[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 6, '::'],
    [[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], 6, '::1'],
    [[0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], 6, 'fd00::1'],
    [[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 6, '2001:db8::'],
    // single zero group is not compressed
    [[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1], 6, '2001:db8:0:1:1:1:1:1'],
    // longest run wins
    [[0x20, 0x01, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1], 6, '2001:0:0:1::1'],
    // first run on a tie
    [[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1], 6, '2001:db8::1:0:0:1'],
    // lowercase, no leading zeros
    [[0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x02, 0x16, 0x3e, 0xff, 0xfe, 0x0c, 0xb8, 0x38], 6, 'fe80::216:3eff:fe0c:b838'],
    // IPv4-mapped
    [[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1], 6, '::ffff:192.0.2.1'],
    // not mapped (::fffe:...)
    [[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xfe, 192, 0, 2, 1], 6, '::fffe:c000:201'],
    [[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], 6,
      'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'],
  ];
  for (const [bytes, family, want] of cases) {
    assert.equal(formatAddr(Uint8Array.from(bytes), family), want);
  }
});

test('formatAddr IPv4 (cached) stays right across many addresses', () => {
  let seed = 99;
  const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % 256;
  const seen: [Uint8Array, string][] = [];
  for (let n = 0; n < 20000; n++) {
    const b = Uint8Array.from([rnd(), rnd(), n % 7, rnd()]);
    const want = `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
    assert.equal(formatAddr(b, 4), want);
    if (n % 100 === 0) seen.push([b, want]);
  }
  for (const [b, want] of seen) assert.equal(formatAddr(b, 4), want);
  assert.equal(formatAddr(new Uint8Array(4), 4), '0.0.0.0');
  assert.equal(formatAddr(Uint8Array.from([255, 255, 255, 255]), 4), '255.255.255.255');
});

test('formatAddr IPv6 agrees with WHATWG URL serialization and round-trips through parseAddr', () => {
  let seed = 12345;
  const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  for (let n = 0; n < 3000; n++) {
    const b = new Uint8Array(16);
    // bias towards zero groups so compression paths are exercised
    for (let g = 0; g < 8; g++) {
      if (rnd() < 0.5) continue;
      b[2 * g] = rnd() < 0.5 ? 0 : Math.floor(rnd() * 256);
      b[2 * g + 1] = Math.floor(rnd() * 256);
    }
    const text = formatAddr(b, 6);
    const back = parseAddr(text);
    assert.ok(back, text);
    assert.deepEqual(back.bytes, b, text);
    if (!text.startsWith('::ffff:') || text.split(':').length !== 4) {
      assert.equal(`[${text}]`, new URL(`http://[${text}]/`).hostname, text);
    }
  }
});

test('parseAddr accepts', () => {
  const cases: [string, 4 | 6, number[]][] = [
    ['0.0.0.0', 4, [0, 0, 0, 0]],
    ['192.168.88.154', 4, [192, 168, 88, 154]],
    ['255.255.255.255', 4, [255, 255, 255, 255]],
    ['::', 6, new Array(16).fill(0)],
    ['::1', 6, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]],
    ['1::', 6, [0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]],
    ['FD00::A', 6, [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xa]],
    ['1:2:3:4:5:6:7:8', 6, [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8]],
    ['1:2:3:4:5:6:7::', 6, [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 0]],
    ['::2:3:4:5:6:7:8', 6, [0, 0, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8]],
    ['::ffff:1.2.3.4', 6, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4]],
    ['1:2:3:4:5:6:1.2.3.4', 6, [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 1, 2, 3, 4]],
    ['::1.2.3.4', 6, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4]],
    ['0001:0db8::0', 6, [0, 1, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]],
  ];
  for (const [text, family, bytes] of cases) {
    assert.deepEqual(parseAddr(text), { family, bytes: Uint8Array.from(bytes) }, text);
  }
});

test('parseAddr rejects', () => {
  const bad = [
    '', '1.2.3', '1.2.3.4.5', '256.1.1.1', '1.2.3.-4', '01.2.3.4', '1.2.3.4 ', ' 1.2.3.4', '1..3.4',
    '1.2.3.4/24', 'a.b.c.d', '0x1.2.3.4', 'localhost', 'garbage', '1e2.0.0.1', '+1.2.3.4',
    ':', ':::', '1:::2', '1::2::3', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8::',
    '::1:2:3:4:5:6:7:8', '12345::', 'g::1', ':1::', '1::2:', '[::1]', 'fe80::1%eth0',
    '::1.2.3', '::1.2.3.4:5', '1.2.3.4::', '::256.0.0.1', '1:2:3:4:5:6:7:1.2.3.4',
  ];
  for (const text of bad) assert.equal(parseAddr(text), null, JSON.stringify(text));
});

test('tcpFlagsText', () => {
  const cases: [number, string][] = [
    [0x00, ''],
    [0x02, 'SYN'],
    [0x12, 'ACK,SYN'],
    [0x14, 'ACK,RST'],
    [0x18, 'ACK,PSH'],
    [0x10, 'ACK'],
    [0x11, 'ACK,FIN'],
    [0x19, 'ACK,FIN,PSH'],
    [0x04, 'RST'],
    [0xc2, 'SYN,ECE,CWR'],
    [0xff, 'ACK,SYN,FIN,RST,PSH,URG,ECE,CWR'],
    [0x112, 'ACK,SYN'],
  ];
  for (const [flags, want] of cases) assert.equal(tcpFlagsText(flags), want, flags.toString(16));
});

test('protoName', () => {
  const cases: [number, number, string][] = [
    [6, ETH_P_IP, 'tcp'],
    [17, ETH_P_IPV6, 'udp'],
    [1, ETH_P_IP, 'icmp'],
    [58, ETH_P_IPV6, 'icmpv6'],
    [0, ETH_P_ARP, 'arp'],
    [6, ETH_P_ARP, 'arp'],
    [47, ETH_P_IP, '47'],
    [132, 0, '132'],
    [6, 0, 'tcp'],
    [0, 0x88cc, '0x88cc'],
  ];
  for (const [l4, l3, want] of cases) assert.equal(protoName(l4, l3), want, `${l4}/${l3}`);
});

function raw(over: Partial<RawTuple>): RawTuple {
  return {
    family: 4,
    saddr: v4('10.0.0.1'),
    daddr: v4('10.0.0.2'),
    sport: 0,
    dport: 0,
    l3proto: ETH_P_IP,
    l4proto: 6,
    tcpFlags: 0,
    icmpType: 0,
    icmpCode: 0,
    icmpId: 0,
    ...over,
  };
}

test('pktInfo', () => {
  const cases: [string, RawTuple, string][] = [
    ['tcp syn', raw({ sport: 34060, dport: 8080, tcpFlags: 0x02 }), 'T_SYN:10.0.0.1:34060->10.0.0.2:8080'],
    ['tcp rst', raw({ sport: 8080, dport: 34060, tcpFlags: 0x14 }), 'T_ACK,RST:10.0.0.1:8080->10.0.0.2:34060'],
    ['tcp no flags', raw({ sport: 1, dport: 2 }), 'T:10.0.0.1:1->10.0.0.2:2'],
    ['udp', raw({ l4proto: 17, sport: 5353, dport: 53, tcpFlags: 0x12 }), 'U:10.0.0.1:5353->10.0.0.2:53'],
    ['tcp v6', raw({ family: 6, l3proto: ETH_P_IPV6, saddr: v6('fd00::1'), daddr: v6('fd00::2'), sport: 80, dport: 40000, tcpFlags: 0x12 }),
      'T_ACK,SYN:[fd00::1]:80->[fd00::2]:40000'],
    ['udp v6', raw({ family: 6, l3proto: ETH_P_IPV6, l4proto: 17, saddr: v6('::1'), daddr: v6('::1'), sport: 1, dport: 2 }),
      'U:[::1]:1->[::1]:2'],
    ['icmp echo', raw({ l4proto: 1, icmpType: 8, icmpId: 17 }), 'I_request:10.0.0.1->10.0.0.2 id=17'],
    ['icmp reply', raw({ l4proto: 1, icmpType: 0, icmpId: 17 }), 'I_reply:10.0.0.1->10.0.0.2 id=17'],
    ['icmp unreach', raw({ l4proto: 1, icmpType: 3, icmpCode: 3 }), 'I_unreach:10.0.0.1->10.0.0.2 code=3'],
    ['icmp unknown', raw({ l4proto: 1, icmpType: 42, icmpCode: 1 }), 'I_42:10.0.0.1->10.0.0.2 code=1'],
    ['icmpv6 echo', raw({ family: 6, l3proto: ETH_P_IPV6, l4proto: 58, saddr: v6('fd00::1'), daddr: v6('fd00::2'), icmpType: 128, icmpId: 9 }),
      'I_request:fd00::1->fd00::2 id=9'],
    ['icmpv6 ns', raw({ family: 6, l3proto: ETH_P_IPV6, l4proto: 58, saddr: v6('fe80::1'), daddr: v6('ff02::1:ff00:2'), icmpType: 135 }),
      'I_ns:fe80::1->ff02::1:ff00:2 code=0'],
    ['gre', raw({ l4proto: 47 }), '47:10.0.0.1->10.0.0.2'],
    ['arp', raw({ l3proto: ETH_P_ARP, l4proto: 0 }), 'arp:10.0.0.1->10.0.0.2'],
    ['arp no addrs', raw({ family: 0, l3proto: ETH_P_ARP, l4proto: 0 }), 'arp'],
    ['other ethertype', raw({ family: 0, l3proto: 0x88cc, l4proto: 0 }), '0x88cc'],
  ];
  for (const [name, r, want] of cases) assert.equal(pktInfo(r), want, name);
});

test('toTuple', () => {
  const cases: [string, RawTuple, object][] = [
    ['tcp', raw({ sport: 34060, dport: 8080, tcpFlags: 0x14 }),
      { proto: 'tcp', saddr: '10.0.0.1', daddr: '10.0.0.2', sport: 34060, dport: 8080, flags: 'ACK,RST' }],
    ['udp ignores flags', raw({ l4proto: 17, sport: 1, dport: 2, tcpFlags: 2 }),
      { proto: 'udp', saddr: '10.0.0.1', daddr: '10.0.0.2', sport: 1, dport: 2, flags: '' }],
    ['icmp', raw({ l4proto: 1, icmpType: 8, icmpCode: 0, icmpId: 17 }),
      { proto: 'icmp', saddr: '10.0.0.1', daddr: '10.0.0.2', sport: 0, dport: 0, flags: '', icmp_type: 8, icmp_code: 0, icmp_id: 17 }],
    ['icmpv6', raw({ family: 6, l3proto: ETH_P_IPV6, l4proto: 58, saddr: v6('::ffff:10.0.0.1'), daddr: v6('fd00::2'), icmpType: 129, icmpId: 3 }),
      { proto: 'icmpv6', saddr: '::ffff:10.0.0.1', daddr: 'fd00::2', sport: 0, dport: 0, flags: '', icmp_type: 129, icmp_code: 0, icmp_id: 3 }],
    ['arp', raw({ family: 0, l3proto: ETH_P_ARP, l4proto: 0 }),
      { proto: 'arp', saddr: '', daddr: '', sport: 0, dport: 0, flags: '' }],
  ];
  for (const [name, r, want] of cases) assert.deepEqual(toTuple(r), want, name);
});
