/**
 * The tracepoint engine: loads bpf/pktpath.bpf.c with one program per catalogued
 * tracepoint (tp_btf where the kernel's BTF describes it, raw_tp otherwise), in
 * explicit phases — open, choose, configure, load, attach — each failing with its
 * own message. A tracepoint the kernel lacks, or that fails to attach, is skipped
 * with a reason; only "nothing attached at all" is fatal.
 */
import { existsSync, readFileSync } from 'node:fs';
import { parseBtf } from '../core/btf.js';
import type { Btf } from '../core/btf.js';
import { encodeConfig } from '../core/config.js';
import type { ConfigFields } from '../core/config.js';
import { elfSymbols, readElfSection } from '../core/elf.js';
import { EnvironmentError, KernelError } from '../core/errors.js';
import { catalog } from './catalog.js';
import { kallsyms, kernelBtf } from './kernel.js';
import { native } from './native.js';
import type { NativeError, ObjHandle, RingPages } from './native.js';
import { BPF_OBJECT } from './paths.js';

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
  /** forces the raw_tp flavour everywhere (tests, old kernels) */
  readonly forceRaw?: boolean;
}

/** Kernel feature flags in pp_config that depend on tracepoint signatures. */
export function kernelFeatureFields(btf: Btf): ConfigFields {
  const args = (tp: string): readonly string[] => btf.tracepointArgs(tp) ?? [];
  return {
    has_kfree_reason: args('kfree_skb').length >= 3 ? 1 : 0,
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

/** Which flavour each catalogued tracepoint gets on this kernel (pure given BTF and symbols). */
export function chooseFlavours(
  names: readonly string[],
  btf: Btf,
  hasSymbol: (name: string) => boolean,
  forceRaw: boolean,
): Choice[] {
  return names.map((probe) => {
    if (!forceRaw && btf.tracepointArgs(probe)) return { probe, flavour: 'tp_btf' as const };
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

/** Loads and attaches the tracepoint programs. */
export function startTracepoints(fields: object, opts: StartOptions): LoadedTrace {
  requirePrivileges();
  const n = native();
  const btf = kernelBtf();
  const cat = catalog();
  const wanted = cat.tracepoints.map((t) => t.name).filter((name) => !opts.only || opts.only.includes(name));
  const since = new Map(cat.tracepoints.map((t) => [t.name, t.since]));
  const syms = kallsyms();
  const cfgFields = { ...fields, ...kernelFeatureFields(btf) };
  const obj = objectInfo();

  const attempt = (forceRaw: boolean): { h: ObjHandle; choices: Choice[] } => {
    const choices = chooseFlavours(wanted, btf, (s) => syms.has(s), forceRaw);
    const h = openObject();
    try {
      const chosen = new Map(choices.map((c) => [c.probe, c.flavour]));
      for (const p of n.programs(h)) {
        const m = /^(tpbtf|rawtp)_(.+)$/.exec(p.name);
        const fl = m ? chosen.get(m[2]!) : undefined;
        n.setAutoload(h, p.name, fl !== undefined && (m![1] === 'tpbtf') === (fl === 'tp_btf'));
      }
      const rodata = new Uint8Array(n.mapInitialValue(h, '.rodata'));
      n.setMapInitialValue(h, '.rodata', encodeConfig(obj.btf, rodata, 'CFG', cfgFields, obj.cfgOffset));
      n.setMaxEntries(h, 'events', opts.ringBytes);
      n.takeLog();
      n.load(h);
      return { h, choices };
    } catch (err) {
      n.close(h);
      throw err;
    }
  };

  let loaded: { h: ObjHandle; choices: Choice[] };
  try {
    loaded = attempt(opts.forceRaw ?? false);
  } catch (first) {
    if (opts.forceRaw) throw loadError(first, n.takeLog());
    try {
      loaded = attempt(true); // a kernel that rejects tp_btf may still take raw_tp
    } catch (second) {
      throw loadError(second, n.takeLog());
    }
  }
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
  if (!probes.some((p) => p.attached)) {
    n.close(h);
    const why = probes.map((p) => `${p.probe}: ${p.reason}`).join('; ');
    throw new KernelError(`no tracepoint could be attached (${why}); see pktpath doctor`);
  }

  const statsFd = n.mapFd(h, 'stats');
  const ringFd = n.mapFd(h, 'events');
  const ring = n.ringbuf(ringFd);
  let closed = false;
  const readStat = (idx: number): number => {
    const v = n.mapLookup(statsFd, new Uint8Array(new Uint32Array([idx]).buffer), 8);
    return v ? Number(new BigUint64Array(v)[0]) : 0;
  };
  return {
    ring,
    ringFd,
    probes,
    stats: () => (closed ? { lost: 0, emitted: 0 } : { lost: readStat(0), emitted: readStat(1) }),
    close: () => {
      if (closed) return;
      closed = true;
      n.close(h);
    },
  };
}

function loadError(err: unknown, log: string): KernelError {
  const tail = lastLines(log, 4);
  return new KernelError(`load BPF programs: ${(err as Error).message}${tail ? ` (${tail})` : ''}; see pktpath doctor`, {
    cause: err,
  });
}
