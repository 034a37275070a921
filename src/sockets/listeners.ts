/**
 * Which sockets would answer a packet to address:port/proto, and which listen on that
 * port but would not: on another address of the same namespace (127.0.0.1 vs 10.x), for
 * the other IP version only, or in another namespace. The diagnosis of "no socket"
 * drops says this sentence; `pktpath sockets --listening -P` prints it.
 *
 * The match is the kernel's socket lookup, simplified: a listener bound to the address or
 * to the wildcard answers; an IPv6 wildcard answers IPv4 too unless IPV6_V6ONLY; a socket
 * bound to a device answers only packets arriving on it (said, not checked: the incoming
 * device is not part of the question).
 */
import { formatAddr, parseAddr } from '../shared/addr.js';
import { formatEndpoint, isAnyAddr, isListening, ownersText } from './socket.js';
import type { Socket } from './socket.js';

export interface ListenerQuery {
  proto: 'tcp' | 'udp';
  port: number;
  /** the destination address; omitted: any address */
  addr?: string;
  /** the namespace the packet is delivered in; omitted: those that own `addr` (all without it) */
  netns?: number;
}

export type ElsewhereWhy = 'address' | 'family' | 'namespace';

export interface ListenerAnswer {
  query: ListenerQuery;
  /** the namespaces the question was asked about (inode -> label) */
  namespaces: Map<number, string>;
  answering: Socket[];
  elsewhere: { socket: Socket; why: ElsewhereWhy }[];
  sentence: string;
}

/** The address as the kernel's sockets are written (RFC 5952), ::ffff:a.b.c.d as a.b.c.d. */
function plainAddr(addr: string): { text: string; family: 4 | 6 } | null {
  const p = parseAddr(addr);
  if (!p) return null;
  const text = formatAddr(p.bytes, p.family);
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  return m ? { text: m[1]!, family: 4 } : { text, family: p.family };
}

/** Whether socket `s` (listening on the right port) takes a packet to `addr`; the reason when not. */
function addressVerdict(s: Socket, addr: string | undefined): true | 'address' | 'family' {
  if (addr === undefined) return true;
  const q = plainAddr(addr);
  if (!q) return 'address';
  if (q.family === 4) {
    if (s.family === 4) return s.local.addr === q.text || isAnyAddr(s.local.addr) ? true : 'address';
    if (s.local.addr === `::ffff:${q.text}` || s.local.addr === '::') return s.v6only ? 'family' : true;
    return 'address';
  }
  if (s.family === 4) return 'family';
  return s.local.addr === q.text || s.local.addr === '::' ? true : 'address';
}

/** True when `addr` is delivered locally in a namespace owning these addresses (loopback: everywhere). */
function ownsAddress(addr: string, owned: ReadonlySet<string>): boolean {
  const q = plainAddr(addr);
  if (!q) return false;
  if ((q.family === 4 && q.text.startsWith('127.')) || q.text === '::1') return true;
  return owned.has(q.text);
}

/** The namespaces a packet to the query's address would be delivered in. */
function targetNamespaces(sockets: readonly Socket[], q: ListenerQuery, owned?: ReadonlyMap<number, ReadonlySet<string>>): Set<number> {
  if (q.netns !== undefined) return new Set([q.netns]);
  const all = new Set(sockets.map((s) => s.netns));
  for (const k of owned?.keys() ?? []) all.add(k);
  if (q.addr === undefined || !owned) return all;
  const owners = [...all].filter((ns) => ownsAddress(q.addr!, owned.get(ns) ?? new Set()));
  return owners.length ? new Set(owners) : all;
}

/** What the host looks like beyond its sockets. */
export interface ListenerContext {
  /** netns -> its local addresses: decides which namespaces a packet to `addr` reaches when the query names none */
  owned?: ReadonlyMap<number, ReadonlySet<string>>;
  /** netns -> how it is shown, for namespaces that have no socket */
  labels?: ReadonlyMap<number, string>;
}

/**
 * Sorts the listening sockets on the query's port and protocol into those that answer and
 * those that listen elsewhere.
 */
export function findListeners(sockets: readonly Socket[], q: ListenerQuery, ctx: ListenerContext = {}): ListenerAnswer {
  const targets = targetNamespaces(sockets, q, ctx.owned);
  const namespaces = new Map<number, string>();
  for (const ns of targets) namespaces.set(ns, ctx.labels?.get(ns) ?? sockets.find((s) => s.netns === ns)?.netnsLabel ?? String(ns));
  const answering: Socket[] = [];
  const elsewhere: { socket: Socket; why: ElsewhereWhy }[] = [];
  for (const s of sockets) {
    if (s.proto !== q.proto || s.local.port !== q.port || !isListening(s)) continue;
    const verdict = addressVerdict(s, q.addr);
    if (!targets.has(s.netns)) elsewhere.push({ socket: s, why: 'namespace' });
    else if (verdict === true) answering.push(s);
    else elsewhere.push({ socket: s, why: verdict });
  }
  // the same namespace first: another address is the likelier mistake
  elsewhere.sort((a, b) => WHY_ORDER[a.why] - WHY_ORDER[b.why]);
  const answer = { query: q, namespaces, answering, elsewhere, sentence: '' };
  answer.sentence = listenerSentence(answer);
  return answer;
}

const WHY_ORDER: Readonly<Record<ElsewhereWhy, number>> = { address: 0, family: 1, namespace: 2 };

const WHY_TEXT: Readonly<Record<ElsewhereWhy, string>> = {
  address: 'on another address',
  family: 'for the other IP version only',
  namespace: 'in another namespace',
};

function where(q: ListenerQuery): string {
  const host = q.addr === undefined ? '*' : q.addr.includes(':') ? `[${q.addr}]` : q.addr;
  return `${q.proto} ${host}:${q.port}`;
}

function nsText(namespaces: ReadonlyMap<number, string>): string {
  const labels = [...namespaces.values()];
  if (labels.length === 1) return ` in netns ${labels[0]}`;
  return labels.length <= 3 ? ` in netns ${labels.join(', ')}` : ` in any of ${labels.length} namespaces`;
}

function listenerText(s: Socket, why?: ElsewhereWhy): string {
  const ns = why === 'namespace' ? ` in netns ${s.netnsLabel}` : '';
  const dev = s.ifname ? ` (bound to device ${s.ifname})` : '';
  const reason = why ? ` (${WHY_TEXT[why]})` : '';
  return `${ownersText(s)} listens on ${formatEndpoint(s.local, s)}${dev}${ns}${reason}`;
}

function listText(parts: string[], max = 3): string {
  const shown = parts.slice(0, max);
  const rest = parts.length - shown.length;
  return shown.join('; ') + (rest > 0 ? `; and ${rest} more` : '');
}

/** One sentence: who answers, or that nothing does and who listens elsewhere. */
export function listenerSentence(a: Omit<ListenerAnswer, 'sentence'>): string {
  const target = `${where(a.query)}${nsText(a.namespaces)}`;
  if (a.answering.length) return `${target}: ${listText(a.answering.map((s) => listenerText(s)))}`;
  const none = `nothing listens on ${target}`;
  if (!a.elsewhere.length) return none;
  return `${none}; but ${listText(a.elsewhere.map((e) => listenerText(e.socket, e.why)))}`;
}
