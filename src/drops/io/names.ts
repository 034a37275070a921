/**
 * The Namer of `pktpath drops` (src/drops/rows.ts): drop reasons from the running
 * kernel's BTF, locations and stack frames from /proc/kallsyms, namespaces by their name
 * under /run/netns ("host" for the first process's), else "pid N" of a process living
 * in them, and devices by a link dump made inside their namespace. Unknown names are
 * looked up again at most once every few seconds, never per drop.
 */
import { statSync } from 'node:fs';
import { makeResolver } from '../../output/io/resolver.js';
import { listNamespaces, netnsLabel } from '../../netlink/io/namespaces.js';
import type { Netns } from '../../netlink/io/namespaces.js';
import { readLinks } from '../../netlink/io/request.js';
import { trimTracerFrames } from '../../kernel/stack.js';
import { reloadKallsyms } from '../../kernel/io/kernel.js';
import type { Namer } from '../rows.js';
import { trimFreeingFrames } from '../frames.js';

const RETRY_MS = 3000;
/** how long a namespace not found is taken as gone */
const GONE_MS = 30_000;

function inodeOf(path: string): number | undefined {
  try {
    return statSync(path).ino;
  } catch {
    return undefined;
  }
}

/** A cache whose misses are asked again only after RETRY_MS. */
class Throttle {
  private readonly last = new Map<string, number>();
  due(key: string): boolean {
    const now = Date.now();
    if (now - (this.last.get(key) ?? -Infinity) < RETRY_MS) return false;
    this.last.set(key, now);
    return true;
  }
}

/**
 * Namespaces by inode (this one, the named ones, the processes'). A miss lists them again
 * (a /proc walk) at most every few seconds, and an inode still missing after that (its
 * namespace is gone) is not looked for again for a while.
 */
export class NetnsDirectory {
  private readonly throttle = new Throttle();
  private known = new Map<number, Netns>();
  private readonly missing = new Map<number, number>();

  find(inode: number): Netns | undefined {
    const found = this.known.get(inode);
    if (found) return found;
    if (Date.now() - (this.missing.get(inode) ?? -Infinity) < GONE_MS) return undefined;
    if (this.throttle.due('netns')) this.known = new Map(listNamespaces({ processes: true }).map((n) => [n.inode, n]));
    const again = this.known.get(inode);
    if (!again) this.missing.set(inode, Date.now());
    return again;
  }
}

export function makeNamer(stackOf: (id: number) => bigint[] | undefined, dir: NetnsDirectory): Namer {
  // read after our program is loaded: a stack's first frames are in it, and in the BPF
  // programs and modules loaded since the start
  reloadKallsyms();
  const r = makeResolver();
  const hostInode = inodeOf('/proc/1/ns/net');
  const throttle = new Throttle();
  const devices = new Map<number, Map<number, string>>();
  const stacks = new Map<number, string[]>();
  const labels = new Map<number, string>();
  const findNetns = (inode: number): Netns | undefined => dir.find(inode);
  const readDevices = (inode: number): void => {
    const ns = findNetns(inode);
    if (!ns) return;
    try {
      devices.set(inode, new Map(readLinks(ns).map((l) => [l.ifindex, l.name])));
    } catch {
      /* gone, or not ours to enter: the sample's name or the index stands in */
    }
  };
  return {
    reason: (v) => r.dropReason(v),
    location: (addr) => r.symbol(addr).replace(/\+0x[0-9a-f]+/, ''),
    netns: (inode) => {
      // a name once found stays: the namespace may be gone by the next report
      let label = labels.get(inode);
      if (label) return label;
      label = r.netnsName(inode) ?? (inode === hostInode ? 'host' : undefined);
      if (!label) {
        const ns = findNetns(inode);
        label = ns ? netnsLabel(ns) : undefined;
      }
      if (label) labels.set(inode, label);
      return label ?? String(inode);
    },
    device: (inode, ifindex) => {
      if (!devices.get(inode)?.has(ifindex) && throttle.due(`dev ${inode}`)) readDevices(inode);
      return devices.get(inode)?.get(ifindex);
    },
    stack: (id) => {
      let frames = stacks.get(id);
      if (!frames) {
        const addrs = stackOf(id);
        if (!addrs) return undefined;
        frames = trimFreeingFrames(trimTracerFrames(addrs, (a) => r.symbol(a)).map((a) => r.symbol(a)));
        stacks.set(id, frames);
      }
      return frames;
    },
  };
}
