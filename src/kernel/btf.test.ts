import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BtfError, dropReasonNames, parseBtf } from './btf.js';
import type { Btf, BtfKind } from './btf.js';

import { BtfWriter, KIND } from '../../test/helpers/btf-encoder.js';

/** A fixture using every kind. Ids are fixed by construction order and asserted below. */
function buildAllKinds(): { data: Uint8Array; ids: Record<string, number> } {
  const w = new BtfWriter();
  const ids: Record<string, number> = {};
  ids.int = w.int('int', 4, 32, 1); // 1
  ids.uint = w.int('unsigned int', 4, 32); // 2
  ids.uchar = w.int('unsigned char', 1, 8, 2); // 3
  ids.bool = w.int('_Bool', 1, 8, 4); // 4
  ids.long = w.int('long', 8, 64, 1); // 5
  ids.u32 = w.ref('typedef', ids.uint, 'u32'); // 6
  ids.charPtr = w.ref('ptr', ids.uchar); // 7
  ids.arr16 = w.array(ids.uchar, ids.int, 16); // 8
  ids.fwdSkb = w.fwd('sk_buff'); // 9
  ids.skbPtr = w.ref('ptr', ids.fwdSkb); // 10
  ids.constInt = w.ref('const', ids.int); // 11
  ids.volConstInt = w.ref('volatile', ids.constInt); // 12
  ids.restrictPtr = w.ref('restrict', ids.charPtr); // 13
  ids.anonInner = w.composite('struct', '', 8, [['x', ids.u32, 0], ['y', ids.u32, 32]]); // 14
  // kind_flag bitfields in a union-of-struct: flags:3 @ bit 0, mode:5 @ bit 3
  ids.bits = w.composite('struct', 'bits', 4, [['flags', ids.uint, 0, 3], ['mode', ids.uint, 3, 5], ['rest', ids.u32, 0, 0]], true); // 15
  ids.anonUnion = w.composite('union', '', 8, [['whole', ids.long, 0], ['', ids.anonInner, 0]]); // 16
  ids.foo = w.composite('struct', 'foo', 48, [
    ['a', ids.int, 0],
    ['p', ids.charPtr, 64],
    ['buf', ids.arr16, 128],
    ['', ids.anonUnion, 256],
    ['skb', ids.skbPtr, 320],
  ]); // 17
  ids.enumU = w.enum('color', 4, [['RED', 0], ['GREEN', 1], ['BIG', 0xffff0000]]); // 18
  ids.enumS = w.enum('sgn', 4, [['NEG', -1], ['POS', 7]], true); // 19
  ids.e64u = w.enum64('big64', 8, [['HUGE', 0xffff_0000_0000_0001n], ['ONE', 1n]]); // 20
  ids.e64s = w.enum64('sgn64', 8, [['MINUS', -5n], ['LARGE', 1n << 40n]], true); // 21
  ids.proto = w.proto(ids.int, [['skb', ids.skbPtr], ['len', ids.u32]]); // 22
  ids.func = w.func('do_thing', ids.proto, 1); // 23
  ids.varProto = w.proto(ids.int, [['fmt', ids.charPtr], ['', 0]]); // 24 (variadic)
  ids.printk = w.func('printk', ids.varProto, 2); // 25
  ids.var = w.var('counter', ids.long, 1); // 26
  ids.var2 = w.var('flag', ids.bool, 0); // 27
  ids.sec = w.datasec('.data', 16, [[ids.var, 0, 8], [ids.var2, 8, 1]]); // 28
  ids.float = w.float('double', 8); // 29
  ids.declTag = w.declTag('noinline', ids.func, -1); // 30
  ids.typeTag = w.ref('type_tag', ids.uchar, 'user'); // 31
  ids.userPtr = w.ref('ptr', ids.typeTag); // 32
  ids.fwdUnion = w.fwd('u_fwd', true); // 33
  ids.voidPtr = w.ref('ptr', 0); // 34
  ids.voidProto = w.proto(0, [['', ids.voidPtr], ['skb', ids.skbPtr], ['loc', 0]]); // 35
  ids.tpPtr = w.ref('ptr', ids.voidProto); // 36
  ids.tpTypedef = w.ref('typedef', ids.tpPtr, 'btf_trace_my_tp'); // 37
  ids.ptrArr = w.ref('ptr', ids.arr16); // 38
  ids.arrPtr = w.array(ids.charPtr, ids.int, 4); // 39
  ids.constPtr = w.ref('const', ids.charPtr); // 40
  ids.ptrConstPtr = w.ref('ptr', ids.constPtr); // 41
  ids.noArgProto = w.proto(ids.charPtr, []); // 42
  ids.fnPtr = w.ref('ptr', ids.noArgProto); // 43
  // legacy (no kind_flag) bitfield: INT with bits < size*8 and an int bit offset
  ids.bf3 = w.int('unsigned int', 4, 3, 0, 2); // 44
  ids.legacy = w.composite('struct', 'legacy', 4, [['lo', ids.bf3, 8]]); // 45
  ids.dupStruct = w.composite('struct', 'color', 4, [['c', ids.enumU, 0]]); // 46: same name as the enum
  return { data: w.build(), ids };
}

