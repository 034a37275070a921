/**
 * Names for the numbers in an event. The formatters work through this interface;
 * io/resolver.ts builds the real one from the probe catalogue, BTF, /proc/kallsyms and /run/netns.
 */
import type { ProbeField } from '../engine/catalog.js';
import type { ReturnValue } from '../functions/returns.js';

export interface Resolver {
  /** Probe name for a probe id ("ip_rcv", "kfree_skb", ...). */
  probeName(id: number): string;
  /** Kernel drop-reason name without the SKB_DROP_REASON_ prefix ("NO_SOCKET"); the number as text when unknown. */
  dropReason(value: number): string;
  /** Kernel address as "func+0xoff"; "0x..." when unknown. */
  symbol(addr: bigint): string;
  /** Name under /run/netns for a netns inode, if any. */
  netnsName(inode: number): string | undefined;
  /** Converts a CLOCK_MONOTONIC timestamp (ns) to Unix epoch nanoseconds. */
  wallClockNs(monoNs: bigint): bigint;
  /** What the probe's extra values mean (probes.json "info"); undefined or [] when none. */
  probeFields(id: number): readonly ProbeField[] | undefined;
  /**
   * A function return's value (the whole register) as the function's BTF return type
   * reads it, with its name; undefined when the probe is no function return.
   */
  returnOf?(id: number, raw: bigint): ReturnValue | undefined;
}
