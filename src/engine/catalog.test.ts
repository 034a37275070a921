import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCatalog, probeFieldTable, probeNames } from './catalog.js';
import { elfSymbols } from '../kernel/elf.js';
import { ROOT } from '../shared/io/paths.js';

const catalog = parseCatalog(JSON.parse(readFileSync(join(ROOT, 'src/engine/probes.json'), 'utf8')));

test('catalogue covers the tracepoints the foundation promises', () => {
  const names = catalog.tracepoints.map((t) => t.name);
  for (const tp of ['netif_receive_skb', 'netif_rx', 'napi_gro_receive_entry', 'net_dev_queue', 'net_dev_start_xmit', 'net_dev_xmit',
    'kfree_skb', 'consume_skb', 'tcp_send_reset', 'tcp_receive_reset', 'tcp_retransmit_skb', 'tcp_bad_csum', 'qdisc_enqueue',
    'qdisc_dequeue', 'icmp_send', 'fib_table_lookup']) {
    assert.ok(names.includes(tp), tp);
  }
});

test('probe ids match bpf/probes.gen.h', (t) => {
  const gen = join(ROOT, 'bpf/probes.gen.h');
  if (!existsSync(gen)) return t.skip('bpf/probes.gen.h not generated (npm run setup)');
  const text = readFileSync(gen, 'utf8');
  for (const tp of catalog.tracepoints) assert.match(text, new RegExp(`#define PP_PROBE_${tp.name} ${tp.id}\\b`));
  assert.equal(probeNames(catalog)[15], catalog.tracepoints.find((x) => x.id === 15)!.name);
});

test('the BPF object has both flavours of a program for every catalogued tracepoint', (t) => {
  const obj = join(ROOT, 'build/pktpath.bpf.o');
  if (!existsSync(obj)) return t.skip('build/pktpath.bpf.o not built');
  const funcs = new Set(elfSymbols(readFileSync(obj)).filter((s) => s.type === 2).map((s) => s.name));
  for (const tp of catalog.tracepoints) {
    assert.ok(funcs.has(`tpbtf_${tp.name}`), `tpbtf_${tp.name}`);
    assert.ok(funcs.has(`rawtp_${tp.name}`), `rawtp_${tp.name}`);
  }
});

test('parseCatalog rejects duplicates and missing fields', () => {
  const tp = { id: 1, name: 'a', category: 'net', stage: 'link-rx', since: '4.0', what: 'x' };
  const functionProbes = { entry: 200, return: 201 };
  const netfilterProbes = { observer: 202 };
  assert.throws(() => parseCatalog({ tracepoints: [tp, { ...tp, name: 'b' }], functionProbes, netfilterProbes }), /duplicate/);
  assert.throws(() => parseCatalog({ tracepoints: [{ ...tp, what: undefined }], functionProbes, netfilterProbes }), /lacks "what"/);
  assert.throws(() => parseCatalog({ tracepoints: [tp] }), /functionProbes/);
  assert.throws(() => parseCatalog({ tracepoints: [tp], functionProbes }), /netfilterProbes/);
  assert.throws(() => parseCatalog({}), /array missing/);
});

test('parseCatalog checks what each probe says about its extra fields', () => {
  const tp = { id: 1, name: 'a', category: 'net', stage: 'link-rx', since: '4.0', what: 'x' };
  const functionProbes = { entry: 200, return: 201 };
  const netfilterProbes = { observer: 202 };
  const withInfo = (info: unknown) => () => parseCatalog({ tracepoints: [{ ...tp, info }], functionProbes, netfilterProbes });
  const cases: [string, unknown, RegExp | null][] = [
    ['fine', [{ key: 'rc', src: 'aux', conv: 'int' }, { key: 'gw', src: 'auxAddr', conv: 'addr' }], null],
    ['not a list', { key: 'rc' }, /not a list/],
    ['unknown src', [{ key: 'rc', src: 'aux9', conv: 'int' }], /unknown src "aux9"/],
    ['conv that does not fit the src', [{ key: 'gw', src: 'auxAddr', conv: 'hex' }], /conv "hex" does not fit src auxAddr/],
    ['unknown conv', [{ key: 'rc', src: 'aux', conv: 'float' }], /conv "float"/],
    ['key that JSON would need to escape', [{ key: 'r"c', src: 'aux', conv: 'int' }], /not a plain name/],
    ['missing key', [{ src: 'aux', conv: 'int' }], /not a plain name/],
    ['same key twice', [{ key: 'rc', src: 'aux', conv: 'int' }, { key: 'rc', src: 'aux2', conv: 'u32' }], /"rc" twice/],
  ];
  for (const [name, info, err] of cases) {
    if (err === null) assert.doesNotThrow(withInfo(info), name);
    else assert.throws(withInfo(info), err, name);
  }
  assert.throws(() => parseCatalog({ tracepoints: [tp], functionProbes: { entry: 200 }, netfilterProbes }), /functionProbes/);
});

test('probeFieldTable: the shipped catalogue describes the extras of the probes that have them', () => {
  const fields = probeFieldTable(catalog);
  const byName = (n: string) => fields[catalog.tracepoints.find((t) => t.name === n)!.id]!.map((f) => `${f.key}:${f.src}:${f.conv}`);
  const cases: [string, string[]][] = [
    ['net_dev_xmit', ['rc:aux:int']],
    ['tcp_send_reset', ['reason:aux:int']],
    ['fib_table_lookup', ['table:aux2:u32', 'err:aux:int', 'gw:auxAddr:addr']],
    ['fib6_table_lookup', ['table:aux2:u32', 'err:aux:int', 'gw:auxAddr:addr']],
    ['qdisc_enqueue', ['handle:aux:hex', 'parent:aux2:hex']],
    ['qdisc_dequeue', ['handle:aux:hex', 'parent:aux2:hex']],
    ['icmp_send', ['type:aux:hi8', 'code:aux:lo8']],
    ['kfree_skb', []],
  ];
  for (const [name, want] of cases) assert.deepEqual(byName(name), want, name);
});
