import { test } from 'node:test';
import assert from 'node:assert/strict';
import { functionParts, returnsVia } from './parts.js';
import type { Btf } from '../kernel/btf.js';
import type { KernelFacts } from '../kernel/features.js';
import type { FuncBackend, ReturnsVia } from './backends.js';

/** A kernel whose BTF has exactly these enum values. */
const facts = (values: string[]): KernelFacts => ({
  btf: { enumValues: () => new Map(values.map((v, i) => [i, v])) } as unknown as Btf,
  hasSymbol: () => true,
});
const k612 = facts(['BPF_TRACE_FENTRY', 'BPF_TRACE_KPROBE_MULTI', 'BPF_TRACE_KPROBE_SESSION']);
const k61 = facts(['BPF_TRACE_FENTRY', 'BPF_TRACE_KPROBE_MULTI']);

test('returnsVia: sessions where the kernel has them, fexit for auto without, none for a forced kprobe', () => {
  const cases: [FuncBackend, boolean, KernelFacts, ReturnsVia | null][] = [
    ['kprobe.multi', true, k612, 'session'],
    ['kprobe.multi', false, k612, 'session'],
    ['kprobe.multi', true, k61, 'fexit'],
    ['kprobe.multi', false, k61, null],
    ['fentry', false, k61, 'fexit'],
    ['kprobe', true, k612, null],
  ];
  for (const [backend, auto, f, want] of cases) assert.equal(returnsVia(backend, auto, f), want, `${backend} auto=${auto}`);
});

const f = (name: string) => ({ name, skbArg: 1, btfId: 1 });
const funcs = [f('ip_rcv'), f('nf_hook_slow'), f('tcp_v4_rcv')];
const returns = new Set(['nf_hook_slow', 'ip_rcv']);

test('functionParts: one backend with ret marks, or kprobe.multi beside fentry for the returns', () => {
  const names = (parts: ReturnType<typeof functionParts>) => parts.map((p) => [p.backend, p.targets.map((t) => `${t.name}${t.ret ? '+ret' : ''}`)]);
  assert.deepEqual(names(functionParts(funcs, returns, 'kprobe.multi', 'session')), [['kprobe.multi', ['ip_rcv+ret', 'nf_hook_slow+ret', 'tcp_v4_rcv']]]);
  assert.deepEqual(names(functionParts(funcs, returns, 'kprobe.multi', 'fexit')), [
    ['kprobe.multi', ['tcp_v4_rcv']],
    ['fentry', ['ip_rcv+ret', 'nf_hook_slow+ret']],
  ]);
  assert.deepEqual(names(functionParts(funcs, returns, 'fentry', 'fexit')), [['fentry', ['ip_rcv+ret', 'nf_hook_slow+ret', 'tcp_v4_rcv']]]);
  assert.deepEqual(names(functionParts(funcs, returns, 'kprobe', null)), [['kprobe', ['ip_rcv', 'nf_hook_slow', 'tcp_v4_rcv']]]);
  assert.deepEqual(names(functionParts([f('ip_rcv')], returns, 'kprobe.multi', 'fexit')), [['fentry', ['ip_rcv+ret']]], 'no empty part');
});
