/**
 * The words of a finding: template filling, and the facts a sentence needs that the
 * kernel leaves implicit (what a client's connect() reports for each ICMP error).
 *
 * Template names: {flow} {src} {dst} {sport} {dport} {proto} {netns} {dev} {reason} {at}
 * {hook} {rule} {verdict} {icmp} {sees} {count} {times} {n:<role>} {dev:<role>}
 * {netns:<role>}, plus what a rule's check adds (checks.ts).
 */
import type { DEvent, FlowId } from './model.js';
import { flowText } from './normalize.js';
import { packetSummary } from './state.js';

/** What connect()/send() reports for an ICMP(v4) destination unreachable code (icmp_err_convert). */
export const ICMP4_UNREACH: Readonly<Record<number, { errno: string; text: string; name: string }>> = {
  0: { errno: 'ENETUNREACH', text: 'Network is unreachable', name: 'net unreachable' },
  1: { errno: 'EHOSTUNREACH', text: 'No route to host', name: 'host unreachable' },
  2: { errno: 'ENOPROTOOPT', text: 'Protocol not available', name: 'protocol unreachable' },
  3: { errno: 'ECONNREFUSED', text: 'Connection refused', name: 'port unreachable' },
  4: { errno: 'EMSGSIZE', text: 'Message too long', name: 'fragmentation needed' },
  5: { errno: 'EOPNOTSUPP', text: 'Operation not supported', name: 'source route failed' },
  6: { errno: 'ENETUNREACH', text: 'Network is unreachable', name: 'net unknown' },
  7: { errno: 'EHOSTDOWN', text: 'Host is down', name: 'host unknown' },
  8: { errno: 'ENONET', text: 'Machine is not on the network', name: 'host isolated' },
  9: { errno: 'ENETUNREACH', text: 'Network is unreachable', name: 'net prohibited' },
  10: { errno: 'EHOSTUNREACH', text: 'No route to host', name: 'host prohibited' },
  11: { errno: 'ENETUNREACH', text: 'Network is unreachable', name: 'net unreachable for TOS' },
  12: { errno: 'EHOSTUNREACH', text: 'No route to host', name: 'host unreachable for TOS' },
  13: { errno: 'EHOSTUNREACH', text: 'No route to host', name: 'admin prohibited' },
  14: { errno: 'EHOSTUNREACH', text: 'No route to host', name: 'precedence violation' },
  15: { errno: 'EHOSTUNREACH', text: 'No route to host', name: 'precedence cutoff' },
};

/** ICMPv6 destination unreachable codes (icmpv6_err_convert). */
export const ICMP6_UNREACH: Readonly<Record<number, { errno: string; text: string; name: string }>> = {
  0: { errno: 'ENETUNREACH', text: 'Network is unreachable', name: 'no route' },
  1: { errno: 'EACCES', text: 'Permission denied', name: 'admin prohibited' },
  2: { errno: 'EHOSTUNREACH', text: 'No route to host', name: 'beyond scope' },
  3: { errno: 'EHOSTUNREACH', text: 'No route to host', name: 'address unreachable' },
  4: { errno: 'ECONNREFUSED', text: 'Connection refused', name: 'port unreachable' },
  5: { errno: 'EACCES', text: 'Permission denied', name: 'source address failed policy' },
  6: { errno: 'EACCES', text: 'Permission denied', name: 'reject route' },
};

/**
 * "ICMP 3/13 (admin prohibited)", what the sender then sees, and the error's name, for an
 * ICMP error type/code (analyze says the same with these words: src/capture/icmp.ts).
 */
export function icmpWords(family: 4 | 6, type: number, code: number): { icmp: string; sees: string; name?: string } {
  const v6 = family === 6;
  const label = v6 ? 'ICMPv6' : 'ICMP';
  const unreach = v6 ? type === 1 : type === 3;
  const entry = unreach ? (v6 ? ICMP6_UNREACH : ICMP4_UNREACH)[code] : undefined;
  if (entry) return { icmp: `${label} ${type}/${code} (${entry.name})`, sees: `${entry.text} (${entry.errno})`, name: entry.name };
  if (v6 ? type === 2 : type === 3 && code === 4) {
    const name = v6 ? 'packet too big' : 'fragmentation needed';
    return { icmp: `${label} ${type}/${code} (${name})`, sees: 'nothing: the kernel lowers the path MTU and resends', name };
  }
  if (v6 ? type === 3 : type === 11) return { icmp: `${label} ${type}/${code} (time exceeded)`, sees: 'a timeout (time exceeded is not reported to TCP)', name: 'time exceeded' };
  return { icmp: `${label} ${type}/${code}`, sees: 'an error' };
}

