import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsonString, macHex, micro6, padEnd, textSafe } from './strings.js';

test('jsonString', () => {
  const strs = ['', 'plain', 'q"', 'b\\', '\u0000\u001f', '\ud83d\ude00', '\udc00', 'é'];
  for (const s of strs) assert.equal(JSON.parse(jsonString(s)), s, JSON.stringify(s));
  assert.equal(jsonString('plain'), '"plain"');
});

test('column pieces', () => {
  const cases: [string, string, string][] = [
    ['micro6 0', micro6(0), '000000'],
    ['micro6 max', micro6(999_999), '999999'],
    ['micro6 middle', micro6(103_401), '103401'],
    ['padEnd short', padEnd('ab', 4), 'ab  '],
    ['padEnd long kept whole', padEnd('abcdef', 4), 'abcdef'],
    ['textSafe blanks and controls', textSafe('a b\u0001\u007f'), 'a\\x20b\\x01\\x7f'],
    ['textSafe plain', textSafe('eth0'), 'eth0'],
    ['macHex text', macHex(Uint8Array.from([0, 0x16, 0x3e, 0x0c, 0xb8, 0x38]), ''), '00163e0cb838'],
    ['macHex json', macHex(Uint8Array.from([0, 0x16, 0x3e, 0x0c, 0xb8, 0x38]), ':'), '00:16:3e:0c:b8:38'],
  ];
  for (const [name, got, want] of cases) assert.equal(got, want, name);
});
