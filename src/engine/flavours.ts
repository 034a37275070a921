/**
 * Which flavour each catalogued tracepoint gets on this kernel: tp_btf where the kernel's
 * BTF describes it, raw_tp where only its symbol is there, none (with the reason) where
 * it is missing or passes an argument the BPF side cannot read.
 */
import type { Btf } from '../kernel/btf.js';
import { KERNEL_FLOORS } from '../kernel/features.js';

export type Flavour = 'tp_btf' | 'raw_tp';

/** A tracepoint and the flavour it loads as, or why it is left out. */
export interface TracepointChoice {
  readonly probe: string;
  readonly flavour?: Flavour;
  readonly reason?: string;
}

/**
 * Tracepoints whose arguments changed across kernels in a way the BPF side cannot follow
 * by CO-RE: the argument it reads must have this type (checked when BTF describes it).
 * From the kernel floors table (proofs of kind 'tracepoint-arg').
 */
export const EXPECTED_ARG: Readonly<Record<string, { index: number; type: string; what: string }>> = Object.fromEntries(
  KERNEL_FLOORS.flatMap((f) =>
    f.proof.kind === 'tracepoint-arg'
      ? [[f.proof.tracepoint, { index: f.proof.index, type: f.proof.type, what: `a ${f.proof.type} (Linux ${f.since}+)` }]]
      : [],
  ),
);

/** Which flavour each catalogued tracepoint gets on this kernel (pure given BTF and symbols). */
export function chooseFlavours(
  names: readonly string[],
  btf: Btf,
  hasSymbol: (name: string) => boolean,
  forceRaw: boolean,
): TracepointChoice[] {
  return names.map((probe) => {
    const args = btf.tracepointArgs(probe);
    const want = EXPECTED_ARG[probe];
    const arg = want && args?.[want.index];
    if (want && arg !== undefined && arg.replace(/^const /, '') !== want.type) {
      return { probe, reason: `this kernel's ${probe} passes ${arg} where pktpath reads ${want.what}` };
    }
    if (!forceRaw && args) return { probe, flavour: 'tp_btf' as const };
    if (args || hasSymbol(`__tracepoint_${probe}`)) return { probe, flavour: 'raw_tp' as const };
    return { probe, reason: 'tracepoint not in this kernel' };
  });
}

/** The BPF program (bpf/pktpath.bpf.c) of a tracepoint in a flavour. */
export function tracepointProgram(probe: string, flavour: Flavour): string {
  return `${flavour === 'tp_btf' ? 'tpbtf' : 'rawtp'}_${probe}`;
}
