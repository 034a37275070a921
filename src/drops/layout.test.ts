import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseBtf } from '../kernel/btf.js';
import { readElfSection } from '../kernel/elf.js';
import { DROP_KEY, DROP_SAMPLE, DROP_VAL } from './layout.js';
import { ROOT } from '../shared/io/paths.js';

// bpf/drops.h is the one definition; this holds the TypeScript mirror to the compiled object.
const OBJECT = join(ROOT, 'build/drops.bpf.o');

const CASES: [string, Record<string, number>][] = [
  ['pp_drop_key', DROP_KEY],
  ['pp_drop_val', DROP_VAL],
  ['pp_drop_sample', DROP_SAMPLE],
];

for (const [name, mirror] of CASES) {
  test(`struct ${name} in build/drops.bpf.o matches src/drops/layout.ts`, (t) => {
    if (!existsSync(OBJECT)) return t.skip('build/drops.bpf.o not built (run npm run setup)');
    const sec = readElfSection(readFileSync(OBJECT), '.BTF');
    assert.ok(sec, 'the object has BTF');
    const layout = parseBtf(sec).structLayout(name);
    assert.ok(layout, `${name} is in the object's BTF`);
    assert.equal(layout.size, mirror.size, `sizeof(struct ${name})`);
    const members = layout.members.filter((m) => !m.name.startsWith('pad'));
    assert.deepEqual(members.map((m) => m.name).sort(), Object.keys(mirror).filter((k) => k !== 'size').sort(), 'same members');
    for (const m of members) assert.equal(m.offset, mirror[m.name], `offset of ${name}.${m.name}`);
  });
}
