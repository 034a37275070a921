/**
 * The loader: everything a trace needs in the kernel, in explicit phases.
 *
 *   open       the kernel's BTF and symbols, the compiled object (libbpf open)
 *   select     tracepoint flavours, the function backend, the optional program groups;
 *              which programs load (each attach backend names its own)
 *   configure  the run's filter into .rodata (frozen at load), the ring buffer's size
 *   load       libbpf load: the verifier checks every selected program
 *   attach     each backend attaches its targets (src/engine/io/attach/)
 *   ring       the ring buffer and counters handed to the reader
 *
 * Function backends are tried in order: the first that loads and attaches wins. Optional
 * groups (netfilter observers, function return values, netfilter evaluation functions)
 * are dropped with the reason when the load fails because of them. A tracepoint the
 * kernel lacks, or that fails to attach, is skipped with a reason; only "nothing
 * attached at all" is fatal. Every failure is a KernelError naming its phase and probe,
 * and whatever was opened is closed on the way out.
 */
import type { Btf } from '../../kernel/btf.js';
import { hasFeature, kernelFeatureFields, missingArguments, missingFeature } from '../../kernel/features.js';
import type { KernelFacts } from '../../kernel/features.js';
import { kallsyms, kernelBtf, moduleBtf } from '../../kernel/io/kernel.js';
import { requirePrivileges } from '../../kernel/io/privileges.js';
import { KernelError } from '../../shared/errors.js';
import type { LoadPhase } from '../../shared/errors.js';
import { REPLACED_BY_STEPS, planNfEval } from '../../netfilter/eval.js';
import type { NfEvalProgram } from '../../netfilter/eval.js';
import { backendReason, mechanismMissing } from '../backends.js';
import type { FuncBackend, FunctionPlan, ProbeStatus, ReturnsVia } from '../backends.js';
import { functionParts, returnsVia } from '../parts.js';
import type { FunctionPart } from '../parts.js';
import { chooseFlavours } from '../flavours.js';
import type { TracepointChoice } from '../flavours.js';
import { loadWithOptionalGroups } from '../optional.js';
import type { OptionalGroup } from '../optional.js';
import { catalog } from './catalog.js';
import { filterConfig } from '../../filter/filter.js';
import type { CompiledFilter } from '../../filter/filter.js';
import { tracepointsFor } from '../catalog.js';
import { native } from './native.js';
import type { ObjHandle, RingPages } from './native.js';
import { configureObject, loadObject, openObject, phaseError, selectPrograms } from './object.js';
import { FUNCTION_BACKENDS, attachSpot, fexitEvalBackend, hasKprobePmu, netfilterBackend, tracepointBackend } from './attach/index.js';
import type { Attachment, TracepointTarget } from './attach/index.js';
import { attachParts, fillFuncSockets } from './attach/parts.js';
import { preflightBackend } from './attach/preflight.js';

export { FUNC_BACKENDS } from '../backends.js';
export type { FuncBackend, FuncTarget, FunctionPlan, ProbeStatus } from '../backends.js';

/** What a trace asks the loader for. */
export interface TraceRequest {
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
  /** kernel functions to trace besides the tracepoints */
  readonly functions?: FunctionPlan;
  /** a pcap-filter expression every probe runs (src/filter/) */
  readonly filter?: CompiledFilter;
  /** also attach the evidence probes the diagnosis reads (catalogue "attach": evidence) */
  readonly evidence?: boolean;
  /**
   * follow the flows of the processes given to LoadedTrace.tracker (bpf/track.h): a
   * packet matches when its flow is theirs, and the filter in `fields` picks which of
   * their flows join. Attaches the tracking probes (catalogue "attach": track).
   */
  readonly track?: boolean;
}

/** What process-tree capture has found so far (bpf/track.h track_stats). */
export interface TrackCounts {
  /** flows that joined (each NAT translation of one counts again) */
  readonly flows: number;
  /** processes tracked because a tracked one forked them */
  readonly forks: number;
  /** forks not tracked: the table of tracked processes was full */
  readonly untracked: number;
  /** sockets tracked */
  readonly sockets: number;
}

/** Process-tree capture (TraceRequest.track). */
export interface Tracker {
  /** Tracks process `pid` (a tgid in the initial pid namespace) and, from then on, the processes it forks. */
  track(pid: number): void;
  counts(): TrackCounts;
}

