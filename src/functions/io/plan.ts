/**
 * Which kernel functions a run traces: discovery from the running kernel's BTF (and
 * loaded modules' BTF), narrowed by what ftrace can hook, the default catalogue
 * (src/functions/functions.json) or --all / --func / --exclude.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { btfHasFunc, parseFunctionCatalog, selectFunctions, skbFunctions, sockArg } from '../funcs.js';
import type { DefaultEntry, ModuleBtf, SkbFunc, Skipped } from '../funcs.js';
import { returnSpec } from '../returns.js';
import type { RetConvention, ReturnSpec } from '../returns.js';
import type { Btf, BtfFunc, BtfFuncProto } from '../../kernel/btf.js';
import { btfModules, kernelBtf, moduleBtf } from '../../kernel/io/kernel.js';
import { ROOT } from '../../shared/io/paths.js';
import { traceableFunctions } from './traceable.js';
import type { FuncBackend, FuncTarget, FunctionPlan } from '../../engine/backends.js';

export interface FunctionChoice {
  readonly all: boolean;
  readonly include?: RegExp;
  readonly exclude?: RegExp;
  readonly backends: readonly FuncBackend[];
}

export interface PlannedFunctions {
  readonly plan: FunctionPlan;
  readonly skipped: readonly Skipped[];
  /** where the traceable list came from, or why it is unknown */
  readonly traceableSource: string;
  readonly discovered: number;
  /** how to read the return value of each function whose return is reported */
  readonly returnSpecs: ReadonlyMap<string, ReturnSpec>;
}

let defaults: DefaultEntry[] | undefined;
/**
 * The default function set shipped with the package, and the functions whose return value
 * is reported, with the convention their value follows when BTF's type cannot say it.
 */
export function defaultFunctions(): { entries: DefaultEntry[]; returns: Map<string, RetConvention | undefined> } {
  defaults ??= parseFunctionCatalog(JSON.parse(readFileSync(join(ROOT, 'src/functions/functions.json'), 'utf8')));
  return { entries: defaults, returns: new Map(defaults.filter((f) => f.ret).map((f) => [f.name, f.ret === true ? undefined : f.ret])) };
}

/** How to read a function's return value, from its own BTF (vmlinux or its module's); null for void. */
function specOf(f: SkbFunc, btf: Btf, modules: readonly ModuleBtf[], convention: RetConvention | undefined): ReturnSpec | null {
  const b = f.module === undefined ? btf : modules.find((m) => m.name === f.module)?.btf;
  if (!b) return null;
  const func = b.type(f.btfId) as BtfFunc;
  return returnSpec(b, (b.type(func.type) as BtfFuncProto).returnType, convention);
}

function loadModules(): ModuleBtf[] {
  const out: ModuleBtf[] = [];
  for (const name of btfModules()) {
    try {
      const btf = moduleBtf(name);
      if (btf) out.push({ name, btf });
    } catch {
      /* a module that went away or has unreadable BTF is simply not searched */
    }
  }
  return out;
}

/** Discovers and selects the functions of a run. */
export function planFunctions(choice: FunctionChoice): PlannedFunctions {
  const btf = kernelBtf();
  const modules = loadModules();
  const all = skbFunctions(btf, { modules });
  const traceable = traceableFunctions();
  const { entries, returns } = defaultFunctions();
  const { selected, skipped } = selectFunctions(all, {
    defaults: entries,
    all: choice.all,
    include: choice.include,
    exclude: choice.exclude,
    traceable: traceable.set,
    hasFunc: btfHasFunc(btf, modules),
  });
  const funcs: FuncTarget[] = selected.map((f) => {
    const skArg = sockArg(f.params);
    return { name: f.name, skbArg: f.skbArg, btfId: f.btfId, ...(f.module ? { module: f.module } : {}), ...(skArg ? { skArg } : {}) };
  });
  const returnSpecs = new Map<string, ReturnSpec>();
  for (const f of selected) {
    const spec = returns.has(f.name) ? specOf(f, btf, modules, returns.get(f.name)) : null;
    if (spec) returnSpecs.set(f.name, spec);
  }
  return {
    plan: { funcs, backends: choice.backends, returns: new Set(returnSpecs.keys()) },
    skipped,
    traceableSource: traceable.set ? traceable.source : (traceable.reason ?? 'unknown'),
    discovered: all.length,
    returnSpecs,
  };
}
