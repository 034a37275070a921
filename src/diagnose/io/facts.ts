/**
 * Facts read from the machine for a diagnosis: the qdiscs of this namespace and of those
 * under /run/netns (tc names the kind behind a handle). Sockets and counter deltas come
 * from src/sockets and src/stats when they are there.
 */
import { execFileSync } from 'node:child_process';
import { currentNetns, netnsNames } from '../../kernel/io/netns.js';
import type { QdiscFact } from '../model.js';
import { parseTcQdiscs } from '../qdiscs.js';

/** Namespaces asked at most (a machine with hundreds of test namespaces stays quick). */
const MAX_NAMESPACES = 64;

function tcIn(ns: string | null): string {
  const args = ns === null ? ['-j', 'qdisc', 'show'] : ['-n', ns, '-j', 'qdisc', 'show'];
  try {
    return execFileSync('tc', args, { encoding: 'utf8', timeout: 2000, stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return '[]'; // a namespace that went away, or no tc: no facts, not an error
  }
}

/** The qdiscs of this namespace and of the named ones (those in `only` when given). */
export function readQdiscs(only?: ReadonlySet<number>): QdiscFact[] {
  const out = parseTcQdiscs(tcIn(null), currentNetns());
  let n = 0;
  for (const [inode, name] of netnsNames()) {
    if (only && !only.has(inode)) continue;
    if (++n > MAX_NAMESPACES) break;
    out.push(...parseTcQdiscs(tcIn(name), inode));
  }
  return out;
}
