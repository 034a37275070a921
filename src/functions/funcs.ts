/**
 * Function-level probes (fentry/fexit, kprobe.multi, kprobe): which kernel functions
 * can be traced for packets, and which of them a trace uses.
 *
 * - {@link skbFunctions} finds every kernel function whose BTF prototype takes a
 *   `struct sk_buff *` among its first five arguments (vmlinux and module BTF).
 * - {@link parseAvailableFilterFunctions} reads tracefs `available_filter_functions`
 *   (which functions ftrace, hence kprobe.multi and fentry, can hook).
 * - {@link selectFunctions} turns the default set (src/functions/functions.json, see
 *   {@link parseFunctionCatalog}), `--all`, `--func` and `--exclude` into the functions
 *   to attach, and says why every other wanted function is skipped.
 *
 * Everything here is pure: the OS edge is src/functions/io/traceable.ts and src/kernel/io/kernel.ts.
 */
import type { Btf, BtfFunc, BtfFuncProto } from '../kernel/btf.js';
import { RET_CONVENTIONS } from './returns.js';
import type { RetConvention } from './returns.js';

/** Where in the stack a default function sits. */
export type FuncStage =
  | 'link-rx'
  | 'link-tx'
  | 'qdisc'
  | 'ip'
  | 'ipv6'
  | 'netfilter'
  | 'route'
  | 'tcp'
  | 'udp'
  | 'icmp'
  | 'bridge'
  | 'forward'
  | 'socket'
  | 'drop'
  | 'free';

/** Address family a default function serves. */
export type FuncFamily = 'ipv4' | 'ipv6' | 'any';

/** One entry of the default function set (src/functions/functions.json). */
export interface DefaultEntry {
  readonly name: string;
  readonly stage: FuncStage;
  readonly family: FuncFamily;
  /**
   * Module holding the function when the kernel builds that part as a module (Debian builds
   * bridge, veth, netfilter tables as modules); only used to explain a missing function.
   */
  readonly module?: string;
  /**
   * The return value tells the packet's fate (a netfilter verdict, NET_RX_DROP, -errno, a
   * drop reason): the engine reports it on return (fexit, kprobe session). `true`: BTF's
   * return type says how to read it; a convention when the type cannot (src/functions/returns.ts).
   */
  readonly ret?: true | RetConvention;
  /** what the function does to the packet, in plain words */
  readonly what: string;
}

/** A kernel function that takes a `struct sk_buff *`. */
export interface SkbFunc {
  readonly name: string;
  /** Module that defines it; absent for vmlinux. */
  readonly module?: string;
  /**
   * 1-based position of the first `struct sk_buff *` argument (1..5). Typedefs and
   * const/volatile/restrict/type_tag are looked through, so `const struct sk_buff *` counts;
   * `struct sk_buff **` does not.
   */
  readonly skbArg: number;
  /** Number of declared parameters (the variadic `...` not counted). */
  readonly nargs: number;
  /** Id of the FUNC in its BTF (the module's split BTF for module functions). */
  readonly btfId: number;
  /** C type names of the parameters: "struct net *", "const struct sk_buff *", "u32". */
  readonly params: readonly string[];
  /** C type name of the return type ("void", "int", "struct sk_buff *"). */
  readonly ret: string;
  /** The prototype ends in `...` (fentry/fexit cannot attach to these). */
  readonly variadic: boolean;
}

/** Highest argument position the function probes read an skb from (pt_regs PARM1..PARM5). */
export const MAX_SKB_ARG = 5;

const FUNC_STAGES: ReadonlySet<string> = new Set<FuncStage>([
  'link-rx', 'link-tx', 'qdisc', 'ip', 'ipv6', 'netfilter', 'route', 'tcp', 'udp', 'icmp', 'bridge', 'forward',
  'socket', 'drop', 'free',
]);
const FUNC_FAMILIES: ReadonlySet<string> = new Set<FuncFamily>(['ipv4', 'ipv6', 'any']);

/**
 * Validates the parsed src/functions/functions.json (`{"functions": [...]}`): every field
 * present, known stage and family, names unique. Returns the entries in file order.
 */