/** The loaded netfilter observer programs (src/netfilter/legacy/observers.ts), ready to hook in. */
export interface Observers {
  /** hooks nf_obs_<slot> into family pf, hook, priority, in the namespace at netnsPath (null: this one) */
  attach(slot: number, pf: number, hookNum: number, priority: number, netnsPath: string | null): void;
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
  /** the function backend in use, if any */
  readonly backend?: FuncBackend;
  /** process-tree capture, when TraceRequest.track asked for it */
  readonly tracker?: Tracker;
  /** events dropped because the ring buffer was full, and events emitted, so far */
  /**
   * events dropped because the ring buffer was full, events emitted, and packets a
   * pcap-filter expression could not decide (bytes it reads lie outside the skb's linear
   * data), so far
   */
  stats(): { lost: number; emitted: number; undecided: number };
  /** Detaches every probe (several at a time) and frees the object; idempotent. */
  close(): void;
  /** close() without blocking the event loop while links detach; idempotent (the same promise). */
  closeAsync(): Promise<void>;
}

/** What the running kernel offers (phase open). */
interface KernelView {
  readonly btf: Btf;
  readonly facts: KernelFacts;
}

/** What this run would load, target by target (phase select). */
interface Targets {
  readonly tracepoints: readonly string[];
  readonly funcs: FunctionPlan['funcs'];
  /** functions left out because --iptable's netfilter steps stand for them */
  readonly replaced: readonly string[];
  readonly returns: ReadonlySet<string>;
  readonly nfEval: { readonly programs: NfEvalProgram[]; readonly missing: string[] };
}

interface Groups {
  readonly observers: OptionalGroup;
  /** the return values, per entry backend (their mechanism differs: fexit or kprobe sessions) */
  readonly returns: Map<FuncBackend, OptionalGroup>;
  readonly nfEval: OptionalGroup;
}

/** One load of the object: its handle and the tracepoint flavours it was loaded with. */
interface Loaded {
  readonly h: ObjHandle;
  readonly choices: readonly TracepointChoice[];
}

/** The function part of a run once a backend won (or none did). */
interface FunctionsLoaded {
  readonly loaded?: Loaded;
  readonly backend?: FuncBackend;
  readonly status: readonly ProbeStatus[];
}

/** One load of everything a run needs, with its inputs. */
interface Build {
  readonly k: KernelView;
  readonly t: Targets;
  readonly g: Groups;
  readonly fields: object;
  readonly req: TraceRequest;
  /** `auto`: the backend may be mixed with fentry/fexit for the return values */
  readonly auto: boolean;
}

/** Loads and attaches the tracepoint programs, and the function probes when a plan is given. */
export function loadTrace(fields: object, req: TraceRequest): LoadedTrace {
  requirePrivileges();
  const k = openKernel();
  const b: Build = { k, t: selectTargets(k, req), g: optionalGroups(k, req), fields, req, auto: (req.functions?.backends.length ?? 0) > 1 };
  const fn = loadFunctions(b);
  const loaded = fn.loaded ?? loadWith(b, undefined);
  try {
    const probes = attachAll(b, loaded, fn);
    return handOff(loaded.h, probes, b.g, fn.backend, req.track === true);
  } catch (err) {
    native().close(loaded.h);
    throw err;
  }
}

/** Phase open, the kernel's side: its BTF and symbols. */
function openKernel(): KernelView {
  const btf = kernelBtf();
  const syms = kallsyms();
  return { btf, facts: { btf, hasSymbol: (s) => syms.has(s) } };
}

/** Phase select, the targets: catalogued tracepoints, functions, netfilter evaluation functions. */
function selectTargets(k: KernelView, req: TraceRequest): Targets {
  const tracepoints = tracepointsFor(catalog(), req).filter((name) => (!req.only || req.only.includes(name)) && !req.exclude?.includes(name));
  const all = req.functions?.funcs ?? [];
  // with --iptable, the netfilter steps stand for the evaluation functions (and hide pktpath's own chains)
  const replaced = req.nfEval ? all.filter((f) => REPLACED_BY_STEPS.test(f.name)).map((f) => f.name) : [];
  const funcs = replaced.length ? all.filter((f) => !replaced.includes(f.name)) : all;
  const nfEval = req.nfEval && all.length ? planNfEval((func, module) => firstParamOf(k.btf, func, module)) : { programs: [], missing: [] };
  return { tracepoints, funcs, replaced, returns: req.functions?.returns ?? new Set(), nfEval };
}

const causeOf = (err: unknown): unknown => (err as KernelError).cause ?? err;

