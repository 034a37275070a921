import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { loadTrace } from './loader.js';
import { BPF_OBJECT } from '../../shared/io/paths.js';
import { KernelError } from '../../shared/errors.js';
import { RingEvents, testPort, udpToLoopback } from '../../../test/helpers/loopback.js';

function gate(t: TestContext): boolean {
  if (process.geteuid?.() !== 0) return t.skip('needs root to load BPF'), false;
  if (!existsSync('/sys/kernel/btf/vmlinux')) return t.skip('kernel has no BTF'), false;
  if (!existsSync(BPF_OBJECT)) return t.skip('BPF object not built'), false;
  return true;
}

for (const forceRaw of [false, true]) {
  const flavour = forceRaw ? 'raw_tp' : 'tp_btf';
  test(`every tracepoint this kernel has attaches via ${flavour}, counts what it emits, and detaches`, async (t) => {
    if (!gate(t)) return;
    const port = testPort();
    const trace = loadTrace({ port, l4proto: 17 }, { ringBytes: 1 << 20, forceRaw });
    try {
      const attached = trace.probes.filter((p) => p.attached);
      const skipped = trace.probes.filter((p) => !p.attached);
      for (const p of skipped) t.diagnostic(`skipped ${p.probe}: ${p.reason}`);
      assert.ok(attached.length >= 12, `attached ${attached.length}`);
      for (const p of attached) assert.equal(p.via, flavour);
      for (const p of skipped) assert.match(p.reason ?? '', /not in this kernel|attach/);
      // real traffic: the counters must agree with what the ring buffer holds
      const ring = new RingEvents(trace.ring);
      await udpToLoopback(port);
      const events = await ring.until((ev) => ev.tuple?.dport === port);
      await new Promise((r) => setTimeout(r, 100));
      events.push(...ring.drain());
      assert.ok(events.some((ev) => ev.tuple?.dport === port), `no event for UDP to port ${port}`);
      assert.deepEqual(trace.stats(), { lost: 0, emitted: events.length, undecided: 0 });
    } finally {
      trace.close();
      trace.close(); // idempotent
    }
    assert.deepEqual(trace.stats(), { lost: 0, emitted: 0, undecided: 0 }, 'a closed trace has no counters');
  });
}

test('closeAsync detaches without blocking, and is idempotent', async (t) => {
  if (!gate(t)) return;
  const trace = loadTrace({}, { ringBytes: 1 << 16, only: ['netif_receive_skb'] });
  const first = trace.closeAsync();
  assert.equal(trace.closeAsync(), first, 'the same promise');
  trace.close(); // a no-op once closeAsync took over
  await first;
  assert.deepEqual(trace.stats(), { lost: 0, emitted: 0, undecided: 0 });
});

test('a failure names its phase: no tracepoint at all is an attach-phase KernelError', (t) => {
  if (!gate(t)) return;
  assert.throws(
    () => loadTrace({}, { ringBytes: 1 << 16, only: [] }),
    (err: unknown) => err instanceof KernelError && err.phase === 'attach' && /^attach: no probe could be attached/.test(err.message),
  );
});

test('a function backend either works or fails naming its phase and the backend', (t) => {
  if (!gate(t)) return;
  const funcs = [{ name: 'ip_rcv', skbArg: 1, btfId: 1 }];
  let trace;
  try {
    trace = loadTrace({}, { ringBytes: 1 << 16, only: [], functions: { funcs, backends: ['fentry'], returns: new Set() } });
  } catch (err) {
    t.diagnostic((err as Error).message);
    assert.ok(err instanceof KernelError, `a KernelError, not ${String(err)}`);
    assert.ok(err.phase === 'load' || err.phase === 'attach', `phase ${err.phase}`);
    assert.equal(err.probe, 'fentry');
    assert.match(err.message, /^backend fentry \((load|attach)\): .*; see pktpath doctor$/);
    return;
  }
  try {
    assert.equal(trace.backend, 'fentry');
    assert.ok(trace.probes.some((p) => p.probe === 'ip_rcv' && p.attached));
  } finally {
    trace.close();
  }
});
