import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backendReason, byPosition, mechanismMissing } from './backends.js';
import type { Btf } from '../kernel/btf.js';
import type { KernelFacts } from '../kernel/features.js';

const errno = (n: number, message = `errno ${n}`): Error => Object.assign(new Error(message), { errno: n });

test('byPosition: functions grouped by their skb argument, in order', () => {
  const f = (name: string, skbArg: number) => ({ name, skbArg, btfId: 1 });
  assert.deepEqual([...byPosition([f('a', 1), f('b', 2), f('c', 1)])], [
    [1, [f('a', 1), f('c', 1)]],
    [2, [f('b', 2)]],
  ]);
});

test('mechanismMissing: EPERM, EOPNOTSUPP, ENOTSUPP and ENOSYS are about the mechanism, not the function', () => {
  for (const n of [1, 95, 524, 38]) assert.equal(mechanismMissing(errno(n)), true, `errno ${n}`);
  for (const n of [2, 22, 16]) assert.equal(mechanismMissing(errno(n)), false, `errno ${n}`);
  assert.equal(mechanismMissing(new Error('no errno')), false);
});

/** A kernel whose BTF has exactly these enum values. */
function facts(values: string[]): KernelFacts {
  const btf = { enumValues: () => new Map(values.map((v, i) => [i, v])) } as unknown as Btf;
  return { btf, hasSymbol: () => true };
}

test('backendReason: one sentence per known refusal, the kernel floor when the load ran into one, else the error', () => {
  const all = facts(['BPF_TRACE_FENTRY', 'BPF_TRACE_KPROBE_MULTI', 'BPF_FUNC_get_func_ip']);
  const cases: [string, Parameters<typeof backendReason>, RegExp][] = [
    ['fentry EPERM', ['fentry', errno(1), true, all], /refuses fentry\/fexit programs \(EPERM\)/],
    ['fentry EPERM from the message', ['fentry', new Error('load: Operation not permitted'), true], /refuses fentry/],
    ['kprobe.multi unsupported', ['kprobe.multi', errno(95), true, all], /CONFIG_FPROBE, Linux 5\.18\+/],
    ['no kprobe PMU', ['kprobe', errno(2), false, all], /built without kprobes/],
    ['no bpf_get_func_ip', ['fentry', errno(22, 'load BPF object: Invalid argument'), true, facts(['BPF_TRACE_FENTRY'])], /needs bpf_get_func_ip \(Linux 5\.15\+\)/],
    ['libbpf detail trimmed', ['kprobe', errno(22, 'attach kprobe: Invalid argument (libbpf: x)'), true, all], /^attach kprobe: Invalid argument$/],
  ];
  for (const [what, args, want] of cases) assert.match(backendReason(...args), want, what);
});