/** Phase select, the optional groups, on when asked for and the kernel may have them. */
function optionalGroups(k: KernelView, req: TraceRequest): Groups {
  const fexitWhy = (err: unknown): string => `fexit does not load here: ${backendReason('fentry', causeOf(err), true, k.facts)}`;
  const observers: OptionalGroup = {
    name: 'netfilter observers',
    on: req.observers === true,
    why: (err) => `the netfilter observer programs do not load here: ${(err as Error).message}`,
  };
  // BPF netfilter programs need kernel 6.4+, whose BTF has their context type
  if (observers.on && !hasFeature('netfilter_prog', k.facts)) {
    observers.on = false;
    observers.problem = 'this kernel has no BPF netfilter hook programs (Linux 6.4+)';
  }
  return {
    observers,
    returns: new Map(),
    nfEval: { name: 'netfilter evaluation functions', mechanism: 'fexit', on: req.nfEval === true, why: fexitWhy },
  };
}

/** Why the return-value programs do not load: the kernel floor they need, else the load's error. */
function returnsWhy(k: KernelView, via: ReturnsVia, err: unknown): string {
  if (via === 'session') return missingFeature(['kprobe_session'], k.facts) ?? `kprobe sessions do not load here: ${(causeOf(err) as Error).message}`;
  return missingFeature(['fexit', 'func_ret'], k.facts) ?? `fexit does not load here: ${backendReason('fentry', causeOf(err), true, k.facts)}`;
}

/** The return-value group of an entry backend (made on first use); undefined when that backend reports none. */
function returnsGroup(b: Build, backend: FuncBackend): OptionalGroup | undefined {
  const via = returnsVia(backend, b.auto, b.k.facts);
  if (!via || !b.t.funcs.some((f) => b.t.returns.has(f.name))) return undefined;
  let g = b.g.returns.get(backend);
  if (!g) {
    g = { name: 'function return values', mechanism: via, on: true, why: (err) => returnsWhy(b.k, via, err) };
    b.g.returns.set(backend, g);
  }
  return g;
}

/** Phase select, the function backend: the first in the plan's order that loads and attaches. */
function loadFunctions(b: Build): FunctionsLoaded {
  const plan = b.req.functions;
  if (!plan || !b.t.funcs.length) return { status: [] };
  const errors: string[] = [];
  let phase: LoadPhase = 'load';
  for (const backend of plan.backends) {
    const r = tryBackend(b, backend);
    if ('loaded' in r) return r;
    errors.push(`${backend} (${r.phase}): ${r.why}`);
    phase = r.phase;
  }
  if (plan.backends.length === 1) {
    throw new KernelError(`backend ${errors.join('; ')}; see pktpath doctor`, { phase, probe: plan.backends[0]! });
  }
  const reason = `no function backend works here: ${errors.join('; ')}`;
  return { status: [{ probe: `${plan.funcs.length} kernel functions`, attached: false, reason }] };
}

type Tried = Required<Pick<FunctionsLoaded, 'loaded' | 'backend'>> & FunctionsLoaded;

/** One backend: load with its templates, attach its functions; why not, when it does not work here. */
function tryBackend(b: Build, backend: FuncBackend): Tried | { why: string; phase: LoadPhase } {
  const pmu = hasKprobePmu();
  if (backend === 'kprobe' && !pmu) return { why: backendReason('kprobe', new Error('no kprobe PMU'), pmu, b.k.facts), phase: 'select' };
  const first = b.auto ? functionParts(b.t.funcs.slice(0, 1), new Set(), backend, null)[0]?.targets[0] : undefined;
  const refused = first ? preflightBackend(backend, first) : null;
  if (refused) return { why: backendReason(backend, causeOf(refused), pmu, b.k.facts), phase: (refused as KernelError).phase ?? 'attach' };
  let loaded: Loaded;
  try {
    loaded = loadWith(b, backend);
  } catch (err) {
    return { why: backendReason(backend, causeOf(err), pmu, b.k.facts), phase: (err as KernelError).phase ?? 'load' };
  }
  let a: Attachment;
  try {
    fillFuncSockets(loaded.h, b.t.funcs);
    a = attachParts(loaded.h, functionParts_(b, backend));
  } catch (err) {
    native().close(loaded.h);
    throw phaseError('attach', backend, (err as Error).message, err);
  }
  if (a.usable) return { loaded, backend, status: a.status };
  native().close(loaded.h);
  return { why: a.error === undefined ? (a.why ?? 'unusable') : backendReason(backend, a.error, pmu, b.k.facts), phase: 'attach' };
}

