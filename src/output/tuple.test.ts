import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RawTuple } from '../engine/event.js';
import { parseAddr } from '../shared/addr.js';
import { ETH_P_ARP, ETH_P_IP, ETH_P_IPV6, pktInfo, protoName, tcpFlagsText, toTuple } from './tuple.js';

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