export function parseFunctionCatalog(json: unknown): DefaultEntry[] {
  const c = json as { functions?: unknown };
  if (!c || !Array.isArray(c.functions)) throw new Error('function catalogue: "functions" array missing');
  const names = new Set<string>();
  const out: DefaultEntry[] = [];
  for (const e of c.functions as Partial<DefaultEntry>[]) {
    for (const k of ['name', 'stage', 'family', 'what'] as const) {
      if (typeof e?.[k] !== 'string' || e[k] === '') {
        throw new Error(`function catalogue: entry ${JSON.stringify(e)} lacks "${k}"`);
      }
    }
    const entry = e as DefaultEntry;
    if (!/^[A-Za-z_][A-Za-z0-9_.]*$/.test(entry.name)) throw new Error(`function catalogue: bad name "${entry.name}"`);
    if (!FUNC_STAGES.has(entry.stage)) throw new Error(`function catalogue: ${entry.name}: unknown stage "${entry.stage}"`);
    if (!FUNC_FAMILIES.has(entry.family)) throw new Error(`function catalogue: ${entry.name}: unknown family "${entry.family}"`);
    if (entry.module !== undefined && (typeof entry.module !== 'string' || !/^[A-Za-z0-9_-]+$/.test(entry.module))) {
      throw new Error(`function catalogue: ${entry.name}: bad module ${JSON.stringify(entry.module)}`);
    }
    const rawRet = entry.ret as unknown;
    if (rawRet !== undefined && typeof rawRet !== 'boolean' && !(RET_CONVENTIONS as readonly unknown[]).includes(rawRet)) {
      throw new Error(`function catalogue: ${entry.name}: "ret" must be true, false or one of ${RET_CONVENTIONS.join(', ')}`);
    }
    if (names.has(entry.name)) throw new Error(`function catalogue: duplicate ${entry.name}`);
    names.add(entry.name);
    const { name, stage, family, what, module } = entry;
    const ret = rawRet === true ? true : typeof rawRet === 'string' ? (rawRet as RetConvention) : undefined;
    out.push({ name, stage, family, ...(module === undefined ? {} : { module }), ...(ret ? { ret } : {}), what });
  }
  return out;
}

// ---- discovery ----

/** A module's split BTF, as returned by moduleBtf() in src/kernel/io/kernel.ts. */
export interface ModuleBtf {
  readonly name: string;
  readonly btf: Btf;
}

export interface SkbFunctionsOptions {
  /** Module BTFs (split on the same vmlinux) to scan too; only their own functions are listed. */
  readonly modules?: readonly ModuleBtf[];
  /**
   * Use only the public {@link Btf} API. By default the FUNC and FUNC_PROTO records are read
   * straight from the BTF bytes, which is several times faster on a 100k-type vmlinux; the
   * result is the same (the tests check both).
   */
  readonly slow?: boolean;
}

const BTF_KIND_FUNC = 12;
const BTF_KIND_FUNC_PROTO = 13;

/**
 * Reads FUNC -> FUNC_PROTO -> parameter type ids. Two implementations: raw words from the
 * BTF bytes (fast, relies on the parser's layout, checked at run time) or the public API.
 */
interface ProtoReader {
  /** Ids of the local FUNC types, ascending. */
  funcIds(): number[];
  /** Prototype id of FUNC `id`. */
  protoOf(id: number): number;
  /**
   * Writes the first `out.length` parameter type ids of prototype `protoId` to `out` (0 for the
   * variadic marker) and returns how many; -1 when `protoId` is not a FUNC_PROTO.
   */
  paramTypes(protoId: number, out: Uint32Array): number;
}

/** The private fields of {@link Btf} the fast reader uses. */
interface BtfRaw {
  readonly base: Btf | undefined;
  readonly startId: number;
  readonly view: DataView;
  readonly offsets: Uint32Array;
  readonly kinds: Uint8Array;
}

function rawOf(btf: Btf): BtfRaw | undefined {
  const r = btf as unknown as Partial<BtfRaw>;
  if (!(r.view instanceof DataView) || !(r.offsets instanceof Uint32Array) || !(r.kinds instanceof Uint8Array)) return undefined;
  if (r.offsets.length !== r.kinds.length || r.offsets.length !== btf.localTypeCount) return undefined;
  return r as BtfRaw;
}

class RawReader implements ProtoReader {
  /** @param chain the BTF and its bases, the BTF itself first. */
  private constructor(
    private readonly raw: BtfRaw,
    private readonly chain: readonly BtfRaw[],
  ) {}

