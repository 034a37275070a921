/**
 * Which kernel functions a run traces: discovery from the running kernel's BTF (and
 * loaded modules' BTF), narrowed by what ftrace can hook, the default catalogue
 * (src/functions/functions.json) or --all / --func / --exclude.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { btfHasFunc, parseFunctionCatalog, selectFunctions, skbFunctions } from '../funcs.js';
import type { DefaultEntry, ModuleBtf, Skipped } from '../funcs.js';
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
}

let defaults: DefaultEntry[] | undefined;
/** The default function set shipped with the package, with the functions whose return value is reported. */
export function defaultFunctions(): { entries: DefaultEntry[]; returns: Set<string> } {
  const json = JSON.parse(readFileSync(join(ROOT, 'src/functions/functions.json'), 'utf8')) as {
    functions: { name: string; ret?: boolean }[];
  };
  defaults ??= parseFunctionCatalog(json);
  return { entries: defaults, returns: new Set(json.functions.filter((f) => f.ret).map((f) => f.name)) };
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
  const funcs: FuncTarget[] = selected.map((f) => ({
    name: f.name,
    skbArg: f.skbArg,
    btfId: f.btfId,
    ...(f.module ? { module: f.module } : {}),
  }));
  const retNames = new Set(selected.filter((f) => returns.has(f.name) && f.ret !== 'void').map((f) => f.name));
  return {
    plan: { funcs, backends: choice.backends, returns: retNames },
    skipped,
    traceableSource: traceable.set ? traceable.source : (traceable.reason ?? 'unknown'),
    discovered: all.length,
  };
}
