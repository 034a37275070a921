import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { elfSections, elfSymbols } from '../kernel/elf.js';
import { ROOT } from '../shared/io/paths.js';
import { PLACEHOLDER } from './filter.js';
import { findPlaceholder, splice } from './splice.js';

const OBJ = join(ROOT, 'build/pktpath.bpf.o');

test('the probes object has both placeholders in .text, 2048 instructions each (PP_PCAP_SLOTS), nothing relocated inside', (t) => {
  if (!existsSync(OBJ)) return t.skip('build/pktpath.bpf.o not built');
  const elf = new Uint8Array(readFileSync(OBJ));
  for (const name of Object.values(PLACEHOLDER)) assert.equal(findPlaceholder(elf, name).slots, 2048);
  assert.throws(() => findPlaceholder(elf, 'pp_emit'), /no placeholder function pp_emit/);
});

test('splice rewrites exactly the placeholder bytes and refuses a body of another size', (t) => {
  if (!existsSync(OBJ)) return t.skip('build/pktpath.bpf.o not built');
  const elf = new Uint8Array(readFileSync(OBJ));
  const p = findPlaceholder(elf, PLACEHOLDER.l2);
  const body = new Uint8Array(p.slots * 8).fill(0x5a);
  const out = splice(elf, { [PLACEHOLDER.l2]: body });
  assert.equal(out.length, elf.length);
  let changed = 0;
  for (let i = 0; i < elf.length; i++) if (out[i] !== elf[i]) changed++;
  const inside = [...out.subarray(p.fileOffset, p.fileOffset + body.length)].every((b) => b === 0x5a);
  assert.ok(inside && changed <= body.length, `${changed} bytes changed`);
  assert.notEqual(elf[p.fileOffset], 0x5a, 'input untouched');
  assert.throws(() => splice(elf, { [PLACEHOLDER.l2]: new Uint8Array(8) }), /is 1 instructions; the placeholder has 2048/);
});

test('a relocation inside a placeholder means the object does not match bpf/pcap.h', (t) => {
  if (!existsSync(OBJ)) return t.skip('build/pktpath.bpf.o not built');
  const elf = new Uint8Array(readFileSync(OBJ));
  // make a program's relocation section apply to .text, its first entry inside pp_pcap_l3
  const sections = elfSections(elf);
  const relIndex = sections.findIndex((s) => s.type === 9 && s.size > 0);
  const rel = sections[relIndex]!;
  const sym = elfSymbols(elf).find((s) => s.name === PLACEHOLDER.l3)!;
  const bad = elf.slice();
  const v = new DataView(bad.buffer);
  const shoff = Number(v.getBigUint64(0x28, true));
  v.setUint32(shoff + relIndex * v.getUint16(0x3a, true) + 44, sections.findIndex((s) => s.name === '.text'), true);
  v.setBigUint64(rel.offset, BigInt(sym.value + 16), true);
  assert.throws(() => findPlaceholder(bad, PLACEHOLDER.l3), /placeholder pp_pcap_l3 has a relocation at \+16/);
});
