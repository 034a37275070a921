/**
 * The addon functions the host view uses (native/pktpath.c): a netlink request, the
 * driver's ethtool statistics and a /proc file, each inside a network namespace that the
 * calling thread enters for that one call (setns) and leaves straight after.
 */
import { native } from '../../engine/io/native.js';

export interface EthtoolRaw {
  /** struct ethtool_gstrings (ETH_SS_STATS): cmd, string_set, len, then len x 32-byte names */
  strings: ArrayBuffer;
  /** struct ethtool_stats: cmd, n_stats, then n_stats x u64 */
  stats: ArrayBuffer;
}

export interface HostNative {
  /** Sends one netlink request from a socket made in that namespace (null: this one); every reply message, raw. */
  netlinkRequest(netnsPath: string | null, protocol: number, request: Uint8Array, maxBytes?: number): ArrayBuffer;
  /** `ethtool -S` numbers of a device through SIOCETHTOOL; null when the driver has none. */
  ethtoolStats(netnsPath: string | null, ifname: string): EthtoolRaw | null;
  /** The first 64 KiB of a file as that namespace's threads see it (/proc/thread-self/net/...). */
  readInNetns(netnsPath: string | null, file: string): string;
}

/** The addon, typed for the host view; EnvironmentError when it is not built. */
export function hostNative(): HostNative {
  return native() as unknown as HostNative;
}