/** The plan's functions as the backends attach them, with the return values that are on. */
function functionParts_(b: Build, backend: FuncBackend | undefined): FunctionPart[] {
  if (!backend) return [];
  const g = returnsGroup(b, backend);
  const via = g?.on ? (g.mechanism as ReturnsVia) : null;
  return functionParts(b.t.funcs, b.t.returns, backend, via);
}

/** The groups that take part in a load with this backend. */
function groupsFor(b: Build, backend: FuncBackend | undefined): OptionalGroup[] {
  const out = [b.g.observers];
  const ret = backend ? returnsGroup(b, backend) : undefined;
  if (ret) out.push(ret);
  if (backend && b.t.nfEval.programs.length) out.push(b.g.nfEval);
  return out;
}

/**
 * The load, with the optional groups that still may load: when the fentry backend itself
 * is refused (EPERM and the like), its fexit groups are too, without a second load.
 */
function loadWith(b: Build, backend: FuncBackend | undefined): Loaded {
  const refused = (g: OptionalGroup, err: unknown): boolean => backend === 'fentry' && g.mechanism === 'fexit' && mechanismMissing(causeOf(err));
  return loadWithOptionalGroups(groupsFor(b, backend), () => loadFlavours(b, backend), (l) => native().close(l.h), refused);
}

/** tp_btf where the kernel's BTF has the tracepoint; a kernel that rejects tp_btf may still take raw_tp. */
function loadFlavours(b: Build, backend: FuncBackend | undefined): Loaded {
  try {
    return loadOnce(b, backend, b.req.forceRaw ?? false);
  } catch (err) {
    if (b.req.forceRaw) throw err;
    return loadOnce(b, backend, true);
  }
}

/** Phases open (the object), select, configure and load, once; the handle is closed when one fails. */
function loadOnce(b: Build, backend: FuncBackend | undefined, forceRaw: boolean): Loaded {
  const choices = chooseFlavours(b.t.tracepoints, b.k.btf, b.k.facts.hasSymbol, forceRaw);
  const h = openObject(b.req.filter);
  try {
    selectPrograms(h, programsFor(b, h, backend, choices));
    const fields = { ...b.fields, ...kernelFeatureFields(b.k.btf), ...filterConfig(b.req.filter), observe: b.g.observers.on ? 1 : 0, track: b.req.track ? 1 : 0 };
    configureObject(h, fields, b.req.ringBytes);
    loadObject(h);
    return { h, choices };
  } catch (err) {
    native().close(h);
    throw err;
  }
}

/** Every program this load needs, as each backend names them (phase select). */
function programsFor(b: Build, h: ObjHandle, backend: FuncBackend | undefined, choices: readonly TracepointChoice[]): Set<string> {
  const on = new Set<string>();
  const add = (names: readonly string[]): void => names.forEach((p) => on.add(p));
  try {
    add(tracepointBackend.prepare(h, tracepointTargets(choices)));
    for (const part of functionParts_(b, backend)) add(FUNCTION_BACKENDS[part.backend].prepare(h, part.targets));
    if (backend && b.g.nfEval.on && b.t.nfEval.programs.length) add(fexitEvalBackend.prepare(h, b.t.nfEval.programs));
    if (b.g.observers.on) add(netfilterBackend.prepare(h, []));
  } catch (err) {
    throw phaseError('select', backend, (err as Error).message, err);
  }
  return on;
}

function tracepointTargets(choices: readonly TracepointChoice[]): TracepointTarget[] {
  return choices.flatMap((c) => (c.flavour ? [{ probe: c.probe, flavour: c.flavour }] : []));
}

/** Phase attach: tracepoints, then what the function backend and the groups left to say. */
function attachAll(b: Build, loaded: Loaded, fn: FunctionsLoaded): ProbeStatus[] {
  const since = new Map(catalog().tracepoints.map((t) => [t.name, t.since]));
  const attached = new Map(tracepointBackend.attach(loaded.h, tracepointTargets(loaded.choices)).status.map((s) => [s.probe, s]));
  const probes: ProbeStatus[] = loaded.choices.map(
    (c) => attached.get(c.probe) ?? { probe: c.probe, attached: false, reason: `${c.reason} (added in ${since.get(c.probe)})` },
  );
  // arguments this kernel's tracepoints lack: the trace runs without them, --verbose says so
  const on = probes.filter((p) => p.attached).map((p) => p.probe);
  for (const m of missingArguments(on, b.k.facts)) probes.push({ probe: m.what, attached: false, reason: m.reason });
  probes.push(...fn.status, ...groupStatus(b, loaded.h, fn.backend));
  if (!probes.some((p) => p.attached)) {
    const why = probes.map((p) => `${p.probe}: ${p.reason}`).join('; ');
    throw new KernelError(`attach: no probe could be attached (${why}); see pktpath doctor`, { phase: 'attach' });
  }
  return probes;
}

