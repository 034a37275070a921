/**
 * The real Resolver: probe names and extras from the catalogue, drop reasons from the running
 * kernel's BTF (numbers differ between kernels), symbols from /proc/kallsyms,
 * netns names from /run/netns, and the monotonic-to-wall-clock offset.
 */
import { dropReasonNames } from '../../kernel/btf.js';
import type { Resolver } from '../resolver.js';
import { probeFieldTable, probeNames } from '../../engine/catalog.js';
import { catalog } from '../../engine/io/catalog.js';
import { kallsyms, kernelBtf, reloadKallsyms } from '../../kernel/io/kernel.js';
import { netnsNames } from '../../kernel/io/netns.js';
import { errnoNames } from '../../kernel/io/errno.js';
import { returnValue } from '../../functions/returns.js';
import type { ReturnSpec } from '../../functions/returns.js';

/** Offset (ns) that turns CLOCK_MONOTONIC (bpf_ktime_get_ns) into Unix time. */
export function monoToWallOffsetNs(): bigint {
  // process.hrtime is CLOCK_MONOTONIC on Linux, the clock bpf_ktime_get_ns reads
  const mono = process.hrtime.bigint();
  const wall = BigInt(Date.now()) * 1_000_000n;
  return wall - mono;
}

/** The run's resolver, which also names function-level events by their address. */
export interface RunResolver extends Resolver {
  /** A probe id for the function at `ip` (entry or return), registered on first use. */
  functionProbe(ip: bigint, ret: boolean): number;
  /** A probe id for a source that is neither a tracepoint nor a function ("netfilter"). */
  namedProbe(name: string): number;
}

/** Synthetic ids for functions start above every catalogued id. */
const FIRST_FUNCTION_ID = 1024;

/**
 * The run's resolver. `returnSpecs`: how to read the return value of each function whose
 * return is reported (src/functions/io/plan.ts); without one a return is a plain int.
 */
export function makeResolver(returnSpecs: ReadonlyMap<string, ReturnSpec> = new Map()): RunResolver {
  const names = probeNames(catalog());
  const fields = probeFieldTable(catalog());
  const errno = errnoNames();
  const plainInt: ReturnSpec = { kind: 'int', type: 'int', bits: 32 };
  const reasons = dropReasonNames(kernelBtf());
  let syms = kallsyms();
  let symsReadAt = Date.now();
  /** Modules loaded after the start (iptables autoloads nf_tables) are not in the first read. */
  const symbolize = (addr: bigint): ReturnType<typeof syms.symbolize> => {
    const s = syms.symbolize(addr);
    const doubtful = !s || (s.module !== undefined && s.offset > 0x20000n);
    if (doubtful && Date.now() - symsReadAt > 1000) {
      syms = reloadKallsyms();
      symsReadAt = Date.now();
      return syms.symbolize(addr);
    }
    return s;
  };
  let netns = netnsNames();
  let netnsReadAt = Date.now();
  const offset = monoToWallOffsetNs();
  const functionIds = new Map<string, number>();
  const retIds = new Set<number>();
  let nextId = FIRST_FUNCTION_ID;
  return {
    functionProbe: (ip, ret) => {
      const key = `${ip}:${ret ? 1 : 0}`;
      let id = functionIds.get(key);
      if (id === undefined) {
        id = nextId++;
        functionIds.set(key, id);
        names[id] = symbolize(ip)?.name ?? `0x${ip.toString(16)}`;
        if (ret) retIds.add(id);
      }
      return id;
    },
    namedProbe: (name) => {
      const key = `name:${name}`;
      let id = functionIds.get(key);
      if (id === undefined) {
        id = nextId++;
        functionIds.set(key, id);
        names[id] = name;
      }
      return id;
    },
    probeFields: (id) => fields[id],
    returnOf: (id, raw) => (retIds.has(id) ? returnValue(returnSpecs.get(names[id] ?? '') ?? plainInt, raw, (n) => errno.get(n)) : undefined),
    probeName: (id) => names[id] ?? `probe#${id}`,
    dropReason: (v) => reasons.get(v) ?? String(v),
    symbol: (addr) => {
      const s = symbolize(addr);
      if (!s) return `0x${addr.toString(16)}`;
      const base = `${s.name}+0x${s.offset.toString(16)}`;
      return s.module === undefined ? base : `${base} [${s.module}]`;
    },
    netnsName: (ino) => {
      // namespaces come and go while a trace runs: re-read /run/netns at most once a second
      if (!netns.has(ino) && Date.now() - netnsReadAt > 1000) {
        netns = netnsNames();
        netnsReadAt = Date.now();
      }
      return netns.get(ino);
    },
    wallClockNs: (mono) => mono + offset,
  };
}
