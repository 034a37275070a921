/**
 * Every inet socket of the given namespaces, from sock_diag dumps (TCP, UDP and raw, IPv4
 * and IPv6, all states) made inside each namespace, joined with the owning processes.
 * Raw sockets need the kernel's raw_diag (CONFIG_INET_RAW_DIAG); without it they are
 * left out with a note, not an error.
 */
import { NETLINK_SOCK_DIAG, NetlinkError } from '../../netlink/netlink.js';
import { netnsLabel } from '../../netlink/io/namespaces.js';
import type { Netns } from '../../netlink/io/namespaces.js';
import { NetnsGoneError, netlinkRequest, nextSeq, readAddresses, readLinks } from '../../netlink/io/request.js';
import { inetDiagRequest, parseInetDiag } from '../diag.js';
import type { DiagSocket, SockProto } from '../diag.js';
import type { Socket } from '../socket.js';
import { socketOwners } from './owners.js';

export interface SocketsRead {
  sockets: Socket[];
  /** what could not be read, one sentence each */
  notes: string[];
}

function dump(ns: Netns, family: 4 | 6, proto: SockProto): DiagSocket[] {
  const seq = nextSeq();
  const reply = netlinkRequest(ns, NETLINK_SOCK_DIAG, inetDiagRequest(seq, family, proto), `${proto} socket dump`);
  return parseInetDiag(reply, seq, proto);
}

/** The sockets of one namespace; raw dumps the kernel cannot do are noted. */
function readNamespace(ns: Netns, protos: readonly SockProto[], notes: Set<string>): Socket[] {
  const out: Socket[] = [];
  const label = netnsLabel(ns);
  for (const proto of protos) {
    for (const family of [4, 6] as const) {
      let found: DiagSocket[];
      try {
        found = dump(ns, family, proto);
      } catch (err) {
        if (!(err instanceof NetlinkError) || proto !== 'raw') throw err;
        notes.add(`raw sockets not listed: this kernel has no sock_diag for them (CONFIG_INET_RAW_DIAG, errno ${err.errno})`);
        continue;
      }
      for (const s of found) out.push({ ...s, netns: ns.inode, netnsLabel: label, processes: [] });
    }
  }
  if (out.some((s) => s.ifindex !== 0)) {
    const names = new Map(readLinks(ns).map((l) => [l.ifindex, l.name]));
    for (const s of out) if (s.ifindex !== 0) s.ifname = names.get(s.ifindex) ?? String(s.ifindex);
  }
  return out;
}

/** `read(ns)` for each namespace; one deleted meanwhile is skipped unless `strict` (the user named it). */
function eachPresent<T>(namespaces: readonly Netns[], strict: boolean, read: (ns: Netns) => T): T[] {
  const out: T[] = [];
  for (const ns of namespaces) {
    try {
      out.push(read(ns));
    } catch (err) {
      if (strict || !(err instanceof NetnsGoneError)) throw err;
    }
  }
  return out;
}

export interface ReadOptions {
  /** scan the fd tables for owners (default true) */
  processes?: boolean;
  /** a namespace that vanished is an error, not skipped (for namespaces the user named) */
  strict?: boolean;
}

/** The sockets of `namespaces` with their processes. */
export function readSockets(namespaces: readonly Netns[], protos: readonly SockProto[], opts: ReadOptions = {}): SocketsRead {
  const notes = new Set<string>();
  const sockets = eachPresent(namespaces, opts.strict === true, (ns) => readNamespace(ns, protos, notes)).flat();
  if (opts.processes !== false) {
    const owners = socketOwners();
    for (const s of sockets) if (s.inode !== 0) s.processes = owners.get(s.inode) ?? [];
  }
  return { sockets, notes: [...notes] };
}

/** netns inode -> its local addresses (RTM_GETADDR), for deciding where a packet is delivered; vanished namespaces are left out. */
export function localAddresses(namespaces: readonly Netns[]): Map<number, Set<string>> {
  return new Map(eachPresent(namespaces, false, (ns) => [ns.inode, new Set(readAddresses(ns).map((a) => a.address))] as const));
}