/** The netfilter evaluation functions (attached here), and why an optional group is off. */
function groupStatus(b: Build, h: ObjHandle, backend: FuncBackend | undefined): ProbeStatus[] {
  const out: ProbeStatus[] = [];
  const { req, t, g } = b;
  if (backend && g.nfEval.on && t.nfEval.programs.length) out.push(...fexitEvalBackend.attach(h, t.nfEval.programs).status);
  else if (req.nfEval && t.funcs.length) {
    const why = g.nfEval.problem ?? (backend ? 'no evaluation function found' : 'needs a function backend (fexit)');
    out.push({ probe: 'netfilter evaluation functions', attached: false, reason: why });
  }
  for (const f of t.replaced) out.push({ probe: f, attached: false, reason: 'with --iptable its netfilter step (table, chain, verdict) stands for it' });
  if (req.nfEval && backend) for (const m of t.nfEval.missing) out.push({ probe: m.split(':')[0]!, attached: false, reason: m.slice(m.indexOf(':') + 2) });
  const ret = backend ? g.returns.get(backend) : undefined;
  if (ret && !ret.on && ret.problem) out.push({ probe: 'function return values', attached: false, reason: ret.problem });
  return out;
}

/** Reads entry `idx` of a BPF array of u64 counters. */
function readCounter(fd: number, idx: number): number {
  const v = native().mapLookup(fd, new Uint8Array(new Uint32Array([idx]).buffer), 8);
  return v ? Number(new BigUint64Array(v)[0]) : 0;
}

/** Process-tree capture's side of the object: the tracked pids in, the counters out. */
function makeTracker(h: ObjHandle, closed: () => boolean): Tracker {
  const n = native();
  let pidsFd: number, statsFd: number;
  try {
    pidsFd = n.mapFd(h, 'track_pids');
    statsFd = n.mapFd(h, 'track_stats');
  } catch (err) {
    throw phaseError('ring', 'track_pids', (err as Error).message, err);
  }
  return {
    track(pid) {
      if (!Number.isInteger(pid) || pid <= 0) throw new Error(`cannot track pid ${pid}`);
      if (closed()) throw new Error('the trace is closed');
      n.mapUpdate(pidsFd, new Uint8Array(new Uint32Array([pid]).buffer), new Uint8Array([1]), 0);
    },
    counts: () => (closed() ? { flows: 0, forks: 0, untracked: 0, sockets: 0 } : { flows: readCounter(statsFd, 0), forks: readCounter(statsFd, 1), untracked: readCounter(statsFd, 2), sockets: readCounter(statsFd, 3) }),
  };
}

/** Phase ring: the ring buffer and counters, and the one way to stop. */
function handOff(h: ObjHandle, probes: readonly ProbeStatus[], g: Groups, backend: FuncBackend | undefined, track: boolean): LoadedTrace {
  const n = native();
  let statsFd: number, pcapStatsFd: number, ringFd: number, ring: RingPages;
  try {
    statsFd = n.mapFd(h, 'stats');
    pcapStatsFd = n.mapFd(h, 'pcap_stats');
    ringFd = n.mapFd(h, 'events');
    ring = n.ringbuf(ringFd);
  } catch (err) {
    throw phaseError('ring', 'events', (err as Error).message, err);
  }
  let closing: Promise<void> | undefined;
  const readStat = (idx: number, fd = statsFd): number => readCounter(fd, idx);
  let closed = false;
  const tracker = track ? makeTracker(h, () => closed) : undefined;
  const observers: Observers | undefined = g.observers.on
    ? { attach: (slot, pf, hookNum, priority, netnsPath) => void attachSpot(h, { slot, pf, hookNum, priority, netnsPath }) }
    : undefined;
  return {
    ...(observers ? { observers } : {}),
    ...(g.observers.problem ? { observerProblem: g.observers.problem } : {}),
    ring,
    ringFd,
    probes,
    backend,
    ...(tracker ? { tracker } : {}),
    stats: () => (closed ? { lost: 0, emitted: 0, undecided: 0 } : { lost: readStat(0), emitted: readStat(1), undecided: readStat(0, pcapStatsFd) }),
    close: () => {
      if (closed) return;
      closed = true;
      n.close(h);
    },
    closeAsync: () => {
      if (!closing) closing = closed ? Promise.resolve() : n.closeAsync(h);
      closed = true;
      return closing;
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
