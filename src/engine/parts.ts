/**
 * Which attach backend takes which function of a run, and how return values are reported
 * (pure). `auto` prefers kprobe.multi: one link for every function, so attach and detach
 * take about a second where fentry needs one trampoline per function (the kernel takes
 * those down one at a time: 15 s for the default set under emulation). Return values need
 * the call's entry kept for its return: a kprobe session link where the kernel has one
 * (6.10+), else fentry/fexit on just the functions whose return is reported.
 */
import { hasFeature } from '../kernel/features.js';
import type { KernelFacts } from '../kernel/features.js';
import type { FuncBackend, FuncTarget, FunctionTarget, ReturnsVia } from './backends.js';

/** Functions one backend attaches. */
export interface FunctionPart {
  readonly backend: FuncBackend;
  readonly targets: readonly FunctionTarget[];
}

/**
 * How a run with this entry backend reports return values; null: it does not. A forced
 * backend (`auto` false) keeps to its own mechanism: kprobe.multi reports them through
 * sessions only, kprobe not at all.
 */
export function returnsVia(backend: FuncBackend, auto: boolean, facts: KernelFacts): ReturnsVia | null {
  if (backend === 'fentry') return 'fexit';
  if (backend === 'kprobe.multi') return hasFeature('kprobe_session', facts) === true ? 'session' : auto ? 'fexit' : null;
  return null;
}

/**
 * The run's functions split by backend: with kprobe.multi and returns through fexit, the
 * functions whose return is reported go to fentry (entry and return), the rest stay on
 * kprobe.multi; otherwise one backend takes all, `ret` marking the returns it reports.
 */
export function functionParts(
  funcs: readonly FuncTarget[],
  returns: ReadonlySet<string>,
  backend: FuncBackend,
  via: ReturnsVia | null,
): FunctionPart[] {
  const wanted = (f: FuncTarget): boolean => via !== null && returns.has(f.name);
  if (backend === 'kprobe.multi' && via === 'fexit') {
    const ret = funcs.filter(wanted).map((f) => ({ ...f, ret: true }));
    const plain = funcs.filter((f) => !wanted(f));
    return [
      ...(plain.length ? [{ backend, targets: plain }] : []),
      ...(ret.length ? [{ backend: 'fentry' as const, targets: ret }] : []),
    ];
  }
  return [{ backend, targets: funcs.map((f) => (wanted(f) ? { ...f, ret: true } : f)) }];
}
