import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { analyze } from './bounds.js';
import { decodeCbpf } from './cbpf.js';
import type { CInsn } from './cbpf.js';
import { rejectAll, RESULT, TooLarge, translate } from './translate.js';
import { native } from '../engine/io/native.js';
import { ROOT } from '../shared/io/paths.js';
import { runBody } from '../../test/helpers/ebpf-vm.js';
import { readPcap, tcpdumpAccepts } from '../../test/helpers/pcap-file.js';

const SLOT = 2048;
const WINDOW = 512;
const I = (code: number, k = 0, jt = 0, jf = 0): CInsn => ({ code, jt, jf, k });
const body = (prog: CInsn[], slot = SLOT): Uint8Array => translate(prog, analyze(prog, WINDOW), slot, WINDOW);
const compile = (expr: string, linktype = 1): CInsn[] => decodeCbpf(native().pcapCompile(expr, linktype, 262144));

test('a body fills its placeholder exactly and ends with exit; every jump stays inside', () => {
  for (const b of [body(compile('tcp port 80')), rejectAll(SLOT)]) {
    assert.equal(b.length, SLOT * 8);
    const v = new DataView(b.buffer);
    assert.equal(v.getUint8((SLOT - 1) * 8), 0x95, 'exit last');
    for (let pc = 0; pc < SLOT; pc++) {
      const code = v.getUint8(pc * 8);
      if ((code & 7) === 5 || (code & 7) === 6) {
        if ((code & 0xf0) === 0x90) continue;
        const to = pc + 1 + v.getInt16(pc * 8 + 2, true);
        assert.ok(to > pc && to < SLOT, `jump at ${pc} to ${to}`);
      }
    }
  }
  assert.equal(runBody(rejectAll(SLOT), new Uint8Array(64), 64), RESULT.reject);
});

test('a program larger than the placeholder is refused with the counts', () => {
  assert.throws(() => body(compile('tcp port 80'), 16), (err: unknown) => err instanceof TooLarge && /compiles to \d+ eBPF instructions; a probe has room for 16/.test((err as Error).message));
});

test('classic BPF semantics the translation keeps (run on packet bytes)', () => {
  const pkt = Uint8Array.from({ length: 64 }, (_, i) => i);
  const ret = I(0x16); // ret a
  const table: [string, CInsn[], number, number?][] = [
    ['ldh [2] = 0x0203', [I(0x28, 2), ret], 1],
    ['ld [60] (past caplen 62 -> short)', [I(0x20, 60), ret], RESULT.short, 62],
    ['ld [58] within caplen 62', [I(0x20, 58), ret], 1, 62],
    ['ldb [x+k] with X from ldxb 4*([k]&0xf)', [I(0xb1, 5), I(0x50, 1), I(0x15, 21, 0, 1), I(0x06, 1), I(0x06, 0)], 1],
    ['ld #len', [I(0x80), I(0x15, 1500, 0, 1), I(0x06, 1), I(0x06, 0)], 1],
    ['lsh x by 32 clears A', [I(0x00, 1), I(0x01, 32), I(0x6c), ret], 0],
    ['rsh x by 31', [I(0x00, 0x80000000), I(0x01, 31), I(0x7c), ret], 1],
    ['div x by 0 rejects', [I(0x00, 7), I(0x01, 0), I(0x3c), I(0x06, 1)], 0],
    ['mod x', [I(0x00, 7), I(0x01, 4), I(0x9c), I(0x15, 3, 0, 1), I(0x06, 1), I(0x06, 0)], 1],
    ['jset', [I(0x00, 6), I(0x45, 4, 0, 1), I(0x06, 1), I(0x06, 0)], 1],
    ['jgt is unsigned 32-bit', [I(0x00, 0xffffffff), I(0x25, 1, 0, 1), I(0x06, 1), I(0x06, 0)], 1],
    ['add wraps at 32 bits', [I(0x00, 0xffffffff), I(0x04, 2), I(0x15, 1, 0, 1), I(0x06, 1), I(0x06, 0)], 1],
    ['neg', [I(0x00, 1), I(0x84), I(0x15, 0xffffffff, 0, 1), I(0x06, 1), I(0x06, 0)], 1],
    ['st/ld M[15]', [I(0x00, 9), I(0x02, 15), I(0x00, 0), I(0x60, 15), ret], 1],
    ['tax/txa', [I(0x00, 3), I(0x07), I(0x00, 0), I(0x87), ret], 1],
    ['ret a of 0 rejects', [I(0x00, 0), ret], 0],
  ];
  for (const [what, prog, want, caplen] of table) {
    assert.equal(runBody(body(prog), pkt, 1500, caplen ?? pkt.length), want, what);
  }
});

test('translated expressions decide the corpus as tcpdump does (Ethernet and raw-IP forms)', (t) => {
  if (spawnSync('tcpdump', ['--version']).status !== 0) return t.skip('tcpdump is not installed');
  const path = join(ROOT, 'test/fixtures/pcap-corpus.pcap');
  const frames = readPcap(new Uint8Array(readFileSync(path)));
  const exprs = readFileSync(join(ROOT, 'test/fixtures/pcap-expressions.txt'), 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));
  const ip = frames.map((f, i) => [f, i] as const).filter(([f]) => f.data[12] === 0x08 && f.data[13] === 0x00 || f.data[12] === 0x86 && f.data[13] === 0xdd);
  let pairs = 0;
  const mismatches: string[] = [];
  for (const expr of exprs) {
    const want = tcpdumpAccepts(path, frames, expr);
    const check = (prog: CInsn[], items: readonly (readonly [Uint8Array, number, number])[], form: string): void => {
      let b: Uint8Array;
      try {
        b = body(prog);
      } catch {
        return; // refused: the refusal tests cover these
      }
      for (const [bytes, wirelen, i] of items) {
        pairs++;
        if ((runBody(b, bytes, wirelen) === RESULT.match) !== want.has(i)) mismatches.push(`${form} "${expr}" packet ${i}`);
      }
    };
    check(compile(expr), frames.map((f, i) => [f.data.subarray(0, WINDOW), f.wirelen, i] as const), 'ethernet');
    if (/\b(?:ether|link)\s*\[/.test(expr)) continue;
    let raw: CInsn[];
    try {
      raw = compile(expr, 12);
    } catch {
      continue; // no raw-IP form
    }
    check(raw, ip.map(([f, i]) => [f.data.subarray(14, 14 + WINDOW), f.wirelen, i] as const), 'raw IP');
  }
  t.diagnostic(`${exprs.length} expressions, ${pairs} (expression, packet) pairs`);
  assert.deepEqual(mismatches.slice(0, 10), []);
});