/** A template split at its {name}s: the text around them, the names, and each as written. */
interface Template {
  readonly text: readonly string[];
  readonly names: readonly string[];
  readonly written: readonly string[];
}

const NAME = /\{([a-z0-9:_-]+)\}/gi;
/** Templates split once: they are the rules' words, a few dozen, filled for every finding (a regular expression run per fill was most of a finding's cost). */
const TEMPLATES = new Map<string, Template>();

function templateOf(template: string): Template {
  let t = TEMPLATES.get(template);
  if (t) return t;
  const text: string[] = [];
  const names: string[] = [];
  const written: string[] = [];
  let at = 0;
  for (const m of template.matchAll(NAME)) {
    text.push(template.slice(at, m.index));
    names.push(m[1]!);
    written.push(m[0]);
    at = m.index! + m[0].length;
  }
  text.push(template.slice(at));
  t = { text, names, written };
  if (TEMPLATES.size < 1024) TEMPLATES.set(template, t);
  return t;
}

/** Fills {name} from ctx; an unknown name stays as written, so a typo shows. */
export function fill(template: string, ctx: Readonly<Record<string, string>>): string {
  const t = templateOf(template);
  let out = t.text[0]!;
  for (let i = 0; i < t.names.length; i++) out += (ctx[t.names[i]!] ?? t.written[i]!) + t.text[i + 1]!;
  return out;
}

export interface NameOf {
  netns(inode: number): string;
}

/** Evidence as the evaluation finds it: a role, the event (first of its kind) and how many. */
export interface Proof {
  readonly role: string;
  readonly e: DEvent;
  readonly count: number;
}

/** The context of a finding: the anchor's packet and place, each evidence role's count and place. */
export function contextOf(anchor: DEvent, proofs: readonly Proof[], names: NameOf, vars: Readonly<Record<string, string>>): Record<string, string> {
  const f: FlowId | null = anchor.flow;
  const [src, dst] = f ? (anchor.dir === 0 ? [f.a, f.b] : [f.b, f.a]) : [null, null];
  const nf = anchor.nf ?? proofs.find((p) => p.e.nf && p.e.nf.verdict !== 'ACCEPT')?.e.nf ?? null;
  const ctx: Record<string, string> = {
    flow: f ? flowText(f, anchor.dir) : 'a packet',
    packet: packetSummary(anchor),
    src: src?.addr ?? '?',
    dst: dst?.addr ?? '?',
    sport: String(src?.port ?? '?'),
    dport: String(dst?.port ?? '?'),
    proto: f?.proto ?? (anchor.proto || '?'),
    netns: names.netns(anchor.netns),
    dev: anchor.dev || 'no device',
    reason: anchor.reason ?? '',
    at: anchor.at ?? anchor.probe,
    hook: nf ? `${nf.pf}.${nf.table}.${nf.chain}` : '',
    rule: nf?.rule ?? '',
    verdict: nf?.verdict ?? '',
    len: String(anchor.len),
  };
  const roles = new Map<string, { n: number; first: DEvent }>();
  for (const p of proofs) {
    const r = roles.get(p.role);
    if (r) r.n += p.count;
    else roles.set(p.role, { n: p.count, first: p.e });
  }
  for (const [role, r] of roles) {
    ctx[`n:${role}`] = String(r.n);
    ctx[`dev:${role}`] = r.first.dev || 'no device';
    ctx[`netns:${role}`] = names.netns(r.first.netns);
  }
  return Object.assign(ctx, vars);
}

/** One line about an evidence event: "#12 kfree_skb NETFILTER_DROP in cli on pp5c". */
export function evidenceText(e: DEvent, names: NameOf): string {
  const what = e.nf
    ? `${e.nf.pf}.${e.nf.table}.${e.nf.chain}.${e.nf.verdict}${e.nf.rule ? ` rule="${e.nf.rule}"` : ''}`
    : e.reason
      ? `${e.probe} ${e.reason}${e.at ? ` at ${e.at}` : ''}`
      : e.sent
        ? `${e.probe} type ${e.sent.type} code ${e.sent.code}`
        : e.route
          ? `${e.probe} ${e.route.type}${e.route.err ? ` err ${e.route.err}` : ''}`
          : e.probe;
  const pkt = e.flow ? `${flowText(e.flow, e.dir)} [${packetSummary(e)}]` : packetSummary(e);
  return `${what}: ${pkt} in netns ${names.netns(e.netns)}${e.dev ? ` on ${e.dev}` : ''}`;
}
