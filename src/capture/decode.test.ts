import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addrText, decodeIp, flagsText, newPacket, srcBin } from './decode.js';
import { linkHeader } from './link.js';
import type { LinkInfo } from './link.js';
import { cooked, ether, icmpError, ip, tcp, TCP, udp, v6 } from '../../test/helpers/frames.js';

const syn = ip('10.1.2.3', '10.4.5.6', 6, tcp(40000, 8080, { seq: 77, flags: TCP.SYN, mss: 1400, wscale: 7 }), { ttl: 61, id: 4242 });
const syn6 = ip('fd00::1', 'fd00::2', 6, tcp(40000, 8080, { seq: 77, flags: TCP.SYN, mss: 1220 }), { ttl: 60 });

function nullHeader(family: number, be: boolean, p: Buffer): Buffer {
  const h = Buffer.alloc(4);
  if (be) h.writeUInt32BE(family);
  else h.writeUInt32LE(family);
  return Buffer.concat([h, p]);
}

const LINKS: { name: string; linkType: number; frame: Buffer; dir: number; ifindex?: number; vlan?: number; family: 4 | 6 }[] = [
  { name: 'Ethernet', linkType: 1, frame: ether(syn), dir: 0, family: 4 },
  { name: 'Ethernet with an 802.1Q tag', linkType: 1, frame: ether(syn, { vlan: 42 }), dir: 0, vlan: 42, family: 4 },
  { name: 'Ethernet, IPv6', linkType: 1, frame: ether(syn6), dir: 0, family: 6 },
  { name: 'Linux cooked v1, outgoing', linkType: 113, frame: cooked(syn, 1, 4), dir: 2, family: 4 },
  { name: 'Linux cooked v1, to us', linkType: 113, frame: cooked(syn6, 1, 0), dir: 1, family: 6 },
  { name: 'Linux cooked v2, incoming on ifindex 7', linkType: 276, frame: cooked(syn, 2, 0, 7), dir: 1, ifindex: 7, family: 4 },
  { name: 'Linux cooked v2, outgoing', linkType: 276, frame: cooked(syn6, 2, 4, 3), dir: 2, ifindex: 3, family: 6 },
  { name: 'raw IP (101), IPv4', linkType: 101, frame: syn, dir: 0, family: 4 },
  { name: 'raw IP (101), IPv6', linkType: 101, frame: syn6, dir: 0, family: 6 },
  { name: 'raw IPv4 (228)', linkType: 228, frame: syn, dir: 0, family: 4 },
  { name: 'raw IPv6 (229)', linkType: 229, frame: syn6, dir: 0, family: 6 },
  { name: 'BSD loopback, little-endian AF_INET', linkType: 0, frame: nullHeader(2, false, syn), dir: 0, family: 4 },
  { name: 'BSD loopback, big-endian AF_INET6 (macOS 30)', linkType: 0, frame: nullHeader(30, true, syn6), dir: 0, family: 6 },
  { name: 'OpenBSD loopback', linkType: 108, frame: nullHeader(24, true, syn6), dir: 0, family: 6 },
];

for (const c of LINKS) {
  test(`link ${c.name}: down to a TCP SYN`, () => {
    const link: LinkInfo = { l3: 0, ethType: 0, dir: 0, ifindex: 0, vlan: -1 };
    assert.ok(linkHeader(c.linkType, c.frame, 0, c.frame.length, link));
    assert.equal(link.dir, c.dir);
    assert.equal(link.ifindex, c.ifindex ?? 0);
    assert.equal(link.vlan, c.vlan ?? -1);
    const p = newPacket();
    assert.ok(decodeIp(c.frame, link.l3, c.frame.length, link.ethType, c.frame.length - link.l3, p));
    assert.equal(p.family, c.family);
    assert.deepEqual([p.proto, p.sport, p.dport, p.seq, flagsText(p.flags)], [6, 40000, 8080, 77, 'S']);
    assert.equal(p.mss, c.family === 4 ? 1400 : 1220);
    assert.equal(p.ttl, c.family === 4 ? 61 : 60);
    assert.equal(p.ipId, c.family === 4 ? 4242 : -1);
    assert.equal(addrText(srcBin(p)), c.family === 4 ? '10.1.2.3' : 'fd00::1');
  });
}

test('a link header cut short, and a link type not decoded, are refused', () => {
  const link: LinkInfo = { l3: 0, ethType: 0, dir: 0, ifindex: 0, vlan: -1 };
  assert.equal(linkHeader(1, Buffer.alloc(10), 0, 10, link), false);
  assert.equal(linkHeader(276, Buffer.alloc(19), 0, 19, link), false);
  assert.equal(linkHeader(147, Buffer.alloc(64), 0, 64, link), false);
});

