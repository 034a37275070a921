import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeCbpf, disasm } from './cbpf.js';
import type { CInsn } from './cbpf.js';

const bytes = (insns: CInsn[]): Uint8Array => {
  const out = new Uint8Array(insns.length * 8);
  const v = new DataView(out.buffer);
  insns.forEach((i, n) => {
    v.setUint16(n * 8, i.code, true);
    v.setUint8(n * 8 + 2, i.jt);
    v.setUint8(n * 8 + 3, i.jf);
    v.setUint32(n * 8 + 4, i.k, true);
  });
  return out;
};

test('decodeCbpf reads libpcap instructions (u16 code, u8 jt, u8 jf, u32 k)', () => {
  const prog = [
    { code: 0x28, jt: 0, jf: 0, k: 12 },
    { code: 0x15, jt: 0, jf: 3, k: 0x800 },
    { code: 0x06, jt: 0, jf: 0, k: 0xffffffff },
  ];
  assert.deepEqual(decodeCbpf(bytes(prog)), prog);
  assert.throws(() => decodeCbpf(new Uint8Array(12)), /not a whole number/);
});

test('disasm speaks tcpdump -d', () => {
  const table: [CInsn, string][] = [
    [{ code: 0x28, jt: 0, jf: 0, k: 12 }, 'ldh [12]'],
    [{ code: 0x30, jt: 0, jf: 0, k: 23 }, 'ldb [23]'],
    [{ code: 0x48, jt: 0, jf: 0, k: 14 }, 'ldh [x + 14]'],
    [{ code: 0xb1, jt: 0, jf: 0, k: 14 }, 'ldxb 4*([14]&0xf)'],
    [{ code: 0x80, jt: 0, jf: 0, k: 0 }, 'ld #len'],
    [{ code: 0x15, jt: 1, jf: 2, k: 6 }, 'jeq #0x6 jt +1 jf +2'],
    [{ code: 0x45, jt: 0, jf: 4, k: 0x1fff }, 'jset #0x1fff jt +0 jf +4'],
    [{ code: 0x54, jt: 0, jf: 0, k: 0xf0 }, 'and #0xf0'],
    [{ code: 0x0c, jt: 0, jf: 0, k: 0 }, 'add x'],
    [{ code: 0x16, jt: 0, jf: 0, k: 0 }, 'ret a'],
    [{ code: 0x06, jt: 0, jf: 0, k: 262144 }, 'ret #262144'],
    [{ code: 0x07, jt: 0, jf: 0, k: 0 }, 'tax'],
    [{ code: 0x87, jt: 0, jf: 0, k: 0 }, 'txa'],
    [{ code: 0x02, jt: 0, jf: 0, k: 3 }, 'st M[3]'],
  ];
  for (const [i, text] of table) assert.equal(disasm(i), text);
});