  static of(btf: Btf): RawReader | undefined {
    const chain: BtfRaw[] = [];
    for (let b: Btf | undefined = btf; b; b = b.base) {
      const r = rawOf(b);
      if (!r) return undefined;
      chain.push(r);
    }
    // Spot-check the layout against the public API before trusting it.
    const first = chain[0]!;
    for (let i = 0; i < first.kinds.length; i++) {
      if (first.kinds[i] !== BTF_KIND_FUNC) continue;
      const f = btf.type(i + first.startId);
      if (f.kind !== 'func' || f.type !== first.view.getUint32(first.offsets[i]! + 8, true)) return undefined;
      break;
    }
    return new RawReader(first, chain);
  }

  funcIds(): number[] {
    const kinds = this.raw.kinds;
    const start = this.raw.startId;
    const ids: number[] = [];
    for (let i = 0; i < kinds.length; i++) if (kinds[i] === BTF_KIND_FUNC) ids.push(i + start);
    return ids;
  }

  protoOf(id: number): number {
    const r = this.raw;
    return r.view.getUint32(r.offsets[id - r.startId]! + 8, true);
  }

  paramTypes(protoId: number, out: Uint32Array): number {
    for (const r of this.chain) {
      if (protoId < r.startId) continue;
      const idx = protoId - r.startId;
      if (idx >= r.kinds.length || r.kinds[idx] !== BTF_KIND_FUNC_PROTO) return -1;
      const off = r.offsets[idx]!;
      const view = r.view;
      const n = Math.min(view.getUint32(off + 4, true) & 0xffff, out.length);
      for (let i = 0; i < n; i++) out[i] = view.getUint32(off + 16 + i * 8, true);
      return n;
    }
    return -1;
  }
}

class PublicReader implements ProtoReader {
  constructor(private readonly btf: Btf) {}

  funcIds(): number[] {
    const b = this.btf;
    const ids: number[] = [];
    for (let id = b.startId; id < b.endId; id++) if (b.kindOf(id) === 'func') ids.push(id);
    return ids;
  }

  protoOf(id: number): number {
    return (this.btf.type(id) as BtfFunc).type;
  }

  paramTypes(protoId: number, out: Uint32Array): number {
    if (protoId === 0 || this.btf.kindOf(protoId) !== 'func_proto') return -1;
    const p = this.btf.type(protoId) as BtfFuncProto;
    let n = Math.min(p.params.length, out.length);
    for (let i = 0; i < n; i++) out[i] = p.params[i]!.typeId;
    if (p.variadic && n < out.length) out[n++] = 0;
    return n;
  }
}

const MODIFIERS: ReadonlySet<string> = new Set(['typedef', 'const', 'volatile', 'restrict', 'type_tag']);

/** Follows typedefs and qualifiers by kind alone, without decoding structs (their members are costly). */
function peel(btf: Btf, id: number): number {
  for (let n = 0; n < 64 && id !== 0 && MODIFIERS.has(btf.kindOf(id)); n++) id = (btf.type(id) as { type: number }).type;
  return id;
}

/**
 * Ids of `struct sk_buff` (and of forward declarations of it) visible from `btf`: normally one.
 */
function skbStructIds(btf: Btf): Set<number> {
  const ids = new Set<number>();
  for (const id of btf.idsByName('sk_buff')) {
    const k = btf.kindOf(id);
    if (k === 'struct' || (k === 'fwd' && (btf.type(id) as { fwdKind: string }).fwdKind === 'struct')) ids.add(id);
  }
  return ids;
}

/**
 * Whether type `id` is `struct sk_buff *` once typedefs and qualifiers are looked through
 * (on the pointer and on its target). A forward declaration of `struct sk_buff` counts.
 */
function isSkbPointer(btf: Btf, skbIds: ReadonlySet<number>, id: number): boolean {
  const p = peel(btf, id);
  if (p === 0 || btf.kindOf(p) !== 'ptr') return false;
  return skbIds.has(peel(btf, (btf.type(p) as { type: number }).type));
}

