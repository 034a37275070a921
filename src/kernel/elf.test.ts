import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { elfNameTablePlace, elfSectionNames, elfSections, elfSymbol, elfSymbols, readElfSection } from './elf.js';
import { ROOT } from '../shared/io/paths.js';
import { parseBtf } from './btf.js';

interface FakeSection {
  name: string;
  type: number;
  data: Uint8Array;
  /** NOBITS size (data must be empty). */
  size?: number;
}

/** Builds an ELF64 LE relocatable with the given sections (plus null and .shstrtab). */
function buildElf(sections: FakeSection[]): Uint8Array {
  const all: FakeSection[] = [...sections, { name: '.shstrtab', type: 3, data: new Uint8Array() }];
  const names: number[] = [0];
  const nameOffs = all.map((s) => {
    const off = names.length;
    names.push(...new TextEncoder().encode(s.name), 0);
    return off;
  });
  all[all.length - 1]!.data = Uint8Array.from(names);
  let pos = 64;
  const offsets = all.map((s) => {
    const at = pos;
    pos += s.data.length;
    return at;
  });
  const shoff = (pos + 7) & ~7;
  const out = new Uint8Array(shoff + (all.length + 1) * 64);
  const v = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
  v.setUint16(0x10, 1, true); // ET_REL
  v.setUint16(0x12, 247, true); // EM_BPF
  v.setBigUint64(0x28, BigInt(shoff), true);
  v.setUint16(0x34, 64, true);
  v.setUint16(0x3a, 64, true);
  v.setUint16(0x3c, all.length + 1, true);
  v.setUint16(0x3e, all.length, true);
  all.forEach((s, i) => {
    out.set(s.data, offsets[i]!);
    const h = shoff + (i + 1) * 64;
    v.setUint32(h, nameOffs[i]!, true);
    v.setUint32(h + 4, s.type, true);
    v.setBigUint64(h + 24, BigInt(offsets[i]!), true);
    v.setBigUint64(h + 32, BigInt(s.size ?? s.data.length), true);
  });
  return out;
}

const fake = buildElf([
  { name: '.text', type: 1, data: Uint8Array.from([1, 2, 3, 4]) },
  { name: '.BTF', type: 1, data: Uint8Array.from([9, 8, 7]) },
  { name: '.bss', type: 8, data: new Uint8Array(), size: 12 },
]);

test('reads sections of a synthetic ELF', () => {
  assert.deepEqual(elfSectionNames(fake), ['.text', '.BTF', '.bss', '.shstrtab']);
  const cases: [string, number[] | null][] = [
    ['.text', [1, 2, 3, 4]],
    ['.BTF', [9, 8, 7]],
    ['.bss', new Array<number>(12).fill(0)],
    ['.BTF.ext', null],
    ['', null],
  ];
  for (const [name, want] of cases) {
    const got = readElfSection(fake, name);
    assert.deepEqual(got === null ? null : [...got], want, name);
  }
  assert.equal(elfSections(fake)[2]?.type, 1);
  assert.deepEqual(elfSymbols(fake), [], 'no .symtab');
});

test('elfNameTablePlace finds the section names from the header and the section table alone', () => {
  const names = elfSections(fake).at(-1)!;
  assert.deepEqual(elfNameTablePlace(fake), { offset: names.offset, size: names.size });
  // an image with only the header and the section table read (the rest zeros) is enough
  const sparse = new Uint8Array(fake.length);
  const shoff = Number(new DataView(fake.buffer).getBigUint64(0x28, true));
  sparse.set(fake.subarray(0, 64));
  sparse.set(fake.subarray(shoff), shoff);
  assert.deepEqual(elfNameTablePlace(sparse), elfNameTablePlace(fake));
  assert.equal(elfNameTablePlace(fake.subarray(0, 63)), undefined, 'short header');
  assert.equal(elfNameTablePlace(fake.subarray(0, shoff)), undefined, 'no section table');
});