const fixture = buildAllKinds();

test('every kind decodes', () => {
  const btf = parseBtf(fixture.data);
  const { ids } = fixture;
  assert.equal(btf.startId, 1);
  assert.equal(btf.endId, 47);
  const kinds: [number, BtfKind][] = [
    [0, 'void'], [ids.int!, 'int'], [ids.charPtr!, 'ptr'], [ids.arr16!, 'array'], [ids.foo!, 'struct'],
    [ids.anonUnion!, 'union'], [ids.enumU!, 'enum'], [ids.fwdSkb!, 'fwd'], [ids.u32!, 'typedef'],
    [ids.volConstInt!, 'volatile'], [ids.constInt!, 'const'], [ids.restrictPtr!, 'restrict'], [ids.func!, 'func'],
    [ids.proto!, 'func_proto'], [ids.var!, 'var'], [ids.sec!, 'datasec'], [ids.float!, 'float'],
    [ids.declTag!, 'decl_tag'], [ids.typeTag!, 'type_tag'], [ids.e64u!, 'enum64'],
  ];
  for (const [id, kind] of kinds) {
    assert.equal(btf.type(id).kind, kind, `id ${id}`);
    assert.equal(btf.kindOf(id), kind, `kindOf ${id}`);
  }

  assert.deepEqual(btf.type(ids.int!), { id: 1, name: 'int', kind: 'int', size: 4, bits: 32, bitOffset: 0, signed: true, char: false, bool: false });
  assert.deepEqual(btf.type(ids.uchar!), { id: 3, name: 'unsigned char', kind: 'int', size: 1, bits: 8, bitOffset: 0, signed: false, char: true, bool: false });
  assert.equal((btf.type(ids.bool!) as { bool: boolean }).bool, true);
  assert.deepEqual(btf.type(ids.arr16!), { id: 8, name: '', kind: 'array', elemType: 3, indexType: 1, nelems: 16 });
  assert.deepEqual(btf.type(ids.fwdSkb!), { id: 9, name: 'sk_buff', kind: 'fwd', fwdKind: 'struct' });
  assert.deepEqual(btf.type(ids.fwdUnion!), { id: 33, name: 'u_fwd', kind: 'fwd', fwdKind: 'union' });
  assert.deepEqual(btf.type(ids.func!), { id: 23, name: 'do_thing', kind: 'func', type: 22, linkage: 'global' });
  assert.deepEqual(btf.type(ids.printk!), { id: 25, name: 'printk', kind: 'func', type: 24, linkage: 'extern' });
  assert.deepEqual(btf.type(ids.varProto!), { id: 24, name: '', kind: 'func_proto', returnType: 1, params: [{ name: 'fmt', typeId: 7 }], variadic: true });
  assert.deepEqual(btf.type(ids.var2!), { id: 27, name: 'flag', kind: 'var', type: 4, linkage: 'static' });
  assert.deepEqual(btf.type(ids.sec!), {
    id: 28, name: '.data', kind: 'datasec', size: 16,
    vars: [{ typeId: 26, offset: 0, size: 8 }, { typeId: 27, offset: 8, size: 1 }],
  });
  assert.deepEqual(btf.type(ids.float!), { id: 29, name: 'double', kind: 'float', size: 8 });
  assert.deepEqual(btf.type(ids.declTag!), { id: 30, name: 'noinline', kind: 'decl_tag', type: 23, componentIdx: -1 });
  assert.deepEqual(btf.type(ids.typeTag!), { id: 31, name: 'user', kind: 'type_tag', type: 3 });
  assert.deepEqual(btf.type(ids.bits!), {
    id: 15, name: 'bits', kind: 'struct', size: 4,
    members: [
      { name: 'flags', typeId: 2, bitOffset: 0, bitSize: 3 },
      { name: 'mode', typeId: 2, bitOffset: 3, bitSize: 5 },
      { name: 'rest', typeId: 6, bitOffset: 0, bitSize: 0 },
    ],
  });
  assert.throws(() => btf.type(47), BtfError);
  assert.throws(() => btf.type(-1), BtfError);
});

