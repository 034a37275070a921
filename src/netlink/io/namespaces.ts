/**
 * The network namespaces a host-wide view walks: this process's own, every name under
 * /run/netns (`ip netns add`), and with `processes` every other namespace a running
 * process is in (containers that have no name), found through /proc/PID/ns/net.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { EnvironmentError, UsageError } from '../../shared/errors.js';
import { currentNetns, NETNS_RUN_DIR, netnsNames, resolveNetns } from '../../kernel/io/netns.js';

/** A namespace and how to enter it. */
export interface Netns {
  inode: number;
  /** its name under /run/netns, when it has one */
  name?: string;
  /** a file to setns() into; null for this process's own namespace */
  path: string | null;
  /** a process living in it, for a namespace that has no name */
  pid?: number;
}

/** How a namespace is shown: its name, "pid N" for an unnamed one of a process, else its inode. */
export function netnsLabel(ns: Netns): string {
  return ns.name ?? (ns.pid !== undefined ? `pid ${ns.pid}` : String(ns.inode));
}

/** inode -> a pid living in it, for every process whose namespace we may look at. */
function processNamespaces(): Map<number, number> {
  const out = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(d)) continue;
    try {
      const ino = statSync(`/proc/${d}/ns/net`).ino;
      if (!out.has(ino)) out.set(ino, Number(d));
    } catch {
      /* gone, or not ours to look at */
    }
  }
  return out;
}

/** This namespace, then the named ones (sorted by name), then with `processes` the unnamed ones of processes. */
export function listNamespaces(opts: { processes?: boolean } = {}): Netns[] {
  const self = currentNetns();
  const names = netnsNames();
  const out: Netns[] = [{ inode: self, path: null, ...(names.has(self) ? { name: names.get(self)! } : {}) }];
  for (const [inode, name] of names) if (inode !== self) out.push({ inode, name, path: join(NETNS_RUN_DIR, name) });
  if (!opts.processes) return out;
  const seen = new Set(out.map((n) => n.inode));
  for (const [inode, pid] of processNamespaces()) {
    if (!seen.has(inode)) out.push({ inode, pid, path: `/proc/${pid}/ns/net` });
  }
  return out;
}

/**
 * The namespace a -N value names: an `ip netns` name, a path to a namespace file, or an
 * inode (looked up among the named namespaces and those of running processes).
 */
export function namespaceFor(spec: string): Netns {
  const inode = resolveNetns(spec);
  const known = listNamespaces({ processes: /^[0-9]+$/.test(spec) }).find((n) => n.inode === inode);
  if (known) return known;
  if (/^[0-9]+$/.test(spec)) {
    throw new UsageError(`unknown network namespace "${spec}": no name under ${NETNS_RUN_DIR} and no process lives in it`);
  }
  return { inode, path: spec.includes('/') ? spec : join(NETNS_RUN_DIR, spec) };
}

/** True when this process may enter other namespaces (setns needs CAP_SYS_ADMIN; root has it). */
export function canEnterNamespaces(): boolean {
  return process.getuid?.() === 0;
}

/** -N given: that namespace; otherwise this one and the named ones (and with `processes` every process's). */
export function namespacesToRead(spec: string | undefined, opts: { processes?: boolean } = {}): Netns[] {
  const wanted = spec === undefined ? listNamespaces(opts) : [namespaceFor(spec)];
  if (!canEnterNamespaces() && wanted.some((n) => n.path !== null)) {
    if (spec !== undefined) throw new EnvironmentError(`reading network namespace "${spec}" needs root (setns needs CAP_SYS_ADMIN)`);
    return wanted.filter((n) => n.path === null);
  }
  return wanted;
}