test('rejects non-ELF and unsupported ELF clearly', () => {
  const elf32 = fake.slice();
  elf32[4] = 1;
  const bigEndian = fake.slice();
  bigEndian[5] = 2;
  const cutSections = fake.slice(0, fake.length - 10);
  const cases: [string, Uint8Array, RegExp][] = [
    ['text', new TextEncoder().encode('hello world, not an object file'), /not an ELF file/],
    ['empty', new Uint8Array(), /not an ELF file/],
    ['short', fake.slice(0, 20), /truncated ELF header/],
    ['ELF32', elf32, /only ELF64/],
    ['big endian', bigEndian, /only little endian/],
    ['truncated section table', cutSections, /past the end/],
  ];
  for (const [what, data, re] of cases) {
    assert.throws(() => readElfSection(data, '.BTF'), re, what);
    assert.throws(() => elfSectionNames(data), re, what);
  }
});

function hasClang(): boolean {
  try {
    execFileSync('clang', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const BPF_SOURCE = `
struct pkt_cfg {
  unsigned int ifindex;
  unsigned short port;
  unsigned char flags:3, mode:5;
  unsigned long long mask;
  struct { int a; int b; } pair;
};
const volatile struct pkt_cfg CFG = {};
const volatile int LIMIT = 7;
int counter;
__attribute__((section("xdp"), used)) int prog(struct pkt_cfg *c) {
  return c->port + CFG.ifindex + LIMIT + counter;
}
`;

test('pulls .BTF out of a clang-compiled BPF object', (t) => {
  if (!hasClang()) {
    t.skip('clang not installed');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'pktpath-elf-'));
  try {
    writeFileSync(join(dir, 'x.c'), BPF_SOURCE);
    execFileSync('clang', ['-O2', '-g', '-target', 'bpf', '-c', 'x.c', '-o', 'x.o'], { cwd: dir, stdio: 'pipe' });
    const obj = readFileSync(join(dir, 'x.o'));
    const names = elfSectionNames(obj);
    for (const n of ['.BTF', '.BTF.ext', 'xdp', '.rodata', '.bss', '.symtab']) assert.ok(names.includes(n), n);

    const sec = readElfSection(obj, '.BTF');
    assert.ok(sec);
    const btf = parseBtf(sec);
    const layout = btf.structLayout('pkt_cfg');
    assert.ok(layout);
    assert.equal(layout.size, 24);
    assert.deepEqual(
      layout.members.map((m) => [m.name, m.offset, m.bitOffset, m.bitSize, m.size]),
      [
        ['ifindex', 0, 0, 0, 4],
        ['port', 4, 32, 0, 2],
        ['flags', 6, 48, 3, 1],
        ['mode', 6, 51, 5, 1],
        ['mask', 8, 64, 0, 8],
        ['pair', 16, 128, 0, 8],
      ],
    );
    assert.equal(btf.typeName(btf.findType('func', 'prog')!.id), 'int prog(struct pkt_cfg *)');
    const rodata = btf.datasecVars('.rodata');
    assert.deepEqual(rodata?.map((v) => v.name).sort(), ['CFG', 'LIMIT']);

    // clang leaves DATASEC var offsets at 0 in objects; the symbol table has the real ones.
    const syms = new Map(elfSymbols(obj).filter((s) => s.section === '.rodata').map((s) => [s.name, s]));
    assert.equal(syms.get('CFG')?.size, 24);
    assert.equal(syms.get('LIMIT')?.size, 4);
    assert.notEqual(syms.get('CFG')?.value, syms.get('LIMIT')?.value);
    const prog = elfSymbols(obj).find((s) => s.name === 'prog');
    assert.equal(prog?.section, 'xdp');
    assert.equal(prog?.type, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('elfSymbol finds one symbol as elfSymbols lists it, without decoding the rest', (t) => {
  const obj = join(ROOT, 'build/pktpath.bpf.o');
  if (!existsSync(obj)) return t.skip('build/pktpath.bpf.o not built');
  const file = new Uint8Array(readFileSync(obj));
  const all = elfSymbols(file);
  for (const name of ['CFG', 'pp_pcap_l2', 'pp_pcap_l3', 'tpbtf_kfree_skb']) {
    assert.deepEqual(elfSymbol(file, name), all.find((s) => s.name === name), name);
  }
  assert.equal(elfSymbol(file, 'pp_pcap'), undefined, 'a prefix is not a match');
  assert.equal(elfSymbol(file, 'no_such_symbol'), undefined);
});