test('enum signedness and enum64', () => {
  const btf = parseBtf(fixture.data);
  const cases: [string, [number | bigint, string][]][] = [
    ['color', [[0, 'RED'], [1, 'GREEN'], [0xffff0000, 'BIG']]],
    ['sgn', [[-1, 'NEG'], [7, 'POS']]],
    ['big64', [[0xffff_0000_0000_0001n, 'HUGE'], [1n, 'ONE']]],
    ['sgn64', [[-5n, 'MINUS'], [1n << 40n, 'LARGE']]],
  ];
  for (const [name, expected] of cases) assert.deepEqual([...btf.enumValues(name)!], expected, name);
  assert.equal(btf.enumValues('nope'), undefined);
  assert.equal(btf.enumValues('foo'), undefined, 'a struct is not an enum');
  assert.deepEqual([...btf.enumValues(fixture.ids.enumS!)!], [[-1, 'NEG'], [7, 'POS']]);
});

test('findType picks kind and first match', () => {
  const btf = parseBtf(fixture.data);
  assert.equal(btf.findType('enum', 'color')?.id, fixture.ids.enumU);
  assert.equal(btf.findType('struct', 'color')?.id, fixture.ids.dupStruct);
  assert.equal(btf.findType('int', 'unsigned int')?.id, fixture.ids.uint, 'first of two same-named ints');
  assert.equal(btf.findType('struct', 'missing'), undefined);
  assert.equal(btf.findType('struct', ''), undefined);
  assert.deepEqual(btf.idsByName('color'), [fixture.ids.enumU, fixture.ids.dupStruct]);
  const foo = btf.findType('struct', 'foo');
  assert.equal(foo?.members.length, 5); // typed as a struct: no cast needed
});

test('resolve and sizeOf', () => {
  const btf = parseBtf(fixture.data);
  const { ids } = fixture;
  assert.equal(btf.resolve(ids.u32!).id, ids.uint);
  assert.equal(btf.resolve(ids.volConstInt!).id, ids.int);
  assert.equal(btf.resolve(ids.typeTag!).id, ids.uchar);
  assert.equal(btf.resolve(ids.charPtr!).id, ids.charPtr, 'pointers are not skipped');
  const sizes: [number, number][] = [
    [ids.int!, 4], [ids.u32!, 4], [ids.charPtr!, 8], [ids.arr16!, 16], [ids.arrPtr!, 32], [ids.foo!, 48],
    [ids.anonUnion!, 8], [ids.enumU!, 4], [ids.e64u!, 8], [ids.float!, 8], [ids.var!, 8], [ids.sec!, 16],
    [ids.volConstInt!, 4],
  ];
  for (const [id, size] of sizes) assert.equal(btf.sizeOf(id), size, `sizeOf(${id})`);
  for (const id of [0, ids.func!, ids.proto!, ids.fwdSkb!]) assert.throws(() => btf.sizeOf(id), BtfError);
});

