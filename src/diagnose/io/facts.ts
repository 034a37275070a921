/**
 * Facts read from the machine for a diagnosis: the qdiscs of every namespace (tc names
 * the kind behind a handle), the sockets (sock_diag, src/sockets: who listens where), and
 * how the kernel's counters moved over the run (src/stats: before at the start, after at
 * the end). Each read is best effort: what cannot be read is left out, never an error.
 */
import { execFileSync } from 'node:child_process';
import { currentNetns, netnsNames } from '../../kernel/io/netns.js';
import { listNamespaces } from '../../netlink/io/namespaces.js';
import { readSockets } from '../../sockets/io/read.js';
import { ownersText } from '../../sockets/socket.js';
import { counterCatalog } from '../../stats/io/catalog.js';
import { readSnapshot } from '../../stats/io/read.js';
import { diffSnapshots } from '../../stats/snapshot.js';
import type { Snapshot } from '../../stats/snapshot.js';
import type { CounterDelta, QdiscFact, SocketFact } from '../model.js';
import { parseTcQdiscs } from '../qdiscs.js';

/** Namespaces asked at most (a machine with hundreds of test namespaces stays quick). */
const MAX_NAMESPACES = 128;

function tcIn(ns: string | null): string {
  const args = ns === null ? ['-j', 'qdisc', 'show'] : ['-n', ns, '-j', 'qdisc', 'show'];
  try {
    return execFileSync('tc', args, { encoding: 'utf8', timeout: 2000, stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return '[]'; // a namespace that went away, or no tc: no facts, not an error
  }
}

/** The qdiscs of this namespace and of the named ones. */
export function readQdiscs(): QdiscFact[] {
  const out = parseTcQdiscs(tcIn(null), currentNetns());
  let n = 0;
  for (const [inode, name] of netnsNames()) {
    if (++n > MAX_NAMESPACES) break;
    out.push(...parseTcQdiscs(tcIn(name), inode));
  }
  return out;
}

function namespaces(): ReturnType<typeof listNamespaces> {
  return listNamespaces().slice(0, MAX_NAMESPACES);
}

/** Every TCP and UDP socket of this namespace and the named ones, with their owners; [] when sock_diag fails. */
export function readSocketFacts(): SocketFact[] {
  try {
    return readSockets(namespaces(), ['tcp', 'udp']).sockets.map((s) => ({
      netns: s.netns,
      netnsName: s.netnsLabel,
      proto: s.proto as 'tcp' | 'udp',
      state: s.state,
      local: s.local,
      remote: s.peer,
      recvQ: s.recvQ,
      sendQ: s.sendQ,
      ...(s.processes.length ? { process: ownersText(s) } : {}),
    }));
  } catch {
    return [];
  }
}

/** Counters now; `moved()` reads them again and gives what grew since. */
export function watchCounters(): { moved(): CounterDelta[] } | null {
  let before: Snapshot;
  try {
    before = readSnapshot(namespaces()).snapshot;
  } catch {
    return null;
  }
  return {
    moved() {
      try {
        const after = readSnapshot(namespaces()).snapshot;
        return diffSnapshots(before, after, counterCatalog()).map((m) => ({ netns: m.netns, name: m.device ? `${m.device}:${m.name}` : m.name, delta: m.delta }));
      } catch {
        return [];
      }
    },
  };
}
