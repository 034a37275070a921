/**
 * Netlink messages as bytes: building one request, splitting a reply into messages,
 * reading attributes. Pure; the socket is src/netlink/io/request.ts (through the addon).
 *
 * Layout (include/uapi/linux/netlink.h), host byte order, 4-byte aligned:
 *   struct nlmsghdr { u32 len; u16 type; u16 flags; u32 seq; u32 pid; }   then the payload
 *   struct nlattr / rtattr { u16 len; u16 type; }                          then the value
 */

export const NETLINK_ROUTE = 0;
export const NETLINK_SOCK_DIAG = 4;

export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;

export const NLM_F_REQUEST = 0x1;
export const NLM_F_ROOT = 0x100;
export const NLM_F_MATCH = 0x200;
export const NLM_F_DUMP = NLM_F_ROOT | NLM_F_MATCH;

const NLMSG_HDRLEN = 16;
const NLA_HDRLEN = 4;
/** Attribute type bits that are flags, not part of the type (NLA_F_NESTED, NLA_F_NET_BYTEORDER). */
const NLA_TYPE_MASK = 0x3fff;

/** Rounds up to the 4-byte netlink alignment. */
export function align4(n: number): number {
  return (n + 3) & ~3;
}

/** One message of a reply: its header fields and its payload (a view, not a copy). */
export interface NlMessage {
  type: number;
  flags: number;
  seq: number;
  pid: number;
  payload: Uint8Array;
}

/** A netlink error reply (NLMSG_ERROR with a non-zero error, or DONE carrying one). */
export class NetlinkError extends Error {
  override readonly name = 'NetlinkError';
  constructor(
    readonly errno: number,
    readonly request: string,
  ) {
    super(`${request}: the kernel answered errno ${errno}`);
  }
}

/** A request: header (len, type, flags|NLM_F_REQUEST, seq, pid 0) followed by the payload. */
export function encodeRequest(type: number, flags: number, seq: number, payload: Uint8Array): Uint8Array {
  const len = NLMSG_HDRLEN + payload.length;
  const out = new Uint8Array(align4(len));
  const dv = new DataView(out.buffer);
  dv.setUint32(0, len, true);
  dv.setUint16(4, type, true);
  dv.setUint16(6, flags | NLM_F_REQUEST, true);
  dv.setUint32(8, seq, true);
  dv.setUint32(12, 0, true);
  out.set(payload, NLMSG_HDRLEN);
  return out;
}

/** Splits a reply buffer into messages; a truncated tail ends the list. */
export function splitMessages(buf: Uint8Array): NlMessage[] {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: NlMessage[] = [];
  let off = 0;
  while (off + NLMSG_HDRLEN <= buf.length) {
    const len = dv.getUint32(off, true);
    if (len < NLMSG_HDRLEN || off + len > buf.length) break;
    out.push({
      type: dv.getUint16(off + 4, true),
      flags: dv.getUint16(off + 6, true),
      seq: dv.getUint32(off + 8, true),
      pid: dv.getUint32(off + 12, true),
      payload: buf.subarray(off + NLMSG_HDRLEN, off + len),
    });
    off += align4(len);
  }
  return out;
}

/** The errno a NLMSG_ERROR or NLMSG_DONE payload carries (a negative int; 0 for an ACK). */
function payloadErrno(m: NlMessage): number {
  if (m.payload.length < 4) return 0;
  return -new DataView(m.payload.buffer, m.payload.byteOffset, 4).getInt32(0, true);
}

/**
 * The data messages of the reply to request `seq`: everything before NLMSG_DONE, without
 * errors. Throws NetlinkError when the kernel answered with an error.
 */
export function replyMessages(buf: Uint8Array, seq: number, what: string): NlMessage[] {
  const out: NlMessage[] = [];
  for (const m of splitMessages(buf)) {
    if (m.seq !== seq) continue;
    if (m.type === NLMSG_ERROR || m.type === NLMSG_DONE) {
      const errno = payloadErrno(m);
      if (errno > 0) throw new NetlinkError(errno, what);
      break;
    }
    out.push(m);
  }
  return out;
}

/** Attributes from `off` to the end of `bytes`, by type; the first of a repeated type wins. */
export function parseAttributes(bytes: Uint8Array, off = 0): Map<number, Uint8Array> {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Map<number, Uint8Array>();
  while (off + NLA_HDRLEN <= bytes.length) {
    const len = dv.getUint16(off, true);
    if (len < NLA_HDRLEN || off + len > bytes.length) break;
    const type = dv.getUint16(off + 2, true) & NLA_TYPE_MASK;
    if (!out.has(type)) out.set(type, bytes.subarray(off + NLA_HDRLEN, off + len));
    off += align4(len);
  }
  return out;
}

/** An attribute as a NUL-terminated string. */
export function attrString(v: Uint8Array | undefined): string | undefined {
  if (!v) return undefined;
  const end = v.indexOf(0);
  return new TextDecoder().decode(end < 0 ? v : v.subarray(0, end));
}

/** An attribute as an unsigned integer of its own width (1, 2, 4 or 8 bytes, host order). */
export function attrUint(v: Uint8Array | undefined): number | undefined {
  if (!v) return undefined;
  const dv = new DataView(v.buffer, v.byteOffset, v.byteLength);
  if (v.length >= 8) return Number(dv.getBigUint64(0, true));
  if (v.length >= 4) return dv.getUint32(0, true);
  if (v.length >= 2) return dv.getUint16(0, true);
  return v.length === 1 ? v[0] : undefined;
}
