/**
 * Names for the numbers in an event. The pure core formats events through this
 * interface; src/os builds the real one from BTF, /proc/kallsyms and /run/netns.
 */
import type { InfoField } from './text.js';

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
  /** Extra fields of a probe id that the static table does not know (function returns). */
  probeFields?(id: number): readonly InfoField[] | undefined;
}
