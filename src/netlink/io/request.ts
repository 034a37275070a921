/**
 * Netlink requests and ethtool statistics inside a namespace, with the addon's errors
 * turned into pktpath's: not allowed to enter (EnvironmentError, exit 3), the namespace
 * vanished (EnvironmentError), anything else the kernel refused (KernelError, exit 4).
 */
import { EnvironmentError, KernelError } from '../../shared/errors.js';
import { hostNative } from './native.js';
import type { EthtoolRaw } from './native.js';
import { netnsLabel } from './namespaces.js';
import type { Netns } from './namespaces.js';
import { addrDumpRequest, linkDumpRequest, parseAddresses, parseLinks } from '../rtnl.js';
import type { IfAddress, Link } from '../rtnl.js';
import { NETLINK_ROUTE } from '../netlink.js';

let seqCounter = 1;

/** The namespace was deleted between listing it and reading it. */
export class NetnsGoneError extends EnvironmentError {}

/** A fresh sequence number for a request. */
export function nextSeq(): number {
  seqCounter = (seqCounter % 0x7fffffff) + 1;
  return seqCounter;
}

/** Wraps an addon failure in the error class the CLI maps to an exit code. */
export function hostError(ns: Netns, what: string, err: unknown): Error {
  const errno = (err as { errno?: number }).errno;
  const where = `network namespace ${netnsLabel(ns)}`;
  if (errno === 1) return new EnvironmentError(`${what} in ${where}: not permitted (needs root)`, { cause: err });
  // ENOENT: its file under /run/netns is gone; EINVAL: the file is still there but `ip netns
  // del` has unmounted it, so setns finds no namespace behind it
  if ((errno === 2 || errno === 22) && /enter netns|in netns/.test(String((err as Error).message))) {
    return new NetnsGoneError(`${what}: ${where} is gone`, { cause: err });
  }
  const msg = err instanceof Error ? err.message : String(err);
  return new KernelError(`${what} in ${where}: ${msg}`, { cause: err });
}

/** Sends `request` over a netlink socket of `protocol` made in `ns`; the raw reply. */
export function netlinkRequest(ns: Netns, protocol: number, request: Uint8Array, what: string): Uint8Array {
  try {
    return new Uint8Array(hostNative().netlinkRequest(ns.path, protocol, request));
  } catch (err) {
    throw hostError(ns, what, err);
  }
}

/** The links of a namespace, with their IFLA_STATS64 statistics. */
export function readLinks(ns: Netns): Link[] {
  const seq = nextSeq();
  return parseLinks(netlinkRequest(ns, NETLINK_ROUTE, linkDumpRequest(seq), 'link dump'), seq);
}

/** The IPv4 and IPv6 addresses of a namespace. */
export function readAddresses(ns: Netns): IfAddress[] {
  const seq = nextSeq();
  return parseAddresses(netlinkRequest(ns, NETLINK_ROUTE, addrDumpRequest(seq), 'address dump'), seq);
}

/** A device's driver statistics (raw ioctl structs), or null when its driver has none. */
export function readEthtool(ns: Netns, ifname: string): EthtoolRaw | null {
  try {
    return hostNative().ethtoolStats(ns.path, ifname);
  } catch (err) {
    throw hostError(ns, `ethtool statistics of ${ifname}`, err);
  }
}

/** A per-namespace /proc file (e.g. /proc/thread-self/net/snmp) as `ns` shows it. */
export function readProcIn(ns: Netns, file: string): string {
  try {
    return hostNative().readInNetns(ns.path, file);
  } catch (err) {
    throw hostError(ns, `reading ${file}`, err);
  }
}