function scan(btf: Btf, module: string | undefined, slow: boolean, out: SkbFunc[], seen: Set<string>): void {
  const reader: ProtoReader = (!slow && RawReader.of(btf)) || new PublicReader(btf);
  // 0 = unknown, 1 = skb pointer, 2 = not. Few distinct parameter types, so this is cheap.
  const memo = new Uint8Array(btf.endId);
  const skbIds = skbStructIds(btf);
  if (skbIds.size === 0) return;
  const types = new Uint32Array(MAX_SKB_ARG);
  for (const id of reader.funcIds()) {
    const n = reader.paramTypes(reader.protoOf(id), types);
    let skbArg = 0;
    for (let i = 0; i < n; i++) {
      const t = types[i]!;
      if (t === 0) break; // variadic marker
      let m = memo[t];
      if (m === 0) {
        m = isSkbPointer(btf, skbIds, t) ? 1 : 2;
        memo[t] = m;
      }
      if (m === 1) {
        skbArg = i + 1;
        break;
      }
    }
    if (skbArg === 0) continue;
    // A candidate: now decode and spell it.
    const f = btf.type(id) as BtfFunc;
    const key = module === undefined ? f.name : `${f.name} [${module}]`;
    if (seen.has(key)) continue; // same-named static functions: the first one wins
    seen.add(key);
    const proto = btf.type(f.type) as BtfFuncProto;
    const fn: SkbFunc = {
      name: f.name,
      skbArg,
      nargs: proto.params.length,
      btfId: id,
      params: proto.params.map((p) => btf.typeName(p.typeId)),
      ret: btf.typeName(proto.returnType),
      variadic: proto.variadic,
    };
    out.push(module === undefined ? fn : { ...fn, module });
  }
}

/**
 * 1-based position of the first `struct sock *` among a function's first five parameters
 * (C type names as {@link SkbFunc.params} spells them), 0 when there is none. Inside TCP's
 * receive path an skb has no device, route or owner left, and this argument is what names
 * its namespace.
 */
export function sockArg(params: readonly string[]): number {
  const i = params.slice(0, MAX_SKB_ARG).findIndex((p) => /^(?:const )?struct sock \*$/.test(p));
  return i + 1;
}

/**
 * Every FUNC in `btf` (vmlinux) and in the given module BTFs that takes a `struct sk_buff *`
 * among its first five parameters ({@link MAX_SKB_ARG}), in BTF id order, vmlinux first.
 * Functions may have any number of parameters; when several are skbs the first one counts.
 * When BTF has several FUNCs of one name (static functions in different files), the first
 * one taking an skb is kept. Only candidates have their types spelled, so a full vmlinux
 * takes tens of milliseconds.
 */
export function skbFunctions(btf: Btf, opts: SkbFunctionsOptions = {}): SkbFunc[] {
  const out: SkbFunc[] = [];
  const seen = new Set<string>();
  const slow = opts.slow === true;
  scan(btf, undefined, slow, out, seen);
  for (const m of opts.modules ?? []) scan(m.btf, m.name, slow, out, seen);
  return out;
}

/**
 * Whether {@link skbFunctions} can read `btf`'s records directly; false means the parser's
 * internals changed and discovery fell back to the public API (same result, ~3x slower).
 */
export function fastDiscovery(btf: Btf): boolean {
  return RawReader.of(btf) !== undefined;
}

/**
 * A lookup telling whether a function of that name exists at all in `btf` or the module
 * BTFs (skb or not); pass it as {@link Selection.hasFunc} so that skipped defaults get the
 * precise reason.
 */
export function btfHasFunc(btf: Btf, modules: readonly ModuleBtf[] = []): (name: string) => boolean {
  return (name) => btf.findType('func', name) !== undefined || modules.some((m) => m.btf.findType('func', name) !== undefined);
}

// ---- tracefs available_filter_functions ----

/** Candidate paths of tracefs `available_filter_functions`, preferred first. */
export function tracefsPaths(): string[] {
  return ['/sys/kernel/tracing/available_filter_functions', '/sys/kernel/debug/tracing/available_filter_functions'];
}

/** Key of a function in a traceable set: "ip_rcv" for vmlinux, "veth_xmit [veth]" for a module. */
export function traceKey(name: string, module?: string): string {
  return module === undefined ? name : `${name} [${module}]`;
}

export interface FilterFunctions {
  /** {@link traceKey}s: "ip_rcv", "veth_xmit [veth]". */
  readonly names: Set<string>;
  /**
   * Keys listed more than once: several functions share the name (static functions in
   * different files), so attaching by name is ambiguous (kprobes refuse with EADDRNOTAVAIL).
   */
  readonly duplicates: Set<string>;
}

/**
 * Parses tracefs `available_filter_functions` ("ip_rcv", "veth_xmit [veth]") or
 * `available_filter_functions_addrs` ("ffffffff81234560 ip_rcv", "ffffffffc0a01230 veth_xmit [veth]").
 * `__pfx_*` padding symbols that some kernels list are dropped; blank lines too.
 */
