/**
 * The tracepoint engine: loads bpf/pktpath.bpf.c with one program per catalogued
 * tracepoint (tp_btf where the kernel's BTF describes it, raw_tp otherwise), in
 * explicit phases — open, choose, configure, load, attach — each failing with its
 * own message. A tracepoint the kernel lacks, or that fails to attach, is skipped
 * with a reason; only "nothing attached at all" is fatal.
 */
import { existsSync, readFileSync } from 'node:fs';
import { parseBtf } from '../../kernel/btf.js';
import type { Btf } from '../../kernel/btf.js';
import { encodeConfig } from '../config.js';
import type { ConfigFields } from '../config.js';
import { elfSymbols, readElfSection } from '../../kernel/elf.js';
import { EnvironmentError, KernelError } from '../../shared/errors.js';
import { catalog } from './catalog.js';
import { kallsyms, kernelBtf, moduleBtf } from '../../kernel/io/kernel.js';
import { planNfEval } from '../../netfilter/eval.js';
import type { NfEvalProgram } from '../../netfilter/eval.js';
import { native } from './native.js';
import type { NativeError, ObjHandle, RingPages } from './native.js';
import { BPF_OBJECT } from '../../shared/io/paths.js';

export type Flavour = 'tp_btf' | 'raw_tp';

/** What happened to one probe. */
export interface ProbeStatus {
  readonly probe: string;
  readonly attached: boolean;
  /** how it is attached (tp_btf, raw_tp, fentry, kprobe, ...) */
  readonly via?: string;
  /** why it is not */
  readonly reason?: string;
}

/** A loaded, attached trace: the ring buffer to read and a way to stop. */
export interface LoadedTrace {
  /** the netfilter observers, when asked for and the kernel takes them */
  readonly observers?: Observers;
  /** why the observers were asked for and are not there */
  readonly observerProblem?: string;
  readonly ring: RingPages;
  readonly ringFd: number;
  readonly probes: readonly ProbeStatus[];
  /** events dropped because the ring buffer was full, and events emitted, so far */
  stats(): { lost: number; emitted: number };
  /** Detaches every probe and frees the object; idempotent. */
  close(): void;
}

export interface StartOptions {
  /** ring buffer size in bytes, a power of two >= page size */
  readonly ringBytes: number;
  /** restricts to these tracepoint names (all catalogued ones when absent) */
  readonly only?: readonly string[];
  /** leaves these tracepoints out (fib_table_lookup unless --route) */
  readonly exclude?: readonly string[];
  /** forces the raw_tp flavour everywhere (tests, old kernels) */
  readonly forceRaw?: boolean;
  /** also load the netfilter observer programs (--iptable; attached later, per namespace) */
  readonly observers?: boolean;
  /** with a function backend, also fexit nft_do_chain / ipt_do_table / ip6t_do_table (--iptable) */
  readonly nfEval?: boolean;
}

/** The loaded netfilter observer programs (src/netfilter/legacy/observers.ts), ready to hook in. */
export interface Observers {
  /** hooks nf_obs_<slot> into family pf, hook, priority, in the namespace at netnsPath (null: this one) */
  attach(slot: number, pf: number, hookNum: number, priority: number, netnsPath: string | null): void;
}

/** Kernel feature flags in pp_config that depend on tracepoint signatures. */
export function kernelFeatureFields(btf: Btf): ConfigFields {
  const args = (tp: string): readonly string[] => btf.tracepointArgs(tp) ?? [];
  return {
    has_kfree_reason: args('kfree_skb').length >= 3 ? 1 : 0,
    has_kfree_rx_sk: args('kfree_skb').length >= 4 ? 1 : 0,
    has_consume_location: args('consume_skb').length >= 2 ? 1 : 0,
    has_rst_reason: args('tcp_send_reset').length >= 3 ? 1 : 0,
  };
}