test('typeName spells C types', () => {
  const btf = parseBtf(fixture.data);
  const { ids } = fixture;
  const cases: [number, string][] = [
    [0, 'void'],
    [ids.int!, 'int'],
    [ids.u32!, 'u32'],
    [ids.charPtr!, 'unsigned char *'],
    [ids.skbPtr!, 'struct sk_buff *'],
    [ids.arr16!, 'unsigned char[16]'],
    [ids.ptrArr!, 'unsigned char (*)[16]'],
    [ids.arrPtr!, 'unsigned char *[4]'],
    [ids.constInt!, 'const int'],
    [ids.volConstInt!, 'volatile const int'],
    [ids.restrictPtr!, 'unsigned char * restrict'],
    [ids.ptrConstPtr!, 'unsigned char * const *'],
    [ids.foo!, 'struct foo'],
    [ids.anonUnion!, 'union {...}'],
    [ids.enumU!, 'enum color'],
    [ids.e64u!, 'enum big64'],
    [ids.fwdUnion!, 'union u_fwd'],
    [ids.proto!, 'int (struct sk_buff *, u32)'],
    [ids.func!, 'int do_thing(struct sk_buff *, u32)'],
    [ids.printk!, 'int printk(unsigned char *, ...)'],
    [ids.fnPtr!, 'unsigned char *(*)(void)'],
    [ids.tpPtr!, 'void (*)(void *, struct sk_buff *, void)'],
    [ids.userPtr!, 'unsigned char *'],
    [ids.var!, 'long counter'],
    [ids.float!, 'double'],
  ];
  for (const [id, name] of cases) assert.equal(btf.typeName(id), name, `typeName(${id})`);
});

test('structLayout flattens anonymous members and decodes bitfields', () => {
  const btf = parseBtf(fixture.data);
  const { ids } = fixture;
  const layout = btf.structLayout('foo');
  assert.ok(layout);
  assert.equal(layout.size, 48);
  assert.equal(layout.kind, 'struct');
  const rows = layout.members.map((m) => [m.name, m.offset, m.bitOffset, m.bitSize, m.size, m.typeName]);
  assert.deepEqual(rows, [
    ['a', 0, 0, 0, 4, 'int'],
    ['p', 8, 64, 0, 8, 'unsigned char *'],
    ['buf', 16, 128, 0, 16, 'unsigned char[16]'],
    ['whole', 32, 256, 0, 8, 'long'],
    ['x', 32, 256, 0, 4, 'u32'],
    ['y', 36, 288, 0, 4, 'u32'],
    ['skb', 40, 320, 0, 8, 'struct sk_buff *'],
  ]);
  assert.equal(layout.members[4]?.typeId, ids.u32);

  const bits = btf.structLayout('bits')!;
  assert.deepEqual(bits.members.map((m) => [m.name, m.offset, m.bitOffset, m.bitSize]), [
    ['flags', 0, 0, 3],
    ['mode', 0, 3, 5],
    ['rest', 0, 0, 0],
  ]);
  const legacy = btf.structLayout('legacy')!;
  assert.deepEqual(legacy.members.map((m) => [m.name, m.offset, m.bitOffset, m.bitSize]), [['lo', 1, 10, 3]]);

  assert.equal(btf.structLayout(ids.anonUnion!)?.kind, 'union');
  assert.equal(btf.structLayout('color')?.id, ids.dupStruct, 'struct, not the same-named enum');
  assert.equal(btf.structLayout('missing'), undefined);
});

