/**
 * The question the diagnosis asks after a "no socket" drop, answered from the whole host:
 * which sockets would take a packet to addr:port/proto in the namespace it reached, and
 * which listen on that port elsewhere (another address, the other IP version, another
 * namespace). Reads every namespace (named, this one, those of running processes): needs
 * root for namespaces other than this one.
 *
 * @example
 *   const a = whoAnswers({ proto: 'tcp', addr: '10.0.0.2', port: 8080, netns: inode });
 *   a.sentence  // "nothing listens on tcp 10.0.0.2:8080 in netns srv; but nc (pid 12) listens on 127.0.0.1:8080 (on another address)"
 */
import { namespacesToRead, netnsLabel } from '../../netlink/io/namespaces.js';
import { findListeners } from '../listeners.js';
import type { ListenerAnswer, ListenerQuery } from '../listeners.js';
import type { Socket } from '../socket.js';
import { localAddresses, readSockets } from './read.js';

/** Answers each query from one read of the host's TCP and UDP sockets (or from `sockets` when given: every namespace's). */
export function whoAnswersAll(queries: readonly ListenerQuery[], sockets?: readonly Socket[]): ListenerAnswer[] {
  const everywhere = namespacesToRead(undefined, { processes: true });
  const all = sockets ?? readSockets(everywhere, ['tcp', 'udp']).sockets;
  const ctx = { owned: localAddresses(everywhere), labels: new Map(everywhere.map((ns) => [ns.inode, netnsLabel(ns)])) };
  return queries.map((q) => findListeners(all, q, ctx));
}

/** Who would answer one query. */
export function whoAnswers(query: ListenerQuery): ListenerAnswer {
  return whoAnswersAll([query])[0]!;
}