export function parseFilterFunctions(text: string): FilterFunctions {
  const names = new Set<string>();
  const duplicates = new Set<string>();
  let start = 0;
  const len = text.length;
  while (start < len) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = len;
    const line = text.slice(start, end).trim();
    start = end + 1;
    if (line === '') continue;
    const fields = line.split(/\s+/);
    let i = 0;
    // _addrs format: a hex address, then the name.
    if (fields.length >= 2 && /^[0-9a-fA-F]{8,16}$/.test(fields[0]!) && !fields[1]!.startsWith('[')) i = 1;
    const name = fields[i]!;
    if (name.startsWith('__pfx_') || name.startsWith('[')) continue;
    const mod = fields[i + 1];
    const key = mod !== undefined && mod.length > 2 && mod.startsWith('[') && mod.endsWith(']') ? traceKey(name, mod.slice(1, -1)) : name;
    if (names.has(key)) duplicates.add(key);
    else names.add(key);
  }
  return { names, duplicates };
}

/** {@link parseFilterFunctions}, names only: a set of {@link traceKey}s. */
export function parseAvailableFilterFunctions(text: string): Set<string> {
  return parseFilterFunctions(text).names;
}

// ---- selection ----

/** A function pattern never traced, and why. */
export interface DenyRule {
  readonly pattern: RegExp;
  readonly reason: string;
}

/**
 * Functions never traced, whatever `--all` or `--func` say.
 *
 * How others do it: cilium/pwru has no deny list. It takes every BTF function with a
 * `struct sk_buff *` in its first five arguments that `available_filter_functions` lists,
 * ignores attach failures (ENOENT, EADDRNOTAVAIL) and relies on the kernel to refuse what is
 * unsafe (the kprobe blacklist, notrace, the verifier's `btf_id_deny` set) and on BPF's
 * recursion guard, whose misses it reports on exit. retsnoop enforces a deny list of the
 * BPF and RCU machinery its own programs run through (`__bpf_prog_enter*`, `migrate_*`,
 * `rcu_read_*`, `preempt_count_*`, ...); none of those takes an skb, so an skb-only tracer
 * cannot pick them up.
 *
 * What an skb-only tracer can pick up is the tracepoint plumbing: the functions that run a
 * networking tracepoint's attached handlers. They run only because some tracer (pktpath's
 * own tracepoint engine, perf, ftrace) is attached to that tracepoint, so tracing them
 * reports the tracer rather than the packet's path, doubles every tracepoint event, and in
 * the BPF case (`__bpf_trace_*`) hooks the very code that runs pktpath's tracepoint programs.
 */
export const DENYLIST: readonly DenyRule[] = [
  {
    pattern: /^(?:__bpf_trace_|__traceiter_|__probestub_)/,
    reason: 'tracepoint plumbing that runs attached tracers (pktpath included), not the packet path',
  },
  {
    pattern: /^(?:perf_trace_|trace_event_raw_event_)/,
    reason: 'perf/ftrace tracepoint handler: runs only while perf or ftrace records that tracepoint',
  },
];

export interface Selection {
  /** The default set (functions.json); used when neither `all` nor `include` is given. */
  readonly defaults: readonly DefaultEntry[];
  /** `--all`: every discovered skb function. */
  readonly all: boolean;
  /** `--func REGEX`: only discovered functions whose name matches (search, not anchored). */
  readonly include?: RegExp;
  /** `--exclude REGEX`: drop functions whose name matches (search, not anchored). */
  readonly exclude?: RegExp;
  /** {@link traceKey}s from available_filter_functions; null when unknown (tracefs not mounted). */
  readonly traceable: Set<string> | null;
  /** Rules of functions never traced; {@link DENYLIST} when absent, `[]` to trace anything. */
  readonly denylist?: readonly DenyRule[];
  /**
   * Whether BTF has a function of that name at all ({@link btfHasFunc}). Lets a default that
   * is not in `all` be told apart: missing from BTF, or present without an skb argument.
   */
  readonly hasFunc?: (name: string) => boolean;
}

export interface Skipped {
  readonly name: string;
  readonly module?: string;
  readonly reason: string;
}

export interface SelectionResult {
  /** Functions to attach: defaults in catalogue order, otherwise discovery (BTF id) order. */
  readonly selected: SkbFunc[];
  /** Wanted functions that are not attached, with the reason. */
  readonly skipped: Skipped[];
}