test('lengths come from the IP header, not from what the snaplen kept', () => {
  const big = ip('10.0.0.1', '10.0.0.2', 6, tcp(1, 2, { flags: TCP.ACK, payload: 1448 }));
  const p = newPacket();
  assert.ok(decodeIp(big, 0, 60, 0x0800, 60, p)); // only 60 bytes captured
  assert.deepEqual([p.ipLen, p.payload, p.short], [1488, 1448, false]);
  // a GSO super-packet whose IPv4 total length is 0 takes the frame's length
  const gso = ip('10.0.0.1', '10.0.0.2', 6, tcp(1, 2, { flags: TCP.ACK, payload: 100 }), { totLen: 0 });
  assert.ok(decodeIp(gso, 0, gso.length, 0x0800, 70_040, p));
  assert.deepEqual([p.ipLen, p.payload], [70_040, 70_000]);
});

test('IPv6 extension headers and fragments: the first fragment has ports, a later one does not', () => {
  const l4 = udp(5353, 53, 10);
  const frag = (offset: number, more: boolean): Buffer => {
    const base = ip('fd00::1', 'fd00::2', 17, Buffer.from(l4));
    const fh = Buffer.alloc(8);
    fh[0] = 17;
    fh.writeUInt16BE((offset << 3) | (more ? 1 : 0), 2);
    const hop = Buffer.alloc(8);
    hop[0] = 44; // hop-by-hop, then the fragment header
    base[6] = 0;
    base.writeUInt16BE(16 + l4.length, 4);
    return Buffer.concat([base.subarray(0, 40), hop, fh, l4]);
  };
  const p = newPacket();
  assert.ok(decodeIp(frag(0, true), 0, 80, 0x86dd, 80, p));
  assert.deepEqual([p.proto, p.frag, p.sport, p.dport], [17, 1, 5353, 53]);
  assert.ok(decodeIp(frag(100, false), 0, 80, 0x86dd, 80, p));
  assert.deepEqual([p.proto, p.frag, p.sport], [17, 2, -1]);
});

test('ICMP errors: the quoted packet and the next-hop MTU', () => {
  const data = ip('10.0.0.1', '10.9.9.9', 6, tcp(40000, 443, { seq: 123456, flags: TCP.ACK, payload: 1448 }));
  const cases = [
    { pkt: icmpError('10.0.0.254', '10.0.0.1', 3, 4, data, 1400), type: 3, code: 4, mtu: 1400, proto: 6, len: 1488 },
    { pkt: icmpError('10.0.0.254', '10.0.0.1', 3, 3, ip('10.0.0.1', '10.9.9.9', 17, udp(5000, 53, 20))), type: 3, code: 3, mtu: -1, proto: 17, len: 48 },
    { pkt: icmpError('fd00::fe', 'fd00::1', 2, 0, ip('fd00::1', 'fd00::9', 6, tcp(40000, 443, { seq: 123456, flags: TCP.ACK, payload: 1400 })), 1280), type: 2, code: 0, mtu: 1280, proto: 6, len: 1460 },
  ];
  for (const c of cases) {
    const p = newPacket();
    assert.ok(decodeIp(c.pkt, 0, c.pkt.length, c.pkt[0]! >> 4 === 6 ? 0x86dd : 0x0800, c.pkt.length, p));
    assert.deepEqual([p.icmpType, p.icmpCode, p.icmpMtu], [c.type, c.code, c.mtu]);
    assert.equal(p.inner.proto, c.proto);
    assert.equal(p.inner.len, c.len);
    assert.equal(p.inner.dport, c.proto === 6 ? 443 : 53);
    if (c.proto === 6) assert.equal(p.inner.seq, 123456);
  }
});

test('an ICMP echo is not an error: nothing quoted', () => {
  const echo = ip('10.0.0.1', '10.0.0.2', 1, Buffer.from([8, 0, 0, 0, 0, 1, 0, 1]));
  const p = newPacket();
  assert.ok(decodeIp(echo, 0, echo.length, 0x0800, echo.length, p));
  assert.deepEqual([p.icmpType, p.inner.family], [8, 0]);
});

test('addrText: RFC 5952 IPv6, dotted IPv4', () => {
  const bin = (a: string): string => v6(a).toString('latin1');
  assert.equal(addrText(bin('2001:db8:0:0:1:0:0:1')), '2001:db8::1:0:0:1');
  assert.equal(addrText(bin('fd00:199:7::2')), 'fd00:199:7::2');
  assert.equal(addrText(bin('::1')), '::1');
  assert.equal(addrText(bin('::')), '::');
  assert.equal(addrText(bin('1:2:3:4:5:6:7:8')), '1:2:3:4:5:6:7:8');
  assert.equal(addrText(bin('1:0:3:4:5:6:7:8')), '1:0:3:4:5:6:7:8');
  assert.equal(addrText('\x0a\x00\x00\xff'), '10.0.0.255');
});

test('flagsText prints flags as tcpdump does', () => {
  assert.equal(flagsText(TCP.SYN | TCP.ACK), 'S.');
  assert.equal(flagsText(TCP.RST | TCP.ACK), 'R.');
  assert.equal(flagsText(TCP.PSH | TCP.ACK), 'P.');
  assert.equal(flagsText(0), 'none');
});
