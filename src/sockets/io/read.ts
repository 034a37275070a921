/**
 * Every inet socket of the given namespaces, from sock_diag dumps (TCP, UDP and raw, IPv4
 * and IPv6, all states) made inside each namespace, joined with the owning processes.
 * Raw sockets need the kernel's raw_diag (CONFIG_INET_RAW_DIAG); without it they are
 * left out with a note, not an error.
 */
import { NETLINK_SOCK_DIAG, NetlinkError } from '../../netlink/netlink.js';
import { netnsLabel } from '../../netlink/io/namespaces.js';
import type { Netns } from '../../netlink/io/namespaces.js';
import { netlinkRequest, nextSeq, readAddresses, readLinks } from '../../netlink/io/request.js';
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

/** The sockets of `namespaces` with their processes (skip the fd scan with processes: false). */
export function readSockets(namespaces: readonly Netns[], protos: readonly SockProto[], opts: { processes?: boolean } = {}): SocketsRead {
  const notes = new Set<string>();
  const sockets = namespaces.flatMap((ns) => readNamespace(ns, protos, notes));
  if (opts.processes !== false) {
    const owners = socketOwners();
    for (const s of sockets) if (s.inode !== 0) s.processes = owners.get(s.inode) ?? [];
  }
  return { sockets, notes: [...notes] };
}

/** netns inode -> its local addresses (RTM_GETADDR), for deciding where a packet is delivered. */
export function localAddresses(namespaces: readonly Netns[]): Map<number, Set<string>> {
  return new Map(namespaces.map((ns) => [ns.inode, new Set(readAddresses(ns).map((a) => a.address))]));
}
