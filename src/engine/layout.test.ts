import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseBtf } from '../kernel/btf.js';
import { readElfSection } from '../kernel/elf.js';
import { EVENT, NF_NAMES, PKT, SIZES, TUPLE } from './layout.js';
import { ROOT } from '../shared/io/paths.js';

// The kernel/user event layout is defined once, in bpf/event.h. This test holds the
// TypeScript offsets to the compiled object's BTF, so the two cannot drift apart.
const OBJECTS = ['build/pktpath.bpf.o'];

for (const rel of OBJECTS) {
  test(`struct pp_event and pp_tuple in ${rel} match src/engine/layout.ts`, (t) => {
    const path = join(ROOT, rel);
    if (!existsSync(path)) return t.skip(`${rel} not built (run npm run setup)`);
    const sec = readElfSection(readFileSync(path), '.BTF');
    assert.ok(sec, 'object has a .BTF section');
    const btf = parseBtf(sec);
    const ev = btf.structLayout('pp_event');
    assert.ok(ev, 'pp_event is in the object BTF');
    assert.equal(ev.size, EVENT.size, 'sizeof(struct pp_event)');
    const names = ev.members.map((m) => m.name).filter((n) => !n.startsWith('pad'));
    const expected = Object.keys(EVENT).filter((k) => k !== 'size');
    assert.deepEqual([...names].sort(), [...expected].sort(), 'same member set');
    for (const m of ev.members) {
      if (m.name.startsWith('pad')) continue;
      assert.equal(m.offset, EVENT[m.name as keyof typeof EVENT], `offset of pp_event.${m.name}`);
    }
    const sizeOf = (name: string): number => ev.members.find((m) => m.name === name)!.size;
    assert.equal(sizeOf('ifname'), SIZES.ifname);
    assert.equal(sizeOf('comm'), SIZES.comm);
    assert.equal(sizeOf('dst_mac'), SIZES.dst_mac);

    const tu = btf.structLayout('pp_tuple');
    assert.ok(tu);
    assert.equal(tu.size, TUPLE.size);
    for (const m of tu.members) assert.equal(m.offset, TUPLE[m.name as keyof typeof TUPLE], `offset of pp_tuple.${m.name}`);
    assert.equal(tu.members.length, Object.keys(TUPLE).length - 1);

    const pk = btf.structLayout('pp_pkt');
    assert.ok(pk, 'pp_pkt is in the object BTF');
    assert.equal(pk.size, PKT.size, 'sizeof(struct pp_pkt)');
    const pkNames = pk.members.map((m) => m.name).filter((n) => !n.startsWith('pad'));
    assert.deepEqual([...pkNames].sort(), Object.keys(PKT).filter((k) => k !== 'size').sort(), 'same pp_pkt member set');
    for (const m of pk.members) {
      if (!m.name.startsWith('pad')) assert.equal(m.offset, PKT[m.name as keyof typeof PKT], `offset of pp_pkt.${m.name}`);
    }

    const nn = btf.structLayout('pp_nf_names');
    assert.ok(nn, 'pp_nf_names is in the object BTF');
    assert.equal(nn.size, NF_NAMES.size);
    for (const m of nn.members) assert.equal(m.offset, NF_NAMES[m.name as keyof typeof NF_NAMES], `offset of pp_nf_names.${m.name}`);
    assert.equal(nn.members.length, Object.keys(NF_NAMES).length - 1);
  });
}