export const REASON_NOT_IN_BTF = "not in this kernel's BTF (inlined or renamed)";
export const REASON_NO_SKB = 'no struct sk_buff * among its first five arguments';
export const REASON_NOT_IN_BTF_OR_NO_SKB = "not in this kernel's BTF, or no struct sk_buff * among its first five arguments";
export const REASON_NOT_TRACEABLE = 'not traceable (notrace or inlined)';
export const REASON_EXCLUDED = 'excluded by --exclude';

/** Reason for a default whose module may simply not be loaded. */
export function reasonModuleMissing(module: string, btfChecked: boolean): string {
  return btfChecked
    ? `not in this kernel's BTF (module ${module} not loaded, or inlined or renamed)`
    : `not in this kernel's BTF (module ${module} not loaded, or inlined or renamed), or no struct sk_buff * among its first five arguments`;
}

/**
 * The copy of a default function to trace when several share its name: the vmlinux one,
 * else the one in the catalogue's module, else a traceable one (modules may carry private
 * copies of header inlines such as dev_queue_xmit), else the first.
 */
function pickDefault(list: readonly SkbFunc[], d: DefaultEntry, traceable: Set<string> | null): SkbFunc {
  return (
    list.find((f) => f.module === undefined) ??
    list.find((f) => f.module === d.module) ??
    list.find((f) => traceable?.has(traceKey(f.name, f.module))) ??
    list[0]!
  );
}

function matches(re: RegExp, name: string): boolean {
  return name.search(re) >= 0; // search ignores the g/y flags' lastIndex
}

/**
 * Chooses the functions to trace.
 *
 * - Base set: `include` (`--func REGEX`) given: every discovered function whose name matches,
 *   as pwru's `--filter-func` (which, unlike this, anchors the pattern: write `^ip_rcv$` for
 *   one function). Else `all` (`--all`): every discovered function. Else the defaults.
 *   `--all --func X` is the same as `--func X`.
 * - `exclude` (`--exclude REGEX`) then removes matching functions (reported as skipped).
 * - Denied functions ({@link DENYLIST}) are skipped.
 * - When `traceable` is known, functions it does not list are skipped: ftrace cannot hook
 *   them (notrace, or every call site inlined), so neither fentry nor kprobe.multi can.
 * - Defaults that discovery did not find are skipped with why: not in BTF, or no skb in the
 *   first five arguments (precise when {@link Selection.hasFunc} is given).
 *
 * Module functions are matched by name; in `traceable` they are looked up as "name [module]".
 * A default name present in both vmlinux and a module resolves to vmlinux (see pickDefault).
 * A default missing from BTF whose catalogue entry names a module is reported as "module X
 * not loaded, or inlined or renamed".
 */
export function selectFunctions(all: readonly SkbFunc[], sel: Selection): SelectionResult {
  const deny = sel.denylist ?? DENYLIST;
  const selected: SkbFunc[] = [];
  const skipped: Skipped[] = [];

  const skip = (name: string, module: string | undefined, reason: string): void => {
    skipped.push(module === undefined ? { name, reason } : { name, module, reason });
  };

  const consider = (f: SkbFunc): void => {
    if (sel.exclude && matches(sel.exclude, f.name)) return skip(f.name, f.module, REASON_EXCLUDED);
    const rule = deny.find((r) => matches(r.pattern, f.name));
    if (rule) return skip(f.name, f.module, `denied: ${rule.reason}`);
    if (sel.traceable && !sel.traceable.has(traceKey(f.name, f.module))) return skip(f.name, f.module, REASON_NOT_TRACEABLE);
    selected.push(f);
  };

  if (sel.include || sel.all) {
    for (const f of all) if (!sel.include || matches(sel.include, f.name)) consider(f);
    return { selected, skipped };
  }

  const byName = new Map<string, SkbFunc[]>();
  for (const f of all) {
    const list = byName.get(f.name);
    if (list) list.push(f);
    else byName.set(f.name, [f]);
  }
  const done = new Set<string>();
  for (const d of sel.defaults) {
    if (done.has(d.name)) continue;
    done.add(d.name);
    const list = byName.get(d.name);
    if (list) {
      consider(pickDefault(list, d, sel.traceable));
      continue;
    }
    let reason: string;
    if (sel.hasFunc?.(d.name)) reason = REASON_NO_SKB;
    else if (d.module !== undefined) reason = reasonModuleMissing(d.module, sel.hasFunc !== undefined);
    else reason = sel.hasFunc ? REASON_NOT_IN_BTF : REASON_NOT_IN_BTF_OR_NO_SKB;
    skip(d.name, undefined, reason);
  }
  return { selected, skipped };
}
