/**
 * Tables left by pktpath runs that are gone. A run that was killed (SIGKILL, a crash)
 * cannot delete its `inet pktpath_<pid>` table; the next run's start removes it, in the
 * current namespace and in every namespace under /run/netns. The table's comment names
 * the owner's start time, so a table whose pid was reused is told apart.
 */
import { readFileSync, statSync } from 'node:fs';
import { OWN_TABLE_RE } from '../model.js';
import { NETNS_RUN_DIR, netnsNames } from '../../kernel/io/netns.js';
import { pidAlive } from '../../shared/io/process.js';
import { haveCommand } from './exec.js';
import { deleteTable, runNft } from './nft-cli.js';

export interface ReclaimOptions {
  /** directory of named namespaces (default /run/netns) */
  runDir?: string;
  /** also look in the current namespace (default true) */
  current?: boolean;
}

/** A table reclaimStale() removed. */
export interface ReclaimedTable {
  /** namespace name under /run/netns, null for the current namespace */
  netns: string | null;
  table: string;
  pid: number;
}

/** Start time of a process in clock ticks since boot (/proc/PID/stat field 22); null if gone. */
function procStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null; // field 22 overall; fields[0] is field 3
  } catch {
    return null;
  }
}

/** The comment pktpath writes into its tables: who made it, so a reused pid is told apart. */
export function ownerComment(pid: number): string {
  return `pktpath pid=${pid} start=${procStartTime(pid) ?? '?'}`;
}

/** Namespaces to visit: the current one (null) and one name per distinct namespace under runDir. */
function namespacesToVisit(runDir: string, current: boolean): (string | null)[] {
  const self = (() => {
    try {
      return statSync('/proc/self/ns/net').ino;
    } catch {
      return -1;
    }
  })();
  const out: (string | null)[] = current ? [null] : [];
  for (const [ino, name] of netnsNames(runDir)) if (!current || ino !== self) out.push(name);
  return out;
}

/** pktpath tables of a namespace, `[name]` of the inet family; empty when nft cannot list. */
async function ownTablesIn(netns: string | null): Promise<string[]> {
  const r = await runNft(netns, ['-j', 'list', 'tables']);
  if (r.code !== 0) return [];
  let doc: { nftables?: { table?: { family?: string; name?: string } }[] };
  try {
    doc = JSON.parse(r.stdout) as typeof doc;
  } catch {
    return [];
  }
  return (doc.nftables ?? []).flatMap(({ table: t }) => (t?.family === 'inet' && typeof t.name === 'string' && OWN_TABLE_RE.test(t.name) ? [t.name] : []));
}

async function staleTablesIn(netns: string | null): Promise<{ table: string; pid: number }[]> {
  const out: { table: string; pid: number }[] = [];
  for (const table of await ownTablesIn(netns)) {
    const pid = Number(OWN_TABLE_RE.exec(table)![1]);
    if (pid === process.pid) continue; // ours: our own stop and exit cleanup own it
    if (!pidAlive(pid)) {
      out.push({ table, pid });
      continue;
    }
    // The pid is taken. Stale anyway if the table names another process start time.
    const listing = await runNft(netns, ['list', 'table', 'inet', table]);
    const c = /comment "pktpath pid=(\d+) start=(\d+)"/.exec(listing.stdout);
    const now = procStartTime(pid);
    if (c && now !== null && c[2] !== now) out.push({ table, pid });
  }
  return out;
}

/**
 * Delete `inet pktpath_<pid>` tables left by pktpath runs that are gone (killed with
 * SIGKILL, crashed), in the current namespace and every namespace under /run/netns.
 * A table counts as stale when its pid is not alive, or is alive but started at another
 * time than the table's comment says (the pid was reused). Tables of this process and
 * of live pktpath runs are left alone. Returns what was removed.
 */
export async function reclaimStale(opts: ReclaimOptions = {}): Promise<ReclaimedTable[]> {
  if (!haveCommand('nft')) return [];
  const visit = namespacesToVisit(opts.runDir ?? NETNS_RUN_DIR, opts.current ?? true);
  const removed: ReclaimedTable[] = [];
  const work = async (netns: string | null): Promise<void> => {
    for (const { table, pid } of await staleTablesIn(netns)) {
      try {
        await deleteTable(netns, table);
        removed.push({ netns, table, pid });
      } catch {
        /* raced with its owner or another reclaimer; the next start tries again */
      }
    }
  };
  // a few at a time: each visit is a process or two
  const queue = [...visit];
  const workers = Array.from({ length: Math.min(4, queue.length) }, async () => {
    for (let ns = queue.shift(); ns !== undefined; ns = queue.shift()) await work(ns);
  });
  await Promise.all(workers);
  return removed;
}
