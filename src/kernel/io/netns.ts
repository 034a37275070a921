/**
 * Network namespaces by inode, by `ip netns` name, or by path.
 *
 * A netns is identified in events by the inode of its nsfs file (what `lsns -t net` and
 * `ls -iL /proc/PID/ns/net` print). Names are bind mounts under /run/netns (`ip netns add`).
 */
import { readdirSync, statSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../../shared/errors.js';

export const NETNS_RUN_DIR = '/run/netns';
const SELF_NETNS = '/proc/self/ns/net';

function statOrNull(path: string): Stats | null {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}

let nsfsDev: number | null | undefined;

/** Device number of nsfs (all namespace files share it); null when /proc is not there. */
function nsfsDevice(): number | null {
  if (nsfsDev === undefined) nsfsDev = statOrNull(SELF_NETNS)?.dev ?? null;
  return nsfsDev;
}

/** True when st is a namespace file (on nsfs). Without /proc this cannot be told: true. */
function onNsfs(st: Stats): boolean {
  const dev = nsfsDevice();
  return dev === null || st.dev === dev;
}

/**
 * The netns inode for a -N/--netns value:
 *   "4026532281"       taken as an inode (1..4294967295)
 *   "blue"             /run/netns/blue (an `ip netns` name)
 *   "/proc/123/ns/net" any path to a namespace file (anything containing "/")
 * Throws UsageError otherwise.
 */
export function resolveNetns(spec: string, runDir: string = NETNS_RUN_DIR): number {
  const unknown = () =>
    new UsageError(`unknown network namespace "${spec}": not an inode, not a name under ${runDir}, not a path`);
  if (/^[0-9]+$/.test(spec)) {
    const ino = Number(spec);
    if (ino < 1 || ino > 0xffffffff) {
      throw new UsageError(`invalid --netns "${spec}": an inode must be 1-4294967295`);
    }
    return ino;
  }
  if (spec === '' || spec === '.' || spec === '..') throw unknown();
  const path = spec.includes('/') ? spec : join(runDir, spec);
  const st = statOrNull(path);
  if (st === null) throw unknown();
  if (!onNsfs(st)) {
    throw new UsageError(`invalid --netns "${spec}": ${path} is not a namespace file (see ip netns, /proc/PID/ns/net)`);
  }
  return st.ino;
}

/** inode -> name for every namespace under /run/netns; empty when the directory is missing. */
export function netnsNames(runDir: string = NETNS_RUN_DIR): Map<number, string> {
  const names = new Map<number, string>();
  let entries: string[];
  try {
    entries = readdirSync(runDir);
  } catch {
    return names;
  }
  entries.sort();
  for (const name of entries) {
    const st = statOrNull(join(runDir, name));
    if (st === null || !onNsfs(st) || names.has(st.ino)) continue;
    names.set(st.ino, name);
  }
  return names;
}

/** The inode of this process's network namespace. */
export function currentNetns(): number {
  return statSync(SELF_NETNS).ino;
}
