import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { parseBtf } from '../../kernel/btf.js';
import { chooseFlavours, startTracepoints } from './loader.js';
import { BPF_OBJECT } from '../../shared/io/paths.js';

test('chooseFlavours: tp_btf when BTF describes the tracepoint, raw_tp by symbol, else skipped', () => {
  const btf = { tracepointArgs: (n: string) => (n === 'a' ? ['struct sk_buff *'] : null) } as unknown as ReturnType<typeof parseBtf>;
  const has = (s: string): boolean => s === '__tracepoint_b';
  assert.deepEqual(chooseFlavours(['a', 'b', 'c'], btf, has, false), [
    { probe: 'a', flavour: 'tp_btf' },
    { probe: 'b', flavour: 'raw_tp' },
    { probe: 'c', reason: 'tracepoint not in this kernel' },
  ]);
  assert.deepEqual(chooseFlavours(['a'], btf, has, true), [{ probe: 'a', flavour: 'raw_tp' }]);
});

test('chooseFlavours: a tracepoint with an argument type the BPF side cannot read is skipped with the reason', () => {
  const sig: Record<string, string[]> = {
    fib6_table_lookup: ['const struct net *', 'const struct fib6_result *', 'struct fib6_table *', 'const struct flowi6 *'],
  };
  const btf = { tracepointArgs: (n: string) => sig[n] ?? null } as unknown as ReturnType<typeof parseBtf>;
  assert.deepEqual(chooseFlavours(['fib6_table_lookup'], btf, () => false, false), [{ probe: 'fib6_table_lookup', flavour: 'tp_btf' }]);
  sig.fib6_table_lookup = ['const struct net *', 'const struct fib6_info *', 'struct fib6_table *', 'const struct flowi6 *'];
  const [c] = chooseFlavours(['fib6_table_lookup'], btf, () => true, false);
  assert.equal(c?.flavour, undefined);
  assert.match(c?.reason ?? '', /passes const struct fib6_info \* where pktpath reads a struct fib6_result \*/);
});

function gate(t: { skip: (r: string) => void }): boolean {
  if (process.geteuid?.() !== 0) return t.skip('needs root to load BPF'), false;
  if (!existsSync('/sys/kernel/btf/vmlinux')) return t.skip('kernel has no BTF'), false;
  if (!existsSync(BPF_OBJECT)) return t.skip('BPF object not built'), false;
  return true;
}

for (const forceRaw of [false, true]) {
  const flavour = forceRaw ? 'raw_tp' : 'tp_btf';
  test(`every tracepoint this kernel has attaches via ${flavour}, and detaches`, (t) => {
    if (!gate(t)) return;
    const trace = startTracepoints({}, { ringBytes: 1 << 20, forceRaw });
    try {
      const attached = trace.probes.filter((p) => p.attached);
      const skipped = trace.probes.filter((p) => !p.attached);
      for (const p of skipped) t.diagnostic(`skipped ${p.probe}: ${p.reason}`);
      assert.ok(attached.length >= 12, `attached ${attached.length}`);
      for (const p of attached) assert.equal(p.via, flavour);
      for (const p of skipped) assert.match(p.reason ?? '', /not in this kernel|attach/);
      assert.deepEqual(trace.stats(), { lost: 0, emitted: trace.stats().emitted });
    } finally {
      trace.close();
      trace.close(); // idempotent
    }
  });
}
