/**
 * `pktpath sockets` options: raw commander values -> checked values. Pure; every problem
 * is a UsageError naming the option, the value and what was expected.
 */
import { UsageError } from '../shared/errors.js';
import { formatAddr, parseAddr } from '../shared/addr.js';
import type { SockProto } from './diag.js';

export interface RawSocketsOptions {
  netns?: string;
  ipaddr?: string;
  port?: string;
  proto?: string;
  listening?: boolean;
  json?: boolean;
}

export interface SocketsOptions {
  netns?: string;
  /** canonical text (RFC 5952 for IPv6) */
  addr?: string;
  port?: number;
  protos: SockProto[];
  listening: boolean;
  json: boolean;
}

const PROTOS: Readonly<Record<string, SockProto[]>> = {
  tcp: ['tcp'],
  udp: ['udp'],
  raw: ['raw'],
  any: ['tcp', 'udp', 'raw'],
};

/** A -P value: 1-65535. */
export function parsePort(text: string): number {
  const n = /^[0-9]{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(n >= 1 && n <= 65535)) throw new UsageError(`invalid --port "${text}": expected 1-65535`);
  return n;
}

/** A -H value: an IPv4 or IPv6 address, returned in canonical form. */
export function parseHost(text: string): string {
  const a = parseAddr(text);
  if (!a) throw new UsageError(`invalid --ipaddr "${text}": expected an IPv4 or IPv6 address`);
  return formatAddr(a.bytes, a.family);
}

export function parseSocketsOptions(raw: RawSocketsOptions): SocketsOptions {
  const protos = PROTOS[raw.proto ?? 'any'];
  if (!protos) throw new UsageError(`invalid --proto "${raw.proto}": expected tcp, udp, raw or any`);
  if (raw.netns !== undefined && raw.netns.trim() === '') throw new UsageError('invalid --netns "": expected a name, a path or an inode');
  return {
    ...(raw.netns !== undefined ? { netns: raw.netns } : {}),
    ...(raw.ipaddr !== undefined ? { addr: parseHost(raw.ipaddr) } : {}),
    ...(raw.port !== undefined ? { port: parsePort(raw.port) } : {}),
    protos,
    listening: raw.listening === true,
    json: raw.json === true,
  };
}