test('datasecVars, funcs and tracepointArgs', () => {
  const btf = parseBtf(fixture.data);
  const { ids } = fixture;
  assert.deepEqual(btf.datasecVars('.data'), [
    { name: 'counter', offset: 0, size: 8, typeId: ids.long, varId: ids.var },
    { name: 'flag', offset: 8, size: 1, typeId: ids.bool, varId: ids.var2 },
  ]);
  assert.equal(btf.datasecVars('.bss'), undefined);

  const funcs = [...btf.funcs()];
  assert.deepEqual(funcs, [
    {
      name: 'do_thing', id: ids.func, linkage: 'global', returnTypeId: ids.int, variadic: false,
      params: [
        { name: 'skb', typeId: ids.skbPtr, typeName: 'struct sk_buff *' },
        { name: 'len', typeId: ids.u32, typeName: 'u32' },
      ],
    },
    {
      name: 'printk', id: ids.printk, linkage: 'extern', returnTypeId: ids.int, variadic: true,
      params: [{ name: 'fmt', typeId: ids.charPtr, typeName: 'unsigned char *' }],
    },
  ]);

  assert.deepEqual(btf.tracepointArgs('my_tp'), ['struct sk_buff *', 'void']);
  assert.equal(btf.tracepointArgs('nope'), null);
});

/** Module-style split BTF on top of the all-kinds fixture. */
function buildSplit(base: Btf): { data: Uint8Array; ids: Record<string, number> } {
  const w = new BtfWriter(base.endId, base.strEnd);
  const ids: Record<string, number> = {};
  const nameOffOfInt = 1; // first string added to the base fixture
  ids.modStruct = w.composite('struct', 'mod_priv', 16, [
    ['skb', fixture.ids.skbPtr!, 0], // a base type by id
    ['id', fixture.ids.u32!, 64],
    ['n', fixture.ids.int!, 96],
  ]);
  ids.modPtr = w.ref('ptr', ids.modStruct);
  ids.modEnum = w.enum('mod_state', 4, [['MOD_UP', 1]]);
  ids.aliasTd = w.ref('typedef', fixture.ids.int!, nameOffOfInt); // name is the base's "int" string
  ids.modFunc = w.func('mod_fn', w.proto(fixture.ids.int!, [['p', ids.modPtr]]));
  return { data: w.build(), ids };
}

test('split BTF continues ids and string offsets after the base', () => {
  const base = parseBtf(fixture.data);
  const intName = base.findType('int', 'int')!;
  const { data, ids } = buildSplit(base);
  const { modStruct, modPtr, aliasTd, modFunc } = ids as Record<'modStruct' | 'modPtr' | 'aliasTd' | 'modFunc', number>;
  const split = parseBtf(data, base);

  assert.equal(split.base, base);
  assert.equal(split.startId, base.endId);
  assert.equal(modStruct, base.endId);
  assert.equal(split.endId, base.endId + 6);
  assert.equal(split.localTypeCount, 6);
  assert.equal(split.type(modStruct).name, 'mod_priv');
  assert.equal(split.type(aliasTd).name, 'int');
  assert.equal(split.type(fixture.ids.foo!).name, 'foo', 'base ids resolve through the base');
  assert.equal(split.findType('struct', 'foo')?.id, fixture.ids.foo);
  assert.equal(split.findType('struct', 'mod_priv')?.id, modStruct);
  assert.equal(split.findType('typedef', 'int')?.id, aliasTd, 'split type named by a base string');
  assert.deepEqual(split.idsByName('int'), [intName.id, aliasTd]);
  assert.equal(split.typeName(modPtr), 'struct mod_priv *');
  assert.equal(split.typeName(modFunc), 'int mod_fn(struct mod_priv *)');
  assert.deepEqual(
    split.structLayout('mod_priv')!.members.map((m) => [m.name, m.offset, m.typeName]),
    [['skb', 0, 'struct sk_buff *'], ['id', 8, 'u32'], ['n', 12, 'int']],
  );
  assert.deepEqual([...split.enumValues('mod_state')!], [[1, 'MOD_UP']]);
  assert.deepEqual([...split.funcs()].map((f) => f.name), ['do_thing', 'printk', 'mod_fn']);
  assert.deepEqual([...split.funcs(false)].map((f) => f.name), ['mod_fn']);
  assert.equal(base.findType('struct', 'mod_priv'), undefined, 'the base does not see split types');
});

