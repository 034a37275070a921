/**
 * pcap-filter expressions as the kernel runs them: each expression of
 * test/fixtures/pcap-expressions.txt is translated and spliced into
 * build/pcap-run.bpf.o (the same bpf/pcap.h the probes include), loaded, and run with
 * BPF_PROG_TEST_RUN on every corpus packet: as a frame with its Ethernet header, as an
 * skb with only its network header (IP packets), and with the outer VLAN tag out of band
 * (tagged packets). Each answer must be tcpdump's. The veth replay through the probes
 * themselves is test/integration/pcapfilter.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireRoot, REPO_ROOT } from '../helpers/netns.js';
import { readPcap, tcpdumpAccepts } from '../helpers/pcap-file.js';
import type { Frame } from '../helpers/pcap-file.js';
import { loadFilter, PCAP_RUN_OBJECT } from '../helpers/pcap-run.js';
import type { FilterRunner, Variant } from '../helpers/pcap-run.js';

const CORPUS = join(REPO_ROOT, 'test/fixtures/pcap-corpus.pcap');
const EXPRESSIONS = join(REPO_ROOT, 'test/fixtures/pcap-expressions.txt');

const ethertype = (f: Frame): number => (f.data[12]! << 8) | f.data[13]!;

/** [TPID, TCI] then the frame without its outer tag: what run_l2_vlan takes. */
function untagged(f: Frame): Uint8Array {
  const d = f.data;
  const out = new Uint8Array(d.length);
  out.set(d.subarray(12, 16), 0);
  out.set(d.subarray(0, 12), 4);
  out.set(d.subarray(16), 16);
  return out;
}

interface Form {
  readonly variant: Variant;
  readonly frames: readonly number[];
  readonly bytes: (f: Frame) => Uint8Array;
  /** whether the expression has this form */
  readonly applies: (r: FilterRunner) => boolean;
}

test('the kernel decides every (expression, packet) pair as tcpdump does', (t) => {
  if (!requireRoot(t, { netns: false, cli: false, commands: ['tcpdump'] })) return;
  if (!existsSync(PCAP_RUN_OBJECT)) return t.skip(`${PCAP_RUN_OBJECT} not built (npm run build)`);
  const frames = readPcap(new Uint8Array(readFileSync(CORPUS)));
  const all = frames.map((_, i) => i);
  const forms: Form[] = [
    { variant: 'run_l2', frames: all, bytes: (f) => f.data, applies: () => true },
    { variant: 'run_l3', frames: all.filter((i) => [0x800, 0x86dd].includes(ethertype(frames[i]!))), bytes: (f) => f.data, applies: (r) => !r.filter.l3Unavailable },
    { variant: 'run_l2_vlan', frames: all.filter((i) => [0x8100, 0x88a8].includes(ethertype(frames[i]!))), bytes: untagged, applies: () => true },
  ];
  const exprs = readFileSync(EXPRESSIONS, 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));
  const counts = new Map<Variant, number>(forms.map((f) => [f.variant, 0]));
  const mismatches: string[] = [];
  const refused: string[] = [];
  for (const expr of exprs) {
    let r: FilterRunner;
    try {
      r = loadFilter(expr);
    } catch (err) {
      refused.push(`${expr}: ${(err as Error).message}`);
      continue;
    }
    try {
      const want = tcpdumpAccepts(CORPUS, frames, expr);
      for (const form of forms.filter((f) => f.applies(r))) {
        for (const i of form.frames) {
          counts.set(form.variant, counts.get(form.variant)! + 1);
          if ((r.run(form.variant, form.bytes(frames[i]!)) === 1) !== want.has(i)) mismatches.push(`${form.variant} "${expr}" packet ${i}`);
        }
      }
    } finally {
      r.close();
    }
  }
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  t.diagnostic(`${exprs.length} expressions x ${frames.length} packets: ${total} pairs checked (${[...counts].map(([v, n]) => `${v} ${n}`).join(', ')}), ${mismatches.length} mismatches`);
  assert.deepEqual(refused, [], 'every expression of the corpus runs at a probe (refusals are tested in src/filter/)');
  assert.deepEqual(mismatches.slice(0, 20), []);
});

test('bytes past the linear data: no match, and counted as undecided', (t) => {
  if (!requireRoot(t, { netns: false, cli: false })) return;
  if (!existsSync(PCAP_RUN_OBJECT)) return t.skip(`${PCAP_RUN_OBJECT} not built (npm run build)`);
  const frames = readPcap(new Uint8Array(readFileSync(CORPUS)));
  // the corpus's HTTP GET: Ethernet + IPv4 + TCP headers are 54 bytes, the payload follows
  const get = frames.find((f) => Buffer.from(f.data).includes(Buffer.from('GET / HTTP/1.1')))!;
  const withLinear = (n: number): Uint8Array => new Uint8Array([n >> 8, n & 0xff, ...get.data]);
  const r = loadFilter('tcp[((tcp[12:1] & 0xf0) >> 2):4] = 0x47455420');
  try {
    assert.equal(r.run('run_l2_linear', withLinear(get.data.length)), 1, 'all linear: the payload is read');
    assert.equal(r.undecided(), 0);
    assert.equal(r.run('run_l2_linear', withLinear(54)), 0, 'headers only: the payload is out of reach');
    assert.equal(r.undecided(), 1);
    const short = loadFilter('tcp port 80');
    try {
      assert.equal(short.run('run_l2_linear', withLinear(54)), 1, 'what the headers decide is still decided');
      assert.equal(short.undecided(), 0);
    } finally {
      short.close();
    }
  } finally {
    r.close();
  }
});
