import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { objectInfo } from './object.js';
import { elfSymbols, readElfSection } from '../../kernel/elf.js';
import { parseBtf } from '../../kernel/btf.js';
import { BPF_OBJECT } from '../../shared/io/paths.js';

test('objectInfo reads the BTF and the CFG offset as a read of the whole object file gives them', (t) => {
  if (!existsSync(BPF_OBJECT)) {
    t.skip(`BPF object not built (${BPF_OBJECT}): npm run setup`);
    return;
  }
  const whole = readFileSync(BPF_OBJECT);
  const want = parseBtf(readElfSection(whole, '.BTF')!);
  const got = objectInfo(BPF_OBJECT);
  assert.equal(got.cfgOffset, elfSymbols(whole).find((s) => s.name === 'CFG' && s.section === '.rodata')?.value);
  assert.equal(got.btf.localTypeCount, want.localTypeCount);
  assert.ok(want.idsByName('CFG').length > 0, 'the object has a CFG variable');
  assert.deepEqual(got.btf.idsByName('CFG'), want.idsByName('CFG'));
  assert.deepEqual(got.btf.datasecVars('.rodata'), want.datasecVars('.rodata'));
});