test('dropReasonNames strips prefixes and sentinels', () => {
  const w = new BtfWriter();
  w.enum('skb_drop_reason', 4, [
    ['SKB_NOT_DROPPED_YET', 0],
    ['SKB_CONSUMED', 1],
    ['SKB_DROP_REASON_NOT_SPECIFIED', 2],
    ['SKB_DROP_REASON_NO_SOCKET', 3],
    ['SKB_DROP_REASON_PKT_TOO_SMALL', 4],
    ['SKB_DROP_REASON_MAX', 5],
    ['SKB_DROP_REASON_SUBSYS_MASK', 0xffff0000],
  ]);
  const names = dropReasonNames(parseBtf(w.build()));
  assert.deepEqual([...names], [
    [0, 'NOT_DROPPED_YET'],
    [1, 'CONSUMED'],
    [2, 'NOT_SPECIFIED'],
    [3, 'NO_SOCKET'],
    [4, 'PKT_TOO_SMALL'],
  ]);
  assert.equal(dropReasonNames(parseBtf(fixture.data)).size, 0, 'no enum: empty map');
});

test('malformed input fails clearly', () => {
  const good = fixture.data;
  const swapped = good.slice();
  swapped[0] = 0xeb;
  swapped[1] = 0x9f;
  const unknownKind = good.slice();
  new DataView(unknownKind.buffer).setUint32(24 + 4, 25 << 24, true);
  const truncated = good.slice();
  new DataView(truncated.buffer).setUint32(12, 10_000, true);
  const cases: [string, Uint8Array, RegExp][] = [
    ['short', new Uint8Array(8), /too short/],
    ['magic', new Uint8Array(64), /bad magic/],
    ['big endian', swapped, /big-endian/],
    ['unknown kind', unknownKind, /unknown kind 25/],
    ['truncated', truncated, /exceeds data length/],
  ];
  for (const [what, data, re] of cases) {
    assert.throws(() => parseBtf(data), (e: unknown) => e instanceof BtfError && re.test(e.message), what);
  }
});

test('parses a BTF view that does not start at offset 0 of its buffer', () => {
  const padded = new Uint8Array(fixture.data.length + 3);
  padded.set(fixture.data, 3);
  const btf = parseBtf(padded.subarray(3));
  assert.equal(btf.structLayout('foo')?.size, 48);
});