/** Fails with one line unless the process may load BPF programs. */
export function requirePrivileges(): void {
  if (process.geteuid?.() === 0) return;
  let capEff = 0n;
  try {
    const m = /CapEff:\s*([0-9a-f]+)/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m?.[1]) capEff = BigInt(`0x${m[1]}`);
  } catch {
    /* treated as no capabilities */
  }
  const has = (bit: number): boolean => ((capEff >> BigInt(bit)) & 1n) === 1n;
  const CAP_SYS_ADMIN = 21;
  const CAP_PERFMON = 38;
  const CAP_BPF = 39;
  if (has(CAP_SYS_ADMIN) || (has(CAP_BPF) && has(CAP_PERFMON))) return;
  throw new EnvironmentError('needs root (or CAP_BPF and CAP_PERFMON) to load BPF programs: run it with sudo');
}

/** A compiled BPF object's BTF and the .rodata offset of its CFG variable. */
export interface ObjectInfo {
  readonly btf: Btf;
  readonly cfgOffset: number;
}

const objectInfos = new Map<string, ObjectInfo>();
/** BTF of a compiled BPF object, for the layout of its .rodata. */
export function objectInfo(path: string = BPF_OBJECT): ObjectInfo {
  const known = objectInfos.get(path);
  if (known) return known;
  const file = readFileSync(path);
  const sec = readElfSection(file, '.BTF');
  if (!sec) throw new EnvironmentError(`BPF object ${path} has no BTF: rebuild with npm run setup`);
  const cfg = elfSymbols(file).find((s) => s.name === 'CFG' && s.section === '.rodata');
  const info = { btf: parseBtf(sec), cfgOffset: cfg?.value ?? 0 };
  objectInfos.set(path, info);
  return info;
}

interface Choice {
  readonly probe: string;
  readonly flavour?: Flavour;
  readonly reason?: string;
}

/**
 * Tracepoints whose arguments changed across kernels in a way the BPF side cannot follow
 * by CO-RE: the argument it reads must have this type (checked when BTF describes it).
 */
const EXPECTED_ARG: Readonly<Record<string, { index: number; type: RegExp; what: string }>> = {
  // before 5.2: (net, struct fib6_info *, table, flp)
  fib6_table_lookup: { index: 1, type: /struct fib6_result \*/, what: 'a struct fib6_result * (Linux 5.2+)' },
};

/** Which flavour each catalogued tracepoint gets on this kernel (pure given BTF and symbols). */
export function chooseFlavours(
  names: readonly string[],
  btf: Btf,
  hasSymbol: (name: string) => boolean,
  forceRaw: boolean,
): Choice[] {
  return names.map((probe) => {
    const args = btf.tracepointArgs(probe);
    const want = EXPECTED_ARG[probe];
    if (args && want && args[want.index] !== undefined && !want.type.test(args[want.index]!)) {
      return { probe, reason: `this kernel's ${probe} passes ${args[want.index]} where pktpath reads ${want.what}` };
    }
    if (!forceRaw && args) return { probe, flavour: 'tp_btf' as const };
    if (btf.tracepointArgs(probe) || hasSymbol(`__tracepoint_${probe}`)) return { probe, flavour: 'raw_tp' as const };
    return { probe, reason: 'tracepoint not in this kernel' };
  });
}

function openObject(): ObjHandle {
  if (!existsSync(BPF_OBJECT)) throw new EnvironmentError(`BPF object not built (${BPF_OBJECT}): run npm run setup`);
  try {
    return native().open(BPF_OBJECT);
  } catch (err) {
    throw new KernelError(`open ${BPF_OBJECT}: ${(err as Error).message}`, { cause: err });
  }
}

function lastLines(log: string, n: number): string {
  return log.trim().split('\n').slice(-n).join(' | ');
}

/** A kernel function to trace, as discovery found it. */
export interface FuncTarget {
  readonly name: string;
  /** 1-based position of the struct sk_buff * argument */
  readonly skbArg: number;
  /** vmlinux BTF id of the FUNC (fentry/fexit need it) */
  readonly btfId: number;
  /** defined in a module (fentry clones need the module's BTF: not yet) */
  readonly module?: string;
}

export type FuncBackend = 'fentry' | 'kprobe.multi' | 'kprobe';
export const FUNC_BACKENDS: readonly FuncBackend[] = ['fentry', 'kprobe.multi', 'kprobe'];

