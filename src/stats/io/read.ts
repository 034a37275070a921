/**
 * One snapshot of every counter of the given namespaces, each namespace's own: the nstat
 * files read by a thread inside the namespace (/proc/thread-self/net/...), link
 * statistics and driver (ethtool) statistics through sockets made inside it, and the
 * host's per-CPU softnet statistics once.
 */
import { readFileSync } from 'node:fs';
import { netnsLabel } from '../../netlink/io/namespaces.js';
import type { Netns } from '../../netlink/io/namespaces.js';
import { NetnsGoneError, readEthtool, readLinks, readProcIn } from '../../netlink/io/request.js';
import { parseEthtoolStats } from '../ethtool.js';
import { ethtoolCounters, linkCounters, snmpCounters, softnetCounters } from '../snapshot.js';
import type { Counter, Snapshot } from '../snapshot.js';
import { EnvironmentError } from '../../shared/errors.js';

const NET = '/proc/thread-self/net';

function optionalProc(ns: Netns, file: string): string {
  try {
    return readProcIn(ns, `${NET}/${file}`);
  } catch {
    return ''; // snmp6 is missing when IPv6 is disabled
  }
}

/** Driver statistics of every device but loopback; a device that vanished meanwhile is skipped. */
function driverCounters(ns: Netns, where: Pick<Counter, 'netns' | 'netnsLabel'>, devices: readonly string[]): Counter[] {
  const out: Counter[] = [];
  for (const dev of devices) {
    if (dev === 'lo') continue;
    let raw;
    try {
      raw = readEthtool(ns, dev);
    } catch (err) {
      if (err instanceof EnvironmentError) throw err;
      continue; // gone between the link dump and the ioctl, or the driver refused
    }
    if (raw) out.push(...ethtoolCounters(where, dev, parseEthtoolStats(raw.strings, raw.stats)));
  }
  return out;
}

/** Every counter of one namespace. */
export function namespaceCounters(ns: Netns): Counter[] {
  const where = { netns: ns.inode, netnsLabel: netnsLabel(ns) };
  const snmp = readProcIn(ns, `${NET}/snmp`);
  const counters = snmpCounters(where, snmp, optionalProc(ns, 'netstat'), optionalProc(ns, 'snmp6'));
  const links = readLinks(ns);
  counters.push(...linkCounters(where, links));
  counters.push(...driverCounters(ns, where, links.map((l) => l.name)));
  return counters;
}

function softnetText(): string {
  try {
    return readFileSync('/proc/net/softnet_stat', 'utf8');
  } catch {
    return '';
  }
}

/**
 * A snapshot of `namespaces` plus the host's softnet statistics. A namespace deleted
 * meanwhile is left out and named in `gone` (with `keepGone` false it is an error).
 */
export function readSnapshot(namespaces: readonly Netns[], keepGone = true): { snapshot: Snapshot; gone: Netns[] } {
  const atMs = performance.now();
  const gone: Netns[] = [];
  const counters = namespaces.flatMap((ns) => {
    try {
      return namespaceCounters(ns);
    } catch (err) {
      if (!(err instanceof NetnsGoneError) || !keepGone) throw err;
      gone.push(ns);
      return [];
    }
  });
  counters.push(...softnetCounters(softnetText()));
  return { snapshot: { atMs, counters }, gone };
}
