/**
 * ICMP errors in words: the name of each destination-unreachable code, what the sender's
 * socket then reports (Linux icmp_err_convert / icmpv6_err_convert), and where to look.
 * The same facts as the diagnosis engine's words (src/diagnose); one table when merged.
 */

interface Unreach {
  readonly name: string;
  readonly errno: string;
  readonly text: string;
  readonly advice: string;
}

const ROUTE = 'the route to {dst} on {router} (ip route get {dst} there) and its neighbour table';
const FIREWALL = 'a firewall REJECT rule on {router} (iptables -S | grep REJECT, nft list ruleset)';
const PORT = 'nothing listens on {dst}:{dport}/{proto}: start the service, or send to the right port';

export const ICMP4_UNREACH: Readonly<Record<number, Unreach>> = {
  0: { name: 'net unreachable', errno: 'ENETUNREACH', text: 'Network is unreachable', advice: ROUTE },
  1: { name: 'host unreachable', errno: 'EHOSTUNREACH', text: 'No route to host', advice: `${ROUTE}: no ARP answer from {dst}, or a REJECT with icmp-host-unreachable` },
  2: { name: 'protocol unreachable', errno: 'ENOPROTOOPT', text: 'Protocol not available', advice: '{dst} does not speak {proto}' },
  3: { name: 'port unreachable', errno: 'ECONNREFUSED', text: 'Connection refused', advice: PORT },
  4: { name: 'fragmentation needed', errno: 'EMSGSIZE', text: 'Message too long', advice: 'see pmtu.too-big' },
  5: { name: 'source route failed', errno: 'EOPNOTSUPP', text: 'Operation not supported', advice: ROUTE },
  6: { name: 'net unknown', errno: 'ENETUNREACH', text: 'Network is unreachable', advice: ROUTE },
  7: { name: 'host unknown', errno: 'EHOSTDOWN', text: 'Host is down', advice: ROUTE },
  9: { name: 'net prohibited', errno: 'ENETUNREACH', text: 'Network is unreachable', advice: FIREWALL },
  10: { name: 'host prohibited', errno: 'EHOSTUNREACH', text: 'No route to host', advice: FIREWALL },
  13: { name: 'admin prohibited', errno: 'EHOSTUNREACH', text: 'No route to host', advice: FIREWALL },
};

export const ICMP6_UNREACH: Readonly<Record<number, Unreach>> = {
  0: { name: 'no route', errno: 'ENETUNREACH', text: 'Network is unreachable', advice: ROUTE },
  1: { name: 'admin prohibited', errno: 'EACCES', text: 'Permission denied', advice: FIREWALL },
  2: { name: 'beyond scope', errno: 'EHOSTUNREACH', text: 'No route to host', advice: ROUTE },
  3: { name: 'address unreachable', errno: 'EHOSTUNREACH', text: 'No route to host', advice: `${ROUTE}: no neighbour answer from {dst}` },
  4: { name: 'port unreachable', errno: 'ECONNREFUSED', text: 'Connection refused', advice: PORT },
  5: { name: 'source address failed policy', errno: 'EACCES', text: 'Permission denied', advice: FIREWALL },
  6: { name: 'reject route', errno: 'EACCES', text: 'Permission denied', advice: ROUTE },
};

export type IcmpKind = 'unreachable' | 'too-big' | 'time-exceeded' | 'other';

export function icmpKind(family: 4 | 6, type: number, code: number): IcmpKind {
  if (family === 4) {
    if (type === 3) return code === 4 ? 'too-big' : 'unreachable';
    return type === 11 ? 'time-exceeded' : 'other';
  }
  if (type === 1) return 'unreachable';
  if (type === 2) return 'too-big';
  return type === 3 ? 'time-exceeded' : 'other';
}

/** "ICMP 3/13 (admin prohibited)", what the sender sees, and where to look. */
export function icmpWords(family: 4 | 6, type: number, code: number): { icmp: string; sees: string; meaning: string; advice: string } {
  const label = family === 6 ? 'ICMPv6' : 'ICMP';
  const kind = icmpKind(family, type, code);
  const entry = kind === 'unreachable' ? (family === 6 ? ICMP6_UNREACH : ICMP4_UNREACH)[code] : undefined;
  if (entry) {
    return { icmp: `${label} ${type}/${code} (${entry.name})`, sees: `"${entry.text}" (${entry.errno})`, meaning: `${entry.name}`, advice: entry.advice };
  }
  if (kind === 'too-big') {
    const name = family === 6 ? 'packet too big' : 'fragmentation needed';
    return { icmp: `${label} ${type}/${code} (${name})`, sees: 'nothing: the kernel lowers the path MTU and resends', meaning: name, advice: 'see pmtu.too-big' };
  }
  if (kind === 'time-exceeded') {
    return { icmp: `${label} ${type}/${code} (time exceeded)`, sees: 'a timeout (TCP does not report time exceeded)', meaning: 'TTL exceeded', advice: 'look for a routing loop' };
  }
  return { icmp: `${label} ${type}/${code}`, sees: 'an error', meaning: 'an ICMP error', advice: 'look at {router}' };
}