/** Function-level part of a run: which functions, and which backends to try in order. */
export interface FunctionPlan {
  readonly funcs: readonly FuncTarget[];
  readonly backends: readonly FuncBackend[];
  /** functions whose return value is reported (fexit; fentry backend only) */
  readonly returns: ReadonlySet<string>;
}

const TEMPLATE_PREFIX: Record<FuncBackend, string> = { fentry: 'fentry_skb_', 'kprobe.multi': 'kmulti_skb_', kprobe: 'kprobe_skb_' };

/** Loads and attaches the tracepoint programs (and function probes when a plan is given). */
export function startTracepoints(fields: object, opts: StartOptions & { functions?: FunctionPlan }): LoadedTrace & { backend?: FuncBackend } {
  requirePrivileges();
  const n = native();
  const btf = kernelBtf();
  const cat = catalog();
  const wanted = cat.tracepoints
    .map((t) => t.name)
    .filter((name) => (!opts.only || opts.only.includes(name)) && !opts.exclude?.includes(name));
  const since = new Map(cat.tracepoints.map((t) => [t.name, t.since]));
  const syms = kallsyms();
  const cfgFields = { ...fields, ...kernelFeatureFields(btf) };
  const obj = objectInfo();
  const plan = opts.functions;
  const byPos = new Map<number, FuncTarget[]>();
  for (const f of plan?.funcs ?? []) byPos.set(f.skbArg, [...(byPos.get(f.skbArg) ?? []), f]);

  // BPF netfilter programs need kernel 6.4+, whose BTF has their context type
  let withObservers = opts.observers === true;
  let observerProblem: string | undefined;
  if (withObservers && !btf.findType('struct', 'bpf_nf_ctx')) {
    withObservers = false;
    observerProblem = 'this kernel has no BPF netfilter hook programs (Linux 6.4+)';
  }

  // the netfilter evaluation functions ride along with a working function backend
  let nfEval: { programs: NfEvalProgram[]; missing: string[] } = { programs: [], missing: [] };
  if (opts.nfEval && plan?.funcs.length) nfEval = planNfEval((func, module) => firstParamOf(btf, func, module));
  let withNfEval = nfEval.programs.length > 0;
  let nfEvalProblem: string | undefined;
  const nfEvalPrograms = new Set(nfEval.programs.map((p) => p.program));

  const attempt = (forceRaw: boolean, backend: FuncBackend | undefined): { h: ObjHandle; choices: Choice[] } => {
    const choices = chooseFlavours(wanted, btf, (s) => syms.has(s), forceRaw);
    const h = openObject();
    try {
      const chosen = new Map(choices.map((c) => [c.probe, c.flavour]));
      const templates = new Set<string>();
      if (backend) {
        for (const [pos, fs] of byPos) {
          templates.add(`${TEMPLATE_PREFIX[backend]}${pos}`);
          if (backend === 'fentry') {
            // fentry/fexit are verified against one target at load; the rest are clones
            const first = fs.find((f) => !f.module);
            if (first) n.setAttachTarget(h, `fentry_skb_${pos}`, first.name);
            const ret = fs.find((f) => !f.module && plan!.returns.has(f.name));
            if (ret) {
              templates.add(`fexit_skb_${pos}`);
              n.setAttachTarget(h, `fexit_skb_${pos}`, ret.name);
            }
            if (!first) templates.delete(`fentry_skb_${pos}`);
          }
        }
      }
      for (const p of n.programs(h)) {
        const m = /^(tpbtf|rawtp)_(.+)$/.exec(p.name);
        if (p.name.startsWith('fexit_') && !/^fexit_skb_\d$/.test(p.name)) {
          n.setAutoload(h, p.name, withNfEval && backend !== undefined && nfEvalPrograms.has(p.name));
        } else if (/^nf_obs_\d+$/.test(p.name)) {
          n.setAutoload(h, p.name, withObservers);
          if (withObservers) n.setNetfilter(h, p.name);
        } else if (m) {
          const fl = chosen.get(m[2]!);
          n.setAutoload(h, p.name, fl !== undefined && (m[1] === 'tpbtf') === (fl === 'tp_btf'));
        } else {
          n.setAutoload(h, p.name, templates.has(p.name));
        }
      }
      const rodata = new Uint8Array(n.mapInitialValue(h, '.rodata'));
      n.setMapInitialValue(h, '.rodata', encodeConfig(obj.btf, rodata, 'CFG', { ...cfgFields, observe: withObservers ? 1 : 0 }, obj.cfgOffset));
      n.setMaxEntries(h, 'events', opts.ringBytes);
      n.takeLog();
      n.load(h);
      return { h, choices };
    } catch (err) {
      n.close(h);
      throw err;
    }
  };

  type Loaded = { h: ObjHandle; choices: Choice[] };
  /**
   * Loads with an optional group of programs switched on (`isOn`); when that fails and a
   * load without the group works, the group was the cause: it stays off and `setProblem`
   * says why. `refused(err)`: the failure already shows the group cannot load (no second
   * load to find out); the error is rethrown.
   */
  const optional = (
    isOn: () => boolean,
    setOn: (on: boolean) => void,
    setProblem: (err: unknown) => void,
    load: () => Loaded,
    refused: (err: unknown) => boolean = () => false,
  ): Loaded => {
    if (!isOn()) return load();
    try {
      return load();
    } catch (err) {
      setOn(false);
      if (refused(err)) {
        setProblem(err);
        throw err;
      }
      try {
        const loaded = load();
        setProblem(err);
        return loaded;
      } catch (second) {
        setOn(true); // not the group's fault (a function backend the kernel refuses, say)
        throw second;
      }
    }
  };
  const causeOf = (err: unknown): unknown => (err as KernelError).cause ?? err;
  // the evaluation programs are fexit: when the fentry backend fails as a mechanism, so do they
  const loadWith = (backend: FuncBackend | undefined): Loaded =>
    optional(
      () => withNfEval && backend !== undefined,
      (on) => (withNfEval = on),
      (err) => (nfEvalProblem = `fexit does not load here: ${backendReason('fentry', causeOf(err))}`),
      () =>
        optional(
          () => withObservers,
          (on) => (withObservers = on),
          (err) => (observerProblem = `the netfilter observer programs do not load here: ${(err as Error).message}`),
          () => loadFlavours(backend),
        ),
      (err) => backend === 'fentry' && mechanismMissing(causeOf(err)),
    );
  const loadFlavours = (backend: FuncBackend | undefined): { h: ObjHandle; choices: Choice[] } => {
    try {
      return attempt(opts.forceRaw ?? false, backend);
    } catch (first) {
      if (opts.forceRaw) throw loadError(first, n.takeLog());
      try {
        return attempt(true, backend); // a kernel that rejects tp_btf may still take raw_tp
      } catch (second) {
        throw loadError(second, n.takeLog());
      }
    }
  };

  // Backends in order: the first that loads and attaches its first function wins.
  const backendErrors: string[] = [];
  let loaded: { h: ObjHandle; choices: Choice[] } | undefined;
  let funcStatus: ProbeStatus[] = [];
  let usedBackend: FuncBackend | undefined;
  for (const backend of plan && plan.funcs.length ? plan.backends : []) {
    let attempt: { h: ObjHandle; choices: Choice[] };
    if (backend === 'kprobe' && !existsSync('/sys/bus/event_source/devices/kprobe')) {
      backendErrors.push(`kprobe: ${backendReason('kprobe', new Error('no kprobe PMU'))}`);
      continue;
    }
    try {
      attempt = loadWith(backend);
    } catch (err) {
      backendErrors.push(`${backend}: ${backendReason(backend, (err as KernelError).cause ?? err)}`);
      continue;
    }
    const result = attachFunctions(attempt.h, backend, byPos, plan!.returns);
    if (result.usable) {
      loaded = attempt;
      funcStatus = result.status;
      usedBackend = backend;
      break;
    }
    n.close(attempt.h);
    backendErrors.push(`${backend}: ${result.why}`);
  }
  if (plan && plan.funcs.length && !loaded) {
    if (plan.backends.length === 1) {
      throw new KernelError(`backend ${backendErrors.join('; ')}; see pktpath doctor`);
    }
    funcStatus = [{ probe: `${plan.funcs.length} kernel functions`, attached: false, reason: `no function backend works here: ${backendErrors.join('; ')}` }];
  }
  loaded ??= loadWith(undefined);
  const { h, choices } = loaded;

  const probes: ProbeStatus[] = [];
  for (const c of choices) {
    if (!c.flavour) {
      probes.push({ probe: c.probe, attached: false, reason: `${c.reason} (added in ${since.get(c.probe)})` });
      continue;
    }
    const prog = `${c.flavour === 'tp_btf' ? 'tpbtf' : 'rawtp'}_${c.probe}`;
    try {
      n.attach(h, prog);
      probes.push({ probe: c.probe, attached: true, via: c.flavour });
    } catch (err) {
      probes.push({ probe: c.probe, attached: false, reason: `attach ${c.flavour} failed: ${(err as NativeError).message}` });
    }
  }
  probes.push(...funcStatus);
  if (usedBackend && withNfEval) {
    for (const p of nfEval.programs) {
      try {
        n.attach(h, p.program);
        probes.push({ probe: `${p.func} (verdict)`, attached: true, via: 'fexit' });
      } catch (err) {
        probes.push({ probe: `${p.func} (verdict)`, attached: false, reason: `fexit: ${(err as NativeError).message}` });
      }
    }
  } else if (opts.nfEval && plan?.funcs.length) {
    const why = nfEvalProblem ?? (usedBackend ? 'no evaluation function found' : 'needs a function backend (fexit)');
    probes.push({ probe: 'netfilter evaluation functions', attached: false, reason: why });
  }
  if (opts.nfEval && usedBackend) for (const m of nfEval.missing) probes.push({ probe: m.split(':')[0]!, attached: false, reason: m.slice(m.indexOf(':') + 2) });
  if (!probes.some((p) => p.attached)) {
    n.close(h);
    const why = probes.map((p) => `${p.probe}: ${p.reason}`).join('; ');
    throw new KernelError(`no probe could be attached (${why}); see pktpath doctor`);
  }

  const statsFd = n.mapFd(h, 'stats');
  const ringFd = n.mapFd(h, 'events');
  const ring = n.ringbuf(ringFd);
  let closed = false;
  const readStat = (idx: number): number => {
    const v = n.mapLookup(statsFd, new Uint8Array(new Uint32Array([idx]).buffer), 8);
    return v ? Number(new BigUint64Array(v)[0]) : 0;
  };
  const observers: Observers | undefined = withObservers
    ? { attach: (slot, pf, hookNum, priority, netnsPath) => void n.attachNetfilter(h, `nf_obs_${slot}`, pf, hookNum, priority, netnsPath) }
    : undefined;
  return {
    ...(observers ? { observers } : {}),
    ...(observerProblem ? { observerProblem } : {}),
    ring,
    ringFd,
    probes,
    backend: usedBackend,
    stats: () => (closed ? { lost: 0, emitted: 0 } : { lost: readStat(0), emitted: readStat(1) }),
    close: () => {
      if (closed) return;
      closed = true;
      n.close(h);
    },
  };
}

