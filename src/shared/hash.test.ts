import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hash3, mix32 } from './hash.js';

test('mix32 spreads a difference in any byte over the low bits a cache slot takes', () => {
  for (let byte = 0; byte < 4; byte++) {
    const slots = new Set<number>();
    for (let v = 0; v < 256; v++) slots.add(mix32(v << (8 * byte)) & 255);
    assert.ok(slots.size > 150, `byte ${byte}: ${slots.size} of 256 slots`);
  }
  const le = (s: string): number => Buffer.from(s.padEnd(4, '\0')).readUInt32LE(0);
  assert.notEqual(mix32(le('pp1c')) & 255, mix32(le('pp1s')) & 255, 'names differing in their 4th byte');
  assert.notEqual(hash3(1, 2, 3), hash3(3, 2, 1));
  assert.ok(mix32(-1) >= 0, 'unsigned');
});
