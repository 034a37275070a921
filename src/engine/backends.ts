/**
 * The function-level part of a run as plain data: which kernel functions, which backends
 * to try in order, what each probe ended up as, and why a backend as a whole cannot be
 * used. The backends themselves live in src/engine/io/attach/.
 */
import { missingFeature } from '../kernel/features.js';
import type { FeatureId, KernelFacts } from '../kernel/features.js';

export type FuncBackend = 'fentry' | 'kprobe.multi' | 'kprobe';
/**
 * The order `auto` tries them in: kprobe.multi first (one link for every function: attach
 * and detach in about a second, where fentry needs one trampoline per function), then
 * fentry, then kprobe.
 */
export const FUNC_BACKENDS: readonly FuncBackend[] = ['kprobe.multi', 'fentry', 'kprobe'];

/**
 * How the return values of a run's functions are reported: fexit (with fentry on the same
 * functions, which keeps each entry for its return), one kprobe session link (Linux
 * 6.10+), or none.
 */
export type ReturnsVia = 'fexit' | 'session';

/** A kernel function to trace, as discovery found it. */
export interface FuncTarget {
  readonly name: string;
  /** 1-based position of the struct sk_buff * argument */
  readonly skbArg: number;
  /** vmlinux BTF id of the FUNC (fentry/fexit need it) */
  readonly btfId: number;
  /** defined in a module: its BTF id is in the module's split BTF */
  readonly module?: string;
  /** 1-based position of a struct sock * argument: the namespace when the skb names none */
  readonly skArg?: number;
}

/** A function as a backend attaches it: with `ret`, its return value is reported too (fexit, kprobe session). */
export interface FunctionTarget extends FuncTarget {
  readonly ret?: boolean;
}

/** Function-level part of a run: which functions, and which backends to try in order. */
export interface FunctionPlan {
  readonly funcs: readonly FuncTarget[];
  readonly backends: readonly FuncBackend[];
  /** functions whose return value is reported (fexit or a kprobe session) */
  readonly returns: ReadonlySet<string>;
}

/** What happened to one probe. */
export interface ProbeStatus {
  readonly probe: string;
  readonly attached: boolean;
  /** how it is attached (tp_btf, raw_tp, fentry, kprobe, ...) */
  readonly via?: string;
  /** why it is not */
  readonly reason?: string;
}

/** The kernel features each function backend's programs need (src/kernel/features.ts). */
export const BACKEND_FEATURES: Readonly<Record<FuncBackend, readonly FeatureId[]>> = {
  fentry: ['fentry', 'func_ip'],
  'kprobe.multi': ['kprobe_multi', 'func_ip'],
  kprobe: ['kprobes', 'func_ip'],
};

/** Functions grouped by the position of their skb argument (one program template per position). */
export function byPosition<F extends FuncTarget>(funcs: readonly F[]): Map<number, F[]> {
  const out = new Map<number, F[]>();
  for (const f of funcs) out.set(f.skbArg, [...(out.get(f.skbArg) ?? []), f]);
  return out;
}

/** The errno the addon put on an error, or the one its message implies. */
function errnoOf(err: unknown): number | undefined {
  const e = err as { errno?: number; message?: string };
  return e.errno ?? (/Operation not permitted/.test(e.message ?? '') ? 1 : undefined);
}

/** Errors that say the mechanism itself is unavailable, not just this one function. */
export function mechanismMissing(err: unknown): boolean {
  const e = (err as { errno?: number }).errno;
  return e === 1 /* EPERM */ || e === 95 /* EOPNOTSUPP */ || e === 524 /* ENOTSUPP */ || e === 38 /* ENOSYS */;
}

/**
 * One clear sentence for why a whole backend cannot be used here. `kprobePmu`: the
 * kernel has the kprobe perf PMU; `facts`: to name a kernel floor the load ran into.
 */
export function backendReason(backend: FuncBackend, err: unknown, kprobePmu: boolean, facts?: KernelFacts): string {
  const errno = errnoOf(err);
  if (backend === 'fentry' && errno === 1) {
    return 'the kernel refuses fentry/fexit programs (EPERM): ftrace is blocked here or the kernel is locked down';
  }
  if (backend === 'kprobe.multi' && (errno === 95 || errno === 524 || errno === 38)) {
    return 'kprobe.multi is not supported by this kernel (needs CONFIG_FPROBE, Linux 5.18+)';
  }
  if (backend === 'kprobe' && !kprobePmu) return 'the kernel is built without kprobes (CONFIG_KPROBES)';
  const floor = facts ? missingFeature(BACKEND_FEATURES[backend], facts) : null;
  return floor ?? ((err as Error).message ?? String(err)).replace(/ \(libbpf:.*$/, '');
}
