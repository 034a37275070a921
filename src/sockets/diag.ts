/**
 * sock_diag (NETLINK_SOCK_DIAG) for inet sockets: the request that dumps every TCP, UDP
 * or raw socket of one family in a namespace, and the parser of the reply. Pure.
 *
 * Layout (include/uapi/linux/inet_diag.h), ports and addresses in network byte order:
 *   struct inet_diag_sockid { be16 sport, dport; be32 src[4], dst[4]; u32 if; u32 cookie[2]; }   48 bytes
 *   struct inet_diag_req_v2 { u8 family, protocol, ext, raw_protocol; u32 states; sockid id; }   56 bytes
 *   struct inet_diag_msg    { u8 family, state, timer, retrans; sockid id;
 *                             u32 expires, rqueue, wqueue, uid, inode; }                        72 bytes
 * then attributes; INET_DIAG_SKV6ONLY comes with IPv6 listening and unconnected sockets.
 */
import { encodeRequest, NLM_F_DUMP, parseAttributes, replyMessages } from '../netlink/netlink.js';
import { formatAddr } from '../shared/addr.js';

const SOCK_DIAG_BY_FAMILY = 20;
const REQ_LEN = 56;
const MSG_LEN = 72;
const INET_DIAG_SKV6ONLY = 11;
const INET_DIAG_PROTOCOL = 10;
const AF_INET = 2;
const AF_INET6 = 10;
const IPPROTO_RAW = 255;

export type SockProto = 'tcp' | 'udp' | 'raw';

/** IP protocol numbers sock_diag is asked with. */
export const PROTO_NUMBER: Readonly<Record<SockProto, number>> = { tcp: 6, udp: 17, raw: IPPROTO_RAW };

/**
 * Socket states by the kernel's number, named as `ss` names them (TCP_CLOSE is "UNCONN":
 * an unconnected UDP socket, or a TCP socket bound but not listening; NEW_SYN_RECV, a
 * request socket of a half-open connection, is "SYN-RECV").
 */
export const STATE_NAMES: readonly string[] = [
  'UNKNOWN', 'ESTAB', 'SYN-SENT', 'SYN-RECV', 'FIN-WAIT-1', 'FIN-WAIT-2', 'TIME-WAIT', 'UNCONN',
  'CLOSE-WAIT', 'LAST-ACK', 'LISTEN', 'CLOSING', 'SYN-RECV',
];

export interface Endpoint {
  addr: string;
  port: number;
}

/** One socket as sock_diag tells it (no namespace, no process: added by the caller). */
export interface DiagSocket {
  proto: SockProto;
  family: 4 | 6;
  state: string;
  local: Endpoint;
  peer: Endpoint;
  /** LISTEN: connections waiting for accept(); otherwise bytes not yet read */
  recvQ: number;
  /** LISTEN: the accept queue's size (backlog); otherwise bytes not yet acknowledged/sent */
  sendQ: number;
  uid: number;
  /** 0 for request and TIME-WAIT sockets, which no file descriptor holds */
  inode: number;
  /** the device the socket is bound to (SO_BINDTODEVICE), 0 for none */
  ifindex: number;
  /** IPv6 listening/unconnected sockets: IPV6_V6ONLY (when false, IPv4 reaches it too) */
  v6only?: boolean;
  /** raw sockets: the IP protocol they receive */
  rawProtocol?: number;
}

/** A dump request for every socket of `proto` and `family`, in all states. */
export function inetDiagRequest(seq: number, family: 4 | 6, proto: SockProto): Uint8Array {
  const req = new Uint8Array(REQ_LEN);
  const dv = new DataView(req.buffer);
  req[0] = family === 4 ? AF_INET : AF_INET6;
  req[1] = PROTO_NUMBER[proto];
  req[3] = proto === 'raw' ? IPPROTO_RAW : 0; // raw: every protocol
  dv.setUint32(4, 0xffffffff, true);
  return encodeRequest(SOCK_DIAG_BY_FAMILY, NLM_F_DUMP, seq, req);
}

function endpoint(p: Uint8Array, portOff: number, addrOff: number, family: 4 | 6): Endpoint {
  const port = ((p[portOff] ?? 0) << 8) | (p[portOff + 1] ?? 0);
  return { addr: formatAddr(p.subarray(addrOff, addrOff + (family === 4 ? 4 : 16)), family), port };
}

function parseOne(p: Uint8Array, proto: SockProto): DiagSocket | null {
  if (p.length < MSG_LEN || (p[0] !== AF_INET && p[0] !== AF_INET6)) return null;
  const dv = new DataView(p.buffer, p.byteOffset, p.byteLength);
  const family = p[0] === AF_INET ? 4 : 6;
  const attrs = parseAttributes(p, MSG_LEN);
  const v6only = attrs.get(INET_DIAG_SKV6ONLY);
  const rawProto = attrs.get(INET_DIAG_PROTOCOL);
  const sock: DiagSocket = {
    proto,
    family,
    state: STATE_NAMES[p[1] ?? 0] ?? `STATE-${p[1]}`,
    local: endpoint(p, 4, 8, family),
    peer: endpoint(p, 6, 24, family),
    recvQ: dv.getUint32(56, true),
    sendQ: dv.getUint32(60, true),
    uid: dv.getUint32(64, true),
    inode: dv.getUint32(68, true),
    ifindex: dv.getUint32(40, true),
  };
  if (v6only && family === 6) sock.v6only = v6only[0] === 1;
  if (proto === 'raw') sock.rawProtocol = rawProto?.[0] ?? sock.local.port;
  return sock;
}

/** The sockets of a sock_diag dump reply to request `seq`. Throws NetlinkError on an error reply. */
export function parseInetDiag(buf: Uint8Array, seq: number, proto: SockProto): DiagSocket[] {
  const out: DiagSocket[] = [];
  for (const m of replyMessages(buf, seq, `${proto} socket dump`)) {
    if (m.type !== SOCK_DIAG_BY_FAMILY) continue;
    const s = parseOne(m.payload, proto);
    if (s) out.push(s);
  }
  return out;
}
