/**
 * What a route lookup decided, in the words of `ip route`.
 *
 * IPv4 (fib:fib_table_lookup): the tracepoint gives the table, the error and the next hop;
 * the BPF side reads the route type from the next hop's fib_info. Without it (failed
 * lookups) the type follows from the error (fib_props[] in net/ipv4/fib_semantics.c maps
 * each type to an error).
 *
 * IPv6 (fib6:fib6_table_lookup): one event per table looked in. The BPF side reads the
 * route type from the fib6_result and derives the error from it as the kernel does
 * (ip6_rt_type_to_error: unreachable -113, prohibit -13, blackhole -22, throw -11). A table
 * with no matching route gives the namespace's null entry; the kernel then tries the next
 * table (as for -EAGAIN in IPv4), so it comes as err -11 with no type: "no-match".
 */
import type { RawEvent } from '../engine/event.js';
import { formatAddr } from '../shared/addr.js';

export interface Route {
  /** routing table id (254 main, 255 local, ...) */
  table: number;
  /** unicast, local, unreachable, blackhole, prohibit, throw, or "no-match" when the table had no entry */
  type: string;
  /** output interface of the chosen next hop, "" when none */
  oif: string;
  /** gateway, "" when the destination is on-link or there is no route */
  gw: string;
  /** the lookup's error: 0, or a negative errno */
  err: number;
}

/** rtnetlink route types (include/uapi/linux/rtnetlink.h RTN_*) */
const RTN: readonly string[] = ['unspec', 'unicast', 'local', 'broadcast', 'anycast', 'multicast', 'blackhole', 'unreachable', 'prohibit', 'throw', 'nat', 'xresolve'];
const RT_TABLE_LOCAL = 255;
const ERR_TYPE: Readonly<Record<number, string>> = {
  [-113]: 'unreachable', // EHOSTUNREACH
  [-22]: 'blackhole', // EINVAL
  [-13]: 'prohibit', // EACCES
  [-11]: 'no-match', // EAGAIN: throw, or nothing in this table: the next rule/table is tried
  [-101]: 'unreachable', // ENETUNREACH
};

/** Probes whose events describe a route lookup (routeOf applies). */
export const ROUTE_PROBES: ReadonlySet<string> = new Set(['fib_table_lookup', 'fib6_table_lookup']);

/** The route a fib_table_lookup or fib6_table_lookup event describes. */
export function routeOf(ev: RawEvent): Route {
  const err = ev.aux | 0;
  // the kernel's own type (fib_info.fib_type, fib6_result.fib6_type) when the BPF side could
  // read it (IPv4: successful lookups only; IPv6: also reject routes); else from the error
  const known = ev.aux3 ? RTN[ev.aux3] : undefined;
  const type = known ?? (err === 0 ? (ev.aux2 === RT_TABLE_LOCAL ? 'local' : 'unicast') : (ERR_TYPE[err] ?? `error ${err}`));
  const gw = ev.auxAddr ? formatAddr(ev.auxAddr.bytes, ev.auxAddr.family) : '';
  return { table: ev.aux2 >>> 0, type, oif: err === 0 ? ev.ifname : '', gw, err };
}
