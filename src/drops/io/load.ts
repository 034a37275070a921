/**
 * build/drops.bpf.o in the loader's phases, each failure a KernelError naming its phase:
 *
 *   open       the kernel's BTF and symbols; the object (libbpf open), with the run's
 *              pcap-filter expression written over its placeholders
 *   select     kfree_skb's flavour on this kernel (tp_btf, else raw_tp): that one program
 *   configure  the filter (CFG, the trace's struct pp_config) and the run's own settings
 *              (DCFG) into .rodata; the table, ring and stack map sizes
 *   load       the verifier; a kernel that refuses tp_btf is tried once more with raw_tp
 *   attach     the tracepoint (src/engine/io/attach/tracepoint.ts)
 *   ring       the maps' fds and the ring's pages handed to the reader
 *
 * Whatever was opened is closed on the way out; close() detaches and frees everything.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { elfSymbols } from '../../kernel/elf.js';
import { kernelFeatureFields } from '../../kernel/features.js';
import { kallsyms, kernelBtf } from '../../kernel/io/kernel.js';
import { requirePrivileges } from '../../kernel/io/privileges.js';
import { chooseFlavours, tracepointProgram } from '../../engine/flavours.js';
import type { Flavour } from '../../engine/flavours.js';
import { encodeConfig } from '../../engine/config.js';
import { native } from '../../engine/io/native.js';
import type { ObjHandle, RingPages } from '../../engine/io/native.js';
import { objectInfo, phaseError } from '../../engine/io/object.js';
import { tracepointBackend } from '../../engine/io/attach/tracepoint.js';
import { filterConfig } from '../../filter/filter.js';
import type { CompiledFilter } from '../../filter/filter.js';
import { filterPatches } from '../../filter/io/image.js';
import { EnvironmentError, KernelError } from '../../shared/errors.js';
import { BUILD_DIR } from '../../shared/io/paths.js';

export const DROPS_OBJECT = join(BUILD_DIR, 'drops.bpf.o');

export interface DropsRequest {
  /** struct pp_config fields (the trace's filter: netns, has_ifname, ifname, l4proto, addr, port...) */
  readonly filter: object;
  /** keys the table holds */
  readonly tableSize: number;
  /** the side channel's ring, bytes (a power of two >= page size) */
  readonly ringBytes: number;
  readonly samplePeriodNs: number;
  readonly sampleBurst: number;
  /** --stack: key by kernel stack, in a stack map of this many entries (0: no stacks) */
  readonly stacks: number;
  /** a pcap-filter expression, compiled for this object (compileExpression(e, DROPS_OBJECT)) */
  readonly expression?: CompiledFilter;
  /** tests: force the raw_tp flavour */
  readonly forceRaw?: boolean;
}

/** A loaded, attached drop counter. */
export interface LoadedDrops {
  readonly flavour: Flavour;
  readonly countsFd: number;
  readonly statsFd: number;
  readonly stacksFd: number;
  readonly progFd: number;
  readonly ring: RingPages;
  readonly tableSize: number;
  /** the kernel gives drop reasons (5.17+) */
  readonly reasonsKnown: boolean;
  /** Detaches and frees; idempotent. */
  close(): void;
}

/** Phase configure: both .rodata variables and the map sizes. */
function configure(h: ObjHandle, req: DropsRequest, kernelFields: Record<string, number>): void {
  const n = native();
  const info = objectInfo(DROPS_OBJECT);
  const dcfg = elfSymbols(readFileSync(DROPS_OBJECT)).find((s) => s.name === 'DCFG' && s.section === '.rodata');
  try {
    let rodata: Uint8Array = new Uint8Array(n.mapInitialValue(h, '.rodata'));
    rodata = encodeConfig(info.btf, rodata, 'CFG', { ...req.filter, ...filterConfig(req.expression), ...kernelFields }, info.cfgOffset);
    const mine = { sample_period_ns: req.samplePeriodNs, sample_burst: req.sampleBurst, want_stack: req.stacks > 0 ? 1 : 0 };
    n.setMapInitialValue(h, '.rodata', encodeConfig(info.btf, rodata, 'DCFG', mine, dcfg?.value ?? 0));
  } catch (err) {
    throw phaseError('configure', 'CFG', (err as Error).message, err);
  }
  const sizes: [string, number][] = [['drop_counts', req.tableSize], ['drop_samples', req.ringBytes], ['drop_stacks', Math.max(1, req.stacks)]];
  for (const [map, size] of sizes) {
    try {
      n.setMaxEntries(h, map, size);
    } catch (err) {
      throw phaseError('configure', map, `${size} entries: ${(err as Error).message}`, err);
    }
  }
}