/** C type of a kernel function's first parameter, from vmlinux or its module's BTF. */
function firstParamOf(btf: Btf, func: string, module: string): string | undefined {
  let mod: Btf | undefined;
  try {
    mod = moduleBtf(module);
  } catch {
    mod = undefined;
  }
  for (const b of [btf, mod]) {
    const f = b?.findType('func', func);
    if (!b || !f) continue;
    const proto = b.type(f.type);
    if (proto.kind === 'func_proto' && proto.params[0]) return b.typeName(proto.params[0].typeId);
  }
  return undefined;
}

/** One clear sentence for why a whole backend cannot be used here. */
export function backendReason(backend: FuncBackend, err: unknown): string {
  const e = err as NativeError;
  const errno = e.errno ?? (/Operation not permitted/.test(e.message) ? 1 : undefined);
  if (backend === 'fentry' && errno === 1) {
    return 'the kernel refuses fentry/fexit programs (EPERM): ftrace is blocked here or the kernel is locked down';
  }
  if (backend === 'kprobe.multi' && (errno === 95 || errno === 524 || errno === 38)) {
    return 'kprobe.multi is not supported by this kernel (needs CONFIG_FPROBE, Linux 5.18+)';
  }
  if (backend === 'kprobe' && !existsSync('/sys/bus/event_source/devices/kprobe')) {
    return 'the kernel is built without kprobes (CONFIG_KPROBES)';
  }
  return e.message.replace(/ \(libbpf:.*$/, '');
}

/** Errors that say the mechanism itself is unavailable, not just this one function. */
function mechanismMissing(err: unknown): boolean {
  const e = (err as NativeError).errno;
  return e === 1 /* EPERM */ || e === 95 /* EOPNOTSUPP */ || e === 524 /* ENOTSUPP */ || e === 38 /* ENOSYS */;
}

/**
 * Attaches the function templates. `usable` is false when the backend cannot attach at
 * all here (the first attempt fails for a reason that is not about one function).
 */
function attachFunctions(
  h: ObjHandle,
  backend: FuncBackend,
  byPos: ReadonlyMap<number, readonly FuncTarget[]>,
  returns: ReadonlySet<string>,
): { usable: boolean; why?: string; status: ProbeStatus[] } {
  const n = native();
  const status: ProbeStatus[] = [];
  let attachedAny = false;
  const fail = (f: FuncTarget, err: unknown): ProbeStatus => ({
    probe: f.name,
    attached: false,
    reason: `${backend}: ${(err as Error).message}`,
  });
  for (const [pos, fs] of byPos) {
    if (backend === 'kprobe.multi') {
      const attachBatch = (batch: readonly FuncTarget[]): void => {
        if (!batch.length) return;
        try {
          n.attachKprobeMulti(h, `kmulti_skb_${pos}`, batch.map((f) => f.name), false);
          for (const f of batch) status.push({ probe: f.name, attached: true, via: backend });
          attachedAny = true;
        } catch (err) {
          if (!attachedAny && mechanismMissing(err)) throw err;
          // one bad symbol fails the whole batch: bisect to find it
          if (batch.length === 1) status.push(fail(batch[0]!, err));
          else {
            attachBatch(batch.slice(0, batch.length >> 1));
            attachBatch(batch.slice(batch.length >> 1));
          }
        }
      };
      try {
        attachBatch(fs);
      } catch (err) {
        return { usable: false, why: backendReason(backend, err), status };
      }
      continue;
    }
    let first = true;
    for (const f of fs) {
      try {
        if (backend === 'kprobe') n.attachKprobe(h, `kprobe_skb_${pos}`, f.name, false);
        else if (f.module) throw new Error('module function: fentry clones need the module BTF (use --backend kprobe)');
        else if (first) n.attach(h, `fentry_skb_${pos}`);
        else n.attachClone(h, `fentry_skb_${pos}`, f.btfId);
        if (backend === 'fentry' && !f.module) first = false;
        status.push({ probe: f.name, attached: true, via: backend });
        attachedAny = true;
      } catch (err) {
        if (!attachedAny && mechanismMissing(err)) return { usable: false, why: backendReason(backend, err), status };
        status.push(fail(f, err));
      }
    }
    if (backend === 'fentry') {
      let firstRet = true;
      for (const f of fs.filter((x) => !x.module && returns.has(x.name))) {
        try {
          if (firstRet) n.attach(h, `fexit_skb_${pos}`);
          else n.attachClone(h, `fexit_skb_${pos}`, f.btfId);
          firstRet = false;
          status.push({ probe: `${f.name} (return)`, attached: true, via: 'fexit' });
        } catch (err) {
          status.push({ probe: `${f.name} (return)`, attached: false, reason: `fexit: ${(err as Error).message}` });
        }
      }
    }
  }
  if (!attachedAny) return { usable: false, why: 'no function could be attached', status };
  return { usable: true, status };
}

function loadError(err: unknown, log: string): KernelError {
  const tail = lastLines(log, 4);
  return new KernelError(`load BPF programs: ${(err as Error).message}${tail ? ` (${tail})` : ''}; see pktpath doctor`, {
    cause: err,
  });
}
