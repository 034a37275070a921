import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCatalog, probeFieldTable, probeNames, tracepointsFor } from './catalog.js';
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
    ['aux3 and the named conversions', [{ key: 'old', src: 'aux', conv: 'tcp_state' }, { key: 'err', src: 'aux3', conv: 'u32' }, { key: 'act', src: 'aux2', conv: 'xdp_act' }], null],
    ['aux3 is one byte: no hi8', [{ key: 'x', src: 'aux3', conv: 'hi8' }], /conv "hi8" does not fit src aux3/],
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
    ['xdp_devmap_xmit', ['drops:aux3:u32', 'from_ifindex:aux2:u32', 'err:aux:int']],
    ['inet_sock_set_state', ['old:aux:tcp_state', 'new:aux2:tcp_state', 'err:aux3:u32']],
    ['tcp_retransmit_synack', ['queued:aux:u32', 'backlog:aux2:u32', 'nth:aux3:u32']],
    ['sk_data_ready', ['queued:aux:u32', 'backlog:aux2:u32']],
  ];
  for (const [name, want] of cases) assert.deepEqual(byName(name), want, name);
});

test('"attach": which runs attach a probe', () => {
  const tp = { id: 1, name: 'a', category: 'net', stage: 'link-rx', since: '4.0', what: 'x' };
  const functionProbes = { entry: 200, return: 201, returnInfo: [] };
  const netfilterProbes = { observer: 202 };
  const cat = (attach: unknown) => () => parseCatalog({ tracepoints: [{ ...tp, attach }], functionProbes, netfilterProbes });
  assert.doesNotThrow(cat(['evidence', 'track']));
  assert.throws(cat('evidence'), /"attach" "evidence": expected a list of evidence, track/);
  assert.throws(cat(['sometimes']), /"attach" \["sometimes"\]/);
  const c = parseCatalog({
    tracepoints: [tp, { ...tp, id: 2, name: 'ev', attach: ['evidence'] }, { ...tp, id: 3, name: 'tr', attach: ['track'] }, { ...tp, id: 4, name: 'both', attach: ['evidence', 'track'] }],
    functionProbes,
    netfilterProbes,
  });
  const cases: [{ evidence?: boolean; track?: boolean }, string[]][] = [
    [{}, ['a']],
    [{ evidence: true }, ['a', 'ev', 'both']],
    [{ track: true }, ['a', 'tr', 'both']],
    [{ evidence: true, track: true }, ['a', 'ev', 'tr', 'both']],
  ];
  for (const [want, names] of cases) assert.deepEqual(tracepointsFor(c, want), names, JSON.stringify(want));
});

test('the shipped catalogue: a plain trace attaches what it always did; evidence and tracking probes only when asked', () => {
  const plain = tracepointsFor(catalog, {});
  for (const name of ['xdp_devmap_xmit', 'inet_sock_set_state', 'sk_data_ready', 'sched_process_fork', 'sock_send_length']) {
    assert.ok(!plain.includes(name), name);
  }
  assert.ok(tracepointsFor(catalog, { evidence: true }).includes('xdp_redirect_err'));
  assert.ok(!tracepointsFor(catalog, { evidence: true }).includes('sched_process_fork'), 'tracking probes emit nothing: not evidence');
  assert.deepEqual(
    tracepointsFor(catalog, { track: true }).filter((n) => !plain.includes(n)),
    ['inet_sock_set_state', 'sched_process_fork', 'sched_process_exit', 'sock_send_length'],
  );
});
