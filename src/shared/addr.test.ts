import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatAddr, parseAddr } from './addr.js';

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
