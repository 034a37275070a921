/**
 * Counters at one moment, and what moved between two moments. Pure.
 *
 * A counter is identified by namespace, group, device (a link's name, "cpuN" for
 * softnet) and name. Softnet statistics are per CPU for the whole host: they carry
 * namespace 0, labelled "host".
 */
import type { CounterCatalog, CounterGroup, Level } from './meaning.js';
import { guessLevel } from './meaning.js';
import { parseSnmp6, parseSnmpPairs, parseSoftnet } from './procnet.js';
import type { Link } from '../netlink/rtnl.js';

export interface Counter {
  netns: number;
  netnsLabel: string;
  group: CounterGroup;
  device?: string;
  name: string;
  value: number;
}

export interface Snapshot {
  /** milliseconds on a monotonic clock */
  atMs: number;
  counters: Counter[];
}

/** A counter that moved, with its meaning. */
export interface Moved extends Counter {
  delta: number;
  perSecond: number;
  level: Level;
  meaning?: string;
  reasons: string[];
  seeds: string[];
}

export const HOST_NETNS = { netns: 0, netnsLabel: 'host' } as const;

/** Where a group of counters of one namespace came from. */
type Where = Pick<Counter, 'netns' | 'netnsLabel'>;

/** Counters from the nstat files of one namespace (snmp, netstat, snmp6 texts; missing ones are ''). */
export function snmpCounters(where: Where, snmp: string, netstat: string, snmp6: string): Counter[] {
  const all = new Map([...parseSnmpPairs(snmp), ...parseSnmpPairs(netstat), ...parseSnmp6(snmp6)]);
  return [...all].map(([name, value]) => ({ ...where, group: 'snmp', name, value }));
}

/** Counters of a namespace's links (IFLA_STATS64). */
export function linkCounters(where: Where, links: readonly Link[]): Counter[] {
  return links.flatMap((l) => [...l.stats].map(([name, value]) => ({ ...where, group: 'link' as const, device: l.name, name, value })));
}

/** Driver statistics of one device. */
export function ethtoolCounters(where: Where, device: string, stats: ReadonlyMap<string, number>): Counter[] {
  return [...stats].map(([name, value]) => ({ ...where, group: 'ethtool' as const, device, name, value }));
}

/** Per-CPU softnet counters of the host. */
export function softnetCounters(text: string): Counter[] {
  return parseSoftnet(text).flatMap(({ cpu, ...cols }) =>
    Object.entries(cols).map(([name, value]) => ({ ...HOST_NETNS, group: 'softnet' as const, device: `cpu${cpu}`, name, value: value as number })),
  );
}

export function counterKey(c: Counter): string {
  return `${c.netns}\u0000${c.group}\u0000${c.device ?? ''}\u0000${c.name}`;
}

function withMeaning(c: Counter, delta: number, seconds: number, catalog: CounterCatalog): Moved {
  const info = catalog.lookup(c.group, c.name);
  return {
    ...c,
    delta,
    perSecond: seconds > 0 ? delta / seconds : 0,
    level: info?.level ?? guessLevel(c.name),
    ...(info ? { meaning: info.meaning } : {}),
    reasons: info?.reasons ?? [],
    seeds: info?.seeds ?? [],
  };
}

const LEVEL_ORDER: Readonly<Record<Level, number>> = { drop: 0, error: 1, info: 2 };

/** Drops first, then errors, then the rest; within a level, the biggest change first. */
export function compareMoved(a: Moved, b: Moved): number {
  return LEVEL_ORDER[a.level] - LEVEL_ORDER[b.level] || b.delta - a.delta || counterKey(a).localeCompare(counterKey(b));
}

/**
 * The counters that moved from `prev` to `next` (with `all`, every counter of `next`,
 * moved or not). Gauges are never deltas: they appear only with `all`, with delta 0. A
 * counter that went down (a device re-created) or is new since `prev` is left out.
 */
export function diffSnapshots(prev: Snapshot, next: Snapshot, catalog: CounterCatalog, opts: { all?: boolean } = {}): Moved[] {
  const before = new Map(prev.counters.map((c) => [counterKey(c), c.value]));
  const seconds = (next.atMs - prev.atMs) / 1000;
  const out: Moved[] = [];
  for (const c of next.counters) {
    const gauge = catalog.lookup(c.group, c.name)?.gauge === true;
    const old = before.get(counterKey(c));
    const delta = old === undefined || gauge ? 0 : c.value - old;
    if (delta < 0 || (!opts.all && (delta === 0 || gauge))) continue;
    out.push(withMeaning(c, delta, seconds, catalog));
  }
  return out.sort(compareMoved);
}
