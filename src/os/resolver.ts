/**
 * The real Resolver: probe names from the catalogue, drop reasons from the running
 * kernel's BTF (numbers differ between kernels), symbols from /proc/kallsyms,
 * netns names from /run/netns, and the monotonic-to-wall-clock offset.
 */
import { dropReasonNames } from '../core/btf.js';
import type { Resolver } from '../core/resolver.js';
import { probeNames } from '../core/catalog.js';
import { catalog } from './catalog.js';
import { kallsyms, kernelBtf } from './kernel.js';
import { netnsNames } from './netns.js';

/** Offset (ns) that turns CLOCK_MONOTONIC (bpf_ktime_get_ns) into Unix time. */
export function monoToWallOffsetNs(): bigint {
  // process.hrtime is CLOCK_MONOTONIC on Linux, the clock bpf_ktime_get_ns reads
  const mono = process.hrtime.bigint();
  const wall = BigInt(Date.now()) * 1_000_000n;
  return wall - mono;
}

/** Extra names a function-level backend adds (probe ids above the catalogue's). */
export interface ExtraProbes {
  readonly names: ReadonlyMap<number, string>;
}

export function makeResolver(extra?: ExtraProbes): Resolver {
  const names = probeNames(catalog());
  if (extra) for (const [id, name] of extra.names) names[id] = name;
  const reasons = dropReasonNames(kernelBtf());
  const syms = kallsyms();
  let netns = netnsNames();
  let netnsReadAt = Date.now();
  const offset = monoToWallOffsetNs();
  return {
    probeName: (id) => names[id] ?? `probe#${id}`,
    dropReason: (v) => reasons.get(v) ?? String(v),
    symbol: (addr) => syms.format(addr),
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