function hasTool(tool: string): boolean {
  try {
    execFileSync(tool, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

test('the fixture encoder agrees with bpftool', (t) => {
  if (!hasTool('bpftool')) {
    t.skip('bpftool not installed');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'pktpath-btf-'));
  try {
    const file = join(dir, 'fixture.btf');
    writeFileSync(file, fixture.data);
    const raw = execFileSync('bpftool', ['btf', 'dump', 'file', file, 'format', 'raw'], { encoding: 'utf8' });
    const base = parseBtf(fixture.data);
    checkAgainstBpftool(base, raw);

    const splitFile = join(dir, 'split.btf');
    const split = buildSplit(base);
    writeFileSync(splitFile, split.data);
    const splitRaw = execFileSync('bpftool', ['-B', file, 'btf', 'dump', 'file', splitFile, 'format', 'raw'], { encoding: 'utf8' });
    checkAgainstBpftool(parseBtf(split.data, base), splitRaw);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Compares every type's kind and name, and every struct/union member, with `bpftool btf dump format raw`. */
function checkAgainstBpftool(btf: Btf, raw: string): number {
  let current: number | undefined;
  let memberIdx = 0;
  let checked = 0;
  for (const line of raw.split('\n')) {
    const head = /^\[(\d+)\] (\w+) '([^']*)'/.exec(line);
    if (head) {
      const id = Number(head[1]);
      const t = btf.type(id);
      assert.equal(t.kind.toUpperCase(), head[2], `kind of ${id}`);
      assert.equal(t.name || '(anon)', head[3], `name of ${id}`);
      current = t.kind === 'struct' || t.kind === 'union' ? id : undefined;
      memberIdx = 0;
      checked++;
      continue;
    }
    const mem = current === undefined ? null : /^\t'([^']*)' type_id=(\d+) bits_offset=(\d+)(?: bitfield_size=(\d+))?/.exec(line);
    if (mem && current !== undefined) {
      const t = btf.type(current);
      assert.ok(t.kind === 'struct' || t.kind === 'union');
      const m = t.members[memberIdx++];
      assert.ok(m, `member ${memberIdx} of ${current}`);
      assert.deepEqual(
        [m.name || '(anon)', m.typeId, m.bitOffset, m.bitSize],
        [mem[1], Number(mem[2]), Number(mem[3]), Number(mem[4] ?? 0)],
        `member ${memberIdx - 1} of type ${current}`,
      );
    }
  }
  assert.equal(checked, btf.endId - btf.startId, 'bpftool listed every type');
  return checked;
}

const VMLINUX = '/sys/kernel/btf/vmlinux';

test('host vmlinux BTF', async (t) => {
  if (!existsSync(VMLINUX)) {
    t.skip(`${VMLINUX} not present (kernel without CONFIG_DEBUG_INFO_BTF?)`);
    return;
  }
  const data = readFileSync(VMLINUX);
  const t0 = performance.now();
  const btf = parseBtf(data);
  const parseMs = performance.now() - t0;
  const sk = btf.structLayout('sk_buff');
  const indexMs = performance.now() - t0 - parseMs;
  t.diagnostic(`parsed ${data.length} bytes, ${btf.endId - 1} types in ${parseMs.toFixed(1)} ms; first lookup (builds index) ${indexMs.toFixed(1)} ms`);

  assert.ok(sk, 'struct sk_buff');
  const byName = new Map(sk.members.map((m) => [m.name, m]));
  for (const name of ['len', 'head', 'data', 'network_header']) assert.ok(byName.has(name), `sk_buff.${name}`);
  assert.equal(byName.get('head')?.typeName, 'unsigned char *');
  assert.equal(byName.get('len')?.size, 4);

  const reasons = dropReasonNames(btf);
  const reasonNames = new Set(reasons.values());
  assert.ok(reasonNames.has('NO_SOCKET'));
  assert.ok(reasonNames.has('NOT_SPECIFIED'));
  assert.ok(!reasonNames.has('MAX'));

  const args = btf.tracepointArgs('kfree_skb');
  assert.ok(args, 'btf_trace_kfree_skb');
  assert.equal(args[0], 'struct sk_buff *');
  assert.equal(btf.tracepointArgs('no_such_tracepoint_xyz'), null);

  const tcp = btf.findType('func', 'tcp_v4_rcv');
  assert.ok(tcp);
  assert.equal(btf.typeName(tcp.id), 'int tcp_v4_rcv(struct sk_buff *)');

  await t.test('matches bpftool for every type and member', (st) => {
    if (!hasTool('bpftool')) {
      st.skip('bpftool not installed');
      return;
    }
    const raw = execFileSync('bpftool', ['btf', 'dump', 'file', VMLINUX, 'format', 'raw'], {
      encoding: 'utf8',
      maxBuffer: 1 << 30,
    });
    const n = checkAgainstBpftool(btf, raw);
    st.diagnostic(`${n} types compared`);
  });
});
