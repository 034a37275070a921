import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseBtf } from '../kernel/btf.js';
import { encodeConfig } from './config.js';
import { readElfSection } from '../kernel/elf.js';
import { ROOT } from '../shared/io/paths.js';

const OBJ = join(ROOT, 'build/pktpath.bpf.o');

test('encodeConfig writes struct pp_config fields by name from the object BTF', (t) => {
  if (!existsSync(OBJ)) return t.skip('build/pktpath.bpf.o not built');
  const btf = parseBtf(readElfSection(readFileSync(OBJ), '.BTF')!);
  const layout = btf.structLayout('pp_config')!;
  const off = (name: string): number => layout.members.find((m) => m.name === name)!.offset;
  const rodata = new Uint8Array(layout.size + 8).fill(0xaa);
  const addr = new Uint8Array(16);
  addr.set([10, 0, 0, 1]);
  const out = encodeConfig(btf, rodata, 'CFG', { addr, addr_family: 4, port: 8080, pid: 70000, mark_mask: 0xffffffff }, 8);
  const v = new DataView(out.buffer);
  assert.deepEqual([...out.subarray(8 + off('addr'), 8 + off('addr') + 16)], [...addr]);
  assert.equal(out[8 + off('addr_family')], 4);
  assert.equal(v.getUint16(8 + off('port'), true), 8080);
  assert.equal(v.getUint32(8 + off('pid'), true), 70000);
  assert.equal(v.getUint32(8 + off('mark_mask'), true), 0xffffffff);
  assert.equal(out[0], 0xaa, 'bytes before the variable untouched');
  assert.equal(rodata[8 + off('addr_family')], 0xaa, 'input not modified');
});

test('encodeConfig refuses unknown fields and values that do not fit', (t) => {
  if (!existsSync(OBJ)) return t.skip('build/pktpath.bpf.o not built');
  const btf = parseBtf(readElfSection(readFileSync(OBJ), '.BTF')!);
  const rodata = new Uint8Array(btf.structLayout('pp_config')!.size);
  assert.throws(() => encodeConfig(btf, rodata, 'CFG', { nope: 1 }), /no member nope/);
  assert.throws(() => encodeConfig(btf, rodata, 'CFG', { port: 70000 }), /does not fit/);
  assert.throws(() => encodeConfig(btf, rodata, 'CFG', { addr: new Uint8Array(17) }), /do not fit/);
  assert.throws(() => encodeConfig(btf, rodata, 'NOPE', {}), /no .rodata variable/);
});