/** Phases open (the object), select, configure, load, for one flavour; the handle is closed when one fails. */
function loadOnce(req: DropsRequest, flavour: Flavour, kernelFields: Record<string, number>): ObjHandle {
  const n = native();
  let h: ObjHandle;
  try {
    // the expression over bpf/pcap.h's placeholders (without one, bodies that return at once)
    const { offsets, bodies } = filterPatches(req.expression, DROPS_OBJECT);
    h = n.openPatched(DROPS_OBJECT, 'drops', offsets, bodies);
  } catch (err) {
    throw phaseError('open', undefined, `${DROPS_OBJECT}: ${(err as Error).message}`, err);
  }
  try {
    const want = tracepointProgram('kfree_skb', flavour);
    for (const p of n.programs(h)) n.setAutoload(h, p.name, p.name === want);
    configure(h, req, kernelFields);
    n.takeLog();
    try {
      n.load(h);
    } catch (err) {
      const tail = n.takeLog().trim().split('\n').slice(-3).join(' | ');
      throw phaseError('load', want, `${(err as Error).message}${tail ? ` (${tail})` : ''}; see pktpath doctor`, err);
    }
    return h;
  } catch (err) {
    n.close(h);
    throw err;
  }
}

/** Phases attach and ring. */
function attachAndHandOff(h: ObjHandle, flavour: Flavour, req: DropsRequest, reasonsKnown: boolean): LoadedDrops {
  const n = native();
  const a = tracepointBackend.attach(h, [{ probe: 'kfree_skb', flavour }]);
  const st = a.status[0];
  if (!st?.attached) throw new KernelError(`attach kfree_skb: ${st?.reason ?? 'not attached'}; see pktpath doctor`, { phase: 'attach', probe: 'kfree_skb' });
  let closed = false;
  try {
    return {
      flavour,
      countsFd: n.mapFd(h, 'drop_counts'),
      statsFd: n.mapFd(h, 'drop_stats'),
      stacksFd: n.mapFd(h, 'drop_stacks'),
      progFd: n.progFd(h, tracepointProgram('kfree_skb', flavour)),
      ring: n.ringbuf(n.mapFd(h, 'drop_samples')),
      tableSize: req.tableSize,
      reasonsKnown,
      close: () => {
        if (closed) return;
        closed = true;
        n.close(h);
      },
    };
  } catch (err) {
    throw phaseError('ring', 'drop_samples', (err as Error).message, err);
  }
}

/** Loads and attaches the drop counter on skb:kfree_skb. */
export function loadDrops(req: DropsRequest): LoadedDrops {
  requirePrivileges();
  if (!existsSync(DROPS_OBJECT)) throw new EnvironmentError(`BPF object not built (${DROPS_OBJECT}): run npm run setup`);
  const btf = kernelBtf();
  const syms = kallsyms();
  const kernelFields = kernelFeatureFields(btf);
  const choice = chooseFlavours(['kfree_skb'], btf, (s) => syms.has(s), req.forceRaw ?? false)[0]!;
  if (!choice.flavour) throw new KernelError(`select kfree_skb: ${choice.reason ?? 'not available'}`, { phase: 'select', probe: 'kfree_skb' });
  let flavour = choice.flavour;
  let h: ObjHandle;
  try {
    h = loadOnce(req, flavour, kernelFields);
  } catch (err) {
    if (flavour !== 'tp_btf') throw err;
    flavour = 'raw_tp';
    h = loadOnce(req, flavour, kernelFields);
  }
  try {
    return attachAndHandOff(h, flavour, req, kernelFields.has_kfree_reason === 1);
  } catch (err) {
    native().close(h);
    throw err;
  }
}
