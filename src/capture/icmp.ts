/**
 * ICMP errors in words for analyze. The facts (each destination-unreachable code's name,
 * what the sender's socket reports, how a too-big or time-exceeded error reaches it) are
 * the diagnosis's (src/diagnose/words.ts: one table); what is analyze's own is where to
 * look, which names the router that sent the error as a capture sees it.
 */
import { icmpWords as diagnoseIcmpWords } from '../diagnose/words.js';

const ROUTE = 'the route to {dst} on {router} (ip route get {dst} there) and its neighbour table';
const FIREWALL = 'a firewall REJECT rule on {router} (iptables -S | grep REJECT, nft list ruleset)';
const PORT = 'nothing listens on {dst}:{dport}/{proto}: start the service, or send to the right port';

/** Where to look, per destination-unreachable code; codes not listed: look at {router}. */
const ADVICE4: Readonly<Record<number, string>> = {
  0: ROUTE,
  1: `${ROUTE}: no ARP answer from {dst}, or a REJECT with icmp-host-unreachable`,
  2: '{dst} does not speak {proto}',
  3: PORT,
  5: ROUTE,
  6: ROUTE,
  7: ROUTE,
  9: FIREWALL,
  10: FIREWALL,
  13: FIREWALL,
};

const ADVICE6: Readonly<Record<number, string>> = {
  0: ROUTE,
  1: FIREWALL,
  2: ROUTE,
  3: `${ROUTE}: no neighbour answer from {dst}`,
  4: PORT,
  5: FIREWALL,
  6: ROUTE,
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

/** "ICMP 3/13 (admin prohibited)", what the sender sees, its meaning in a few words, and where to look. */
export function icmpWords(family: 4 | 6, type: number, code: number): { icmp: string; sees: string; meaning: string; advice: string } {
  const { icmp, sees, name } = diagnoseIcmpWords(family, type, code);
  const kind = icmpKind(family, type, code);
  if (kind === 'unreachable') return { icmp, sees, meaning: name ?? 'destination unreachable', advice: (family === 6 ? ADVICE6 : ADVICE4)[code] ?? 'look at {router}' };
  if (kind === 'too-big') return { icmp, sees, meaning: name ?? 'packet too big', advice: 'see pmtu.too-big' };
  if (kind === 'time-exceeded') return { icmp, sees, meaning: 'TTL exceeded', advice: 'look for a routing loop' };
  return { icmp, sees, meaning: 'an ICMP error', advice: 'look at {router}' };
}
