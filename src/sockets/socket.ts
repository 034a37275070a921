/**
 * A socket of the host view: what sock_diag tells (src/sockets/diag.ts), the namespace it
 * lives in, the device it is bound to, and the processes holding it (their fd tables).
 */
import type { DiagSocket, Endpoint } from './diag.js';

/** A process holding a socket through one of its file descriptors. */
export interface SocketOwner {
  pid: number;
  comm: string;
  fd: number;
}

export interface Socket extends DiagSocket {
  /** inode of the network namespace */
  netns: number;
  /** how the namespace is shown: its /run/netns name, "pid N" or its inode */
  netnsLabel: string;
  /** the bound device's name (ifindex != 0) */
  ifname?: string;
  processes: SocketOwner[];
}

/** "/proc/PID/fd/N -> socket:[INODE]": the inode, or null for anything else. */
export function socketInode(link: string): number | null {
  const m = /^socket:\[(\d+)\]$/.exec(link);
  return m ? Number(m[1]) : null;
}

/** True for a socket waiting for peers: TCP LISTEN, or an unconnected UDP/raw socket. */
export function isListening(s: Pick<DiagSocket, 'proto' | 'state'>): boolean {
  return s.proto === 'tcp' ? s.state === 'LISTEN' : s.state === 'UNCONN';
}

/** An unspecified address (0.0.0.0, ::) */
export function isAnyAddr(addr: string): boolean {
  return addr === '0.0.0.0' || addr === '::';
}

/**
 * An address and port the way `ss -n` writes them: 10.0.0.1:80, [fd00::1]:80, "*" for the
 * IPv6 wildcard of a socket that IPv4 reaches too (not IPV6_V6ONLY), "*" for port 0 of a
 * peer, "%dev" after the local address of a socket bound to a device.
 */
export function formatEndpoint(ep: Endpoint, s: Pick<Socket, 'family' | 'v6only' | 'ifname'>, isPeer = false): string {
  let host = s.family === 6 ? `[${ep.addr}]` : ep.addr;
  if (s.family === 6 && ep.addr === '::' && s.v6only === false) host = '*';
  if (!isPeer && s.ifname) host += `%${s.ifname}`;
  return `${host}:${isPeer && ep.port === 0 ? '*' : ep.port}`;
}

/** "nc (pid 123)", "nc (pid 123), sshd (pid 9)", or "no process" when none holds it. */
export function ownersText(s: Pick<Socket, 'processes'>): string {
  if (!s.processes.length) return 'no process';
  const seen = new Set<number>();
  const parts: string[] = [];
  for (const p of s.processes) {
    if (seen.has(p.pid)) continue;
    seen.add(p.pid);
    parts.push(`${p.comm} (pid ${p.pid})`);
  }
  return parts.join(', ');
}
