/**
 * Which sockets `pktpath sockets` shows: -H matches either end's address, -P either end's
 * port (as the trace filters do), --proto the protocol, --listening only sockets waiting
 * for peers (TCP LISTEN, unconnected UDP/raw); with --listening, -H also matches sockets
 * bound to the wildcard address, since they take packets to it. Pure.
 */
import { isAnyAddr, isListening } from './socket.js';
import type { Socket } from './socket.js';
import type { SocketsOptions } from './options.js';

export type SocketFilter = Pick<SocketsOptions, 'addr' | 'port' | 'protos' | 'listening'>;

/** True when socket `s` passes the filter. */
export function matchesFilter(s: Socket, f: SocketFilter): boolean {
  if (!f.protos.includes(s.proto)) return false;
  if (f.listening && !isListening(s)) return false;
  if (f.port !== undefined && s.local.port !== f.port && s.peer.port !== f.port) return false;
  if (f.addr !== undefined && !addrMatches(s, f.addr, f.listening)) return false;
  return true;
}

/** Either end has the address (::ffff:-mapped too); with `listening`, a wildcard bind counts. */
function addrMatches(s: Socket, addr: string, listening: boolean): boolean {
  const same = (a: string): boolean => a === addr || a === `::ffff:${addr}`;
  if (same(s.local.addr) || same(s.peer.addr)) return true;
  return listening && isAnyAddr(s.local.addr) && (s.family === 6 || !addr.includes(':'));
}

const PROTO_ORDER: Readonly<Record<string, number>> = { tcp: 0, udp: 1, raw: 2 };

/** The order sockets are shown in: namespace, protocol, family, local port, local address. */
export function compareSockets(a: Socket, b: Socket): number {
  return (
    a.netnsLabel.localeCompare(b.netnsLabel) ||
    (PROTO_ORDER[a.proto] ?? 9) - (PROTO_ORDER[b.proto] ?? 9) ||
    a.family - b.family ||
    a.local.port - b.local.port ||
    a.local.addr.localeCompare(b.local.addr) ||
    a.peer.port - b.peer.port
  );
}
