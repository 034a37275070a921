import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCatalog, probeNames } from './catalog.js';
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
