/**
 * nftables tracing, the pure part: a parser of `nft monitor trace` text, parsers of
 * `nft list chains` (JSON and text) and `nft -a list` rule listings, a streaming
 * assembler that groups trace lines into one group per packet, and the aggregator that
 * turns a group into Mytracer's netfilter path (`2.filter.OUTPUT.DROP`).
 *
 * The text format is the one nftables 1.0.6 prints (src/trace.c, netlink.c there):
 *
 *   trace id 2ba6f5c9 ip filter OUTPUT packet: oif "eth0" ip saddr 10.0.0.1 ... tcp flags == syn ...
 *   trace id 2ba6f5c9 ip filter OUTPUT rule ip daddr 10.0.0.2 counter packets 0 bytes 0 drop # handle 2 (verdict drop)
 *   trace id 2ba6f5c9 ip filter OUTPUT unknown rule handle 8 (verdict accept)
 *   trace id 2ba6f5c9 ip mangle OUTPUT policy accept meta mark 0x00000007
 *   trace id 2ba6f5c9 ip filter sub verdict continue
 *
 * - A `packet:` line is printed once per base-chain invocation, before that chain's first
 *   event; its table/chain are those of the first traced event (normally the base chain).
 * - Only rules that matched are printed; `# handle N` only with `nft -a`.
 * - The rule text comes from the ruleset the monitor read when it started: rules added
 *   later print as `unknown rule handle N`, and counters are the start-time values.
 * - The trace id comes from the skb's address, so it is reused by later packets.
 * - Lines of different packets interleave (a `reject` prints its ICMP error's lines
 *   before the rule line that sent it).
 */
import { parseAddr } from '../../shared/addr.js';

/* ------------------------------------------------------------------ types */

export type NftFamily = 'ip' | 'ip6' | 'inet' | 'arp' | 'bridge' | 'netdev';
export const NFT_FAMILIES: readonly NftFamily[] = ['ip', 'ip6', 'inet', 'arp', 'bridge', 'netdev'];

export type NftVerdict = 'accept' | 'drop' | 'continue' | 'jump' | 'goto' | 'return' | 'queue' | 'stolen' | 'repeat' | 'break';
const VERDICTS: ReadonlySet<string> = new Set(['accept', 'drop', 'continue', 'jump', 'goto', 'return', 'queue', 'stolen', 'repeat', 'break']);

export type NftRecordKind = 'packet' | 'rule' | 'policy' | 'verdict';

/** Netfilter hooks, as nft names them. */
export type NfHook = 'prerouting' | 'input' | 'forward' | 'output' | 'postrouting' | 'ingress' | 'egress';
const HOOKS: ReadonlySet<string> = new Set(['prerouting', 'input', 'forward', 'output', 'postrouting', 'ingress', 'egress']);

/** Packet fields from a `packet:` line. Only what the line shows is set. */
export interface NftTracePacket {
  /** input/output device: its name, or the ifindex as text when nft could not name it */
  iif?: string;
  oif?: string;
  /** 4 or 6 when the line has an IPv4/IPv6 header */
  family?: 4 | 6;
  saddr?: string;
  daddr?: string;
  /** transport protocol: "tcp", "udp", "icmp", "icmpv6", "sctp", ... (nft's name, or a number as text) */
  l4proto?: string;
  sport?: number;
  dport?: number;
  /** TCP flag bits (FIN 0x01 ... CWR 0x80); see tuple.ts tcpFlagsText */
  tcpFlags?: number;
  /** IPv4 identification */
  ipId?: number;
  /** IPv4 total length, or IPv6 payload length */
  length?: number;
  /** IPv4 TTL or IPv6 hop limit */
  ttl?: number;
  flowLabel?: number;
  /** "echo-request", "destination-unreachable", ... (ICMP or ICMPv6) */
  icmpType?: string;
  /** nft's name for the code; note nft 1.0.6 prints code 0 of every type as "net-unreachable" (v4) / "no-route" (v6) */
  icmpCode?: string;
  icmpId?: number;
  icmpSeq?: number;
  mark?: number;
  etherSaddr?: string;
  etherDaddr?: string;
  /** ARP operation: "request", "reply", ... */
  arpOp?: string;
  vlanId?: number;
}

/** One line of `nft monitor trace`. */
export interface NftTraceRecord {
  /** 8 hex digits, as printed */
  traceId: string;
  family: NftFamily;
  table: string;
  chain: string;
  kind: NftRecordKind;
  /** rule: the rule text as nft prints it, without `# handle N` and the verdict; absent for `unknown rule handle N` */
  rule?: string;
  /** rule: its handle (printed with `nft -a`, and always for unknown rules) */
  handle?: number;
  /** rule: `unknown rule handle N`, the monitor did not know the rule (added after it started) */
  unknownRule?: boolean;
  /** rule, policy and verdict lines; absent when nft printed a value it could not name */
  verdict?: NftVerdict;
  /** jump/goto: the target chain */
  target?: string;
  /** policy/verdict lines: skb mark, when nft printed it (non-zero) */
  mark?: number;
  /** packet lines */
  packet?: NftTracePacket;
}

/* ------------------------------------------------------------------ line parser */

const HEADER = /^trace id ([0-9a-f]{8}) (\S+) (\S+) (\S+) (.*)$/;

/**
 * One `nft monitor trace` line as a record; null for anything else (blank lines,
 * nft's warnings, `conntrack:` lines of newer nft versions, unknown families).
 */
export function parseTraceLine(line: string): NftTraceRecord | null {
  const m = HEADER.exec(line.replace(/\s+$/, ''));
  if (!m) return null;
  const [, traceId = '', fam = '', table = '', chain = '', rest = ''] = m;
  if (!isFamily(fam)) return null;
  const base = { traceId, family: fam, table, chain };

  if (rest.startsWith('packet:')) {
    return { ...base, kind: 'packet', packet: parsePacketFields(rest.slice('packet:'.length)) };
  }
  if (rest.startsWith('rule ') || rest.startsWith('unknown rule handle ')) {
    const v = /^(.*) \(verdict (.+)\)$/s.exec(rest);
    if (!v) return null;
    const body = v[1] ?? '';
    const rec: NftTraceRecord = { ...base, kind: 'rule', ...parseVerdict(v[2] ?? '') };
    const unknown = /^unknown rule handle (\d+)$/.exec(body);
    if (unknown) {
      rec.unknownRule = true;
      rec.handle = Number(unknown[1]);
      return rec;
    }
    let text = body.slice('rule '.length);
    const h = /^(.*?)\s*# handle (\d+)$/s.exec(text);
    if (h) {
      text = h[1] ?? '';
      rec.handle = Number(h[2]);
    }
    rec.rule = text;
    return rec;
  }
  const pv = /^(policy|verdict) (.*)$/.exec(rest);
  if (pv) {
    const kind = pv[1] as 'policy' | 'verdict';
    let body = pv[2] ?? '';
    let mark: number | undefined;
    const mm = /^(.*?)\s*meta mark (0x[0-9a-f]+|\d+)$/.exec(body);
    if (mm) {
      body = mm[1] ?? '';
      mark = Number(mm[2]);
    }
    const rec: NftTraceRecord = { ...base, kind, ...parseVerdict(body.trim()) };
    if (mark !== undefined) rec.mark = mark;
    return rec;
  }
  return null;
}

/** Every trace line of a text (e.g. a saved `nft monitor trace` output), in order. */
export function parseTraceText(text: string): NftTraceRecord[] {
  const out: NftTraceRecord[] = [];
  for (const line of text.split('\n')) {
    const r = parseTraceLine(line);
    if (r) out.push(r);
  }
  return out;
}

function isFamily(s: string): s is NftFamily {
  return (NFT_FAMILIES as readonly string[]).includes(s);
}

function unquote(s: string): string {
  return s.length >= 2 && s.startsWith('"') && s.endsWith('"') ? s.slice(1, -1) : s;
}

/** "drop", "jump MYCHAIN", "goto sub2" -> verdict and target. */
function parseVerdict(text: string): { verdict?: NftVerdict; target?: string } {
  const t = text.trim();
  const jg = /^(jump|goto) (.+)$/.exec(t);
  if (jg) return { verdict: jg[1] as NftVerdict, target: unquote(jg[2] ?? '') };
  return VERDICTS.has(t) ? { verdict: t as NftVerdict } : {};
}

/** Split on spaces, keeping "quoted strings" whole. */
function tokenize(s: string): string[] {
  const out: string[] = [];
  const re = /"(?:[^"\\]|\\.)*"|\S+/g;
  for (let m = re.exec(s); m; m = re.exec(s)) out.push(m[0]);
  return out;
}

const PROTO_WORDS: ReadonlySet<string> = new Set([
  'ip', 'ip6', 'tcp', 'udp', 'udplite', 'sctp', 'dccp', 'icmp', 'icmpv6', 'igmp', 'ether', 'arp', 'vlan', 'meta', 'ct',
  'ah', 'esp', 'comp', 'gre', 'th', 'hbh', 'frag', 'rt', 'dst', 'mh',
]);
const OPERATORS: ReadonlySet<string> = new Set(['==', '!=', '<', '>', '<=', '>=', 'eq', 'ne']);
const TRANSPORT: ReadonlySet<string> = new Set(['tcp', 'udp', 'udplite', 'sctp', 'dccp', 'icmp', 'icmpv6', 'igmp', 'gre', 'esp', 'ah']);

const TCP_FLAG_BITS: Record<string, number> = { fin: 0x01, syn: 0x02, rst: 0x04, psh: 0x08, ack: 0x10, urg: 0x20, ecn: 0x40, ece: 0x40, cwr: 0x80 };

function parseTcpFlags(v: string): number | undefined {
  if (/^0x[0-9a-f]+$/i.test(v) || /^\d+$/.test(v)) return Number(v) & 0xff;
  let bits = 0;
  for (const name of v.split(/[|,]/).map((s) => s.trim()).filter(Boolean)) {
    const b = TCP_FLAG_BITS[name];
    if (b === undefined) return undefined;
    bits |= b;
  }
  return bits;
}

function num(v: string): number | undefined {
  if (!/^(0x[0-9a-f]+|\d+)$/i.test(v)) return undefined;
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** The statements after `packet:` ("iif "x" ip saddr ... tcp flags == syn ..."). */
export function parsePacketFields(text: string): NftTracePacket {
  const tok = tokenize(text);
  const fields = new Map<string, string>();
  const protos: string[] = [];
  for (let i = 0; i < tok.length; i++) {
    const t = tok[i]!;
    if (t === 'iif' || t === 'oif') {
      const v = tok[i + 1];
      if (v !== undefined) fields.set(t, unquote(v));
      i++;
      continue;
    }
    if (t.startsWith('@')) {
      i++; // raw payload: @th,64,96 0x...
      continue;
    }
    if (!PROTO_WORDS.has(t)) continue;
    const field = tok[i + 1];
    if (field === undefined) break;
    let j = i + 2;
    if (OPERATORS.has(tok[j] ?? '')) j++;
    let value = tok[j] ?? '';
    while (tok[j + 1] === '|' && tok[j + 2] !== undefined) {
      value += `|${tok[j + 2]}`;
      j += 2;
    }
    const key = `${t} ${field}`;
    if (!fields.has(key)) fields.set(key, unquote(value));
    if (TRANSPORT.has(t) && !protos.includes(t)) protos.push(t);
    i = j;
  }

  const p: NftTracePacket = {};
  const get = (k: string): string | undefined => fields.get(k);
  const setNum = (k: keyof NftTracePacket, v: string | undefined): void => {
    const n = v === undefined ? undefined : num(v);
    if (n !== undefined) (p as Record<string, unknown>)[k] = n;
  };
  const iif = get('iif');
  if (iif !== undefined) p.iif = iif;
  const oif = get('oif');
  if (oif !== undefined) p.oif = oif;
  const es = get('ether saddr');
  if (es !== undefined) p.etherSaddr = es;
  const ed = get('ether daddr');
  if (ed !== undefined) p.etherDaddr = ed;
  setNum('vlanId', get('vlan id'));
  const arpOp = get('arp operation');
  if (arpOp !== undefined) p.arpOp = arpOp;

  const ip = get('ip saddr') !== undefined || get('ip daddr') !== undefined ? 'ip' : get('ip6 saddr') !== undefined ? 'ip6' : null;
  if (ip === 'ip') {
    p.family = 4;
    p.saddr = get('ip saddr')!;
    p.daddr = get('ip daddr')!;
    setNum('ipId', get('ip id'));
    setNum('length', get('ip length'));
    setNum('ttl', get('ip ttl'));
  } else if (ip === 'ip6') {
    p.family = 6;
    p.saddr = get('ip6 saddr')!;
    p.daddr = get('ip6 daddr')!;
    setNum('length', get('ip6 length'));
    setNum('ttl', get('ip6 hoplimit'));
    setNum('flowLabel', get('ip6 flowlabel'));
  }
  if (p.saddr === undefined) delete p.saddr;
  if (p.daddr === undefined) delete p.daddr;

  // transport: the header nft decoded, else what the network header names
  const l4 = protos[0] ?? get('ip protocol') ?? get('ip6 nexthdr') ?? get('meta l4proto');
  // ("ip6 nexthdr ip" is protocol 0: a hop-by-hop options header comes first)
  if (l4 !== undefined) p.l4proto = l4 === 'ipv6-icmp' ? 'icmpv6' : l4 === 'ip' && p.family === 6 ? 'hopopts' : l4;
  for (const t of ['tcp', 'udp', 'udplite', 'sctp', 'dccp', 'th']) {
    if (p.sport === undefined) setNum('sport', get(`${t} sport`));
    if (p.dport === undefined) setNum('dport', get(`${t} dport`));
  }
  const flags = get('tcp flags');
  if (flags !== undefined) {
    const bits = parseTcpFlags(flags);
    if (bits !== undefined) p.tcpFlags = bits;
  }
  for (const t of ['icmp', 'icmpv6']) {
    const type = get(`${t} type`);
    if (type === undefined) continue;
    p.icmpType = type;
    const code = get(`${t} code`);
    if (code !== undefined) p.icmpCode = code;
    if (!/^echo-(request|reply)$/.test(type)) break; // id/sequence only mean something for echo
    setNum('icmpId', get(`${t} id`));
    setNum('icmpSeq', get(`${t} sequence`));
    // nft 1.0.6 decodes the ICMPv6 echo id/sequence word as "parameter-problem N"
    const pp = get(`${t} parameter-problem`);
    if (p.icmpId === undefined && pp !== undefined) {
      const v = num(pp);
      if (v !== undefined) {
        p.icmpId = (v >>> 16) & 0xffff;
        p.icmpSeq = v & 0xffff;
      }
    }
    break;
  }
  setNum('mark', get('meta mark'));
  return p;
}

/* ------------------------------------------------------------------ chains and rules */

/** A chain from `nft list chains` (base chains have hook, type, priority and policy). */
export interface NftChainInfo {
  family: NftFamily;
  table: string;
  chain: string;
  handle?: number;
  type?: string;
  hook?: NfHook;
  priority?: number;
  policy?: 'accept' | 'drop';
  device?: string;
}

/** family/table/chain -> chain info. */
export type NftHookMap = ReadonlyMap<string, NftChainInfo>;

export function chainKey(family: string, table: string, chain: string): string {
  return `${family}\u0000${table}\u0000${chain}`;
}

export function hookMapOf(chains: readonly NftChainInfo[]): Map<string, NftChainInfo> {
  const m = new Map<string, NftChainInfo>();
  for (const c of chains) m.set(chainKey(c.family, c.table, c.chain), c);
  return m;
}

/** Chains from `nft -j list chains` (or `nft -j list ruleset`: non-chain objects are skipped). */
export function parseNftChainsJson(text: string): NftChainInfo[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new Error(`nft -j list chains: not JSON: ${(err as Error).message}`, { cause: err });
  }
  const items = (doc as { nftables?: unknown }).nftables;
  if (!Array.isArray(items)) throw new Error('nft -j list chains: no "nftables" array');
  const out: NftChainInfo[] = [];
  for (const item of items) {
    const c = (item as { chain?: Record<string, unknown> }).chain;
    if (!c || typeof c !== 'object') continue;
    const family = String(c.family ?? '');
    if (!isFamily(family) || typeof c.table !== 'string' || typeof c.name !== 'string') continue;
    const info: NftChainInfo = { family, table: c.table, chain: c.name };
    if (typeof c.handle === 'number') info.handle = c.handle;
    if (typeof c.type === 'string') info.type = c.type;
    if (typeof c.hook === 'string' && HOOKS.has(c.hook)) info.hook = c.hook as NfHook;
    if (typeof c.prio === 'number') info.priority = c.prio;
    if (c.policy === 'accept' || c.policy === 'drop') info.policy = c.policy;
    if (typeof c.dev === 'string') info.device = c.dev;
    else if (Array.isArray(c.dev) && typeof c.dev[0] === 'string') info.device = c.dev.join(',');
    out.push(info);
  }
  return out;
}

/** Named chain priorities (nft(8) "PRIORITY"); the bridge family has its own. */
const PRIORITY_NAMES: Record<string, number> = { raw: -300, mangle: -150, dstnat: -100, filter: 0, security: 50, srcnat: 100 };
const BRIDGE_PRIORITY_NAMES: Record<string, number> = { dstnat: -300, filter: -200, out: 100, srcnat: 300 };

/** "filter", "-500", "mangle - 5", "srcnat + 10" -> number; null when not understood. */
export function parsePriority(family: NftFamily, text: string): number | null {
  const m = /^\s*(-?\d+|[a-z]+)\s*(?:([+-])\s*(\d+))?\s*$/.exec(text);
  if (!m) return null;
  const names = family === 'bridge' ? BRIDGE_PRIORITY_NAMES : PRIORITY_NAMES;
  const base = /^-?\d+$/.test(m[1]!) ? Number(m[1]) : names[m[1]!];
  if (base === undefined) return null;
  const off = m[3] === undefined ? 0 : Number(m[3]) * (m[2] === '-' ? -1 : 1);
  return base + off;
}

/** Chains from `nft list chains` / `nft list ruleset` text (with or without -a). */
export function parseNftChainsText(text: string): NftChainInfo[] {
  const out: NftChainInfo[] = [];
  let family: NftFamily | null = null;
  let table: string | null = null;
  let cur: NftChainInfo | null = null;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\s*# handle \d+\s*$/, '').trim();
    const t = /^table (\S+) (\S+) \{$/.exec(line);
    if (t) {
      family = isFamily(t[1]!) ? (t[1] as NftFamily) : null;
      table = unquote(t[2]!);
      cur = null;
      continue;
    }
    const c = /^chain (\S+) \{$/.exec(line);
    if (c && family && table !== null) {
      cur = { family, table, chain: unquote(c[1]!) };
      const h = /# handle (\d+)\s*$/.exec(raw);
      if (h) cur.handle = Number(h[1]);
      out.push(cur);
      continue;
    }
    if (!cur) continue;
    const b = /^type (\S+) hook (\S+)(?: device (?:"([^"]*)"|(\S+)))?(?: devices = \{([^}]*)\})? priority ([^;]+);(?: policy (accept|drop);)?/.exec(line);
    if (b) {
      cur.type = b[1]!;
      if (HOOKS.has(b[2]!)) cur.hook = b[2] as NfHook;
      const dev = b[3] ?? b[4] ?? b[5]?.replace(/[\s"]/g, '');
      if (dev) cur.device = dev;
      const prio = parsePriority(cur.family, b[6]!);
      if (prio !== null) cur.priority = prio;
      if (b[7]) cur.policy = b[7] as 'accept' | 'drop';
      continue;
    }
    if (line === '}') cur = null;
  }
  return out;
}

/** A rule from an `nft -a list ...` listing. */
export interface NftListedRule {
  family: NftFamily;
  table: string;
  chain: string;
  handle: number;
  /** the rule text without `# handle N` (counters are those of the listing) */
  text: string;
}

/** Rules from `nft -a list ruleset|table|chain` text. Rules without a handle (no -a) are skipped. */
export function parseNftRuleList(text: string): NftListedRule[] {
  const out: NftListedRule[] = [];
  let family: NftFamily | null = null;
  let table: string | null = null;
  let chain: string | null = null;
  let depth = 0;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const t = /^table (\S+) (\S+) \{/.exec(line);
    if (t && depth === 0) {
      family = isFamily(t[1]!) ? (t[1] as NftFamily) : null;
      table = unquote(t[2]!);
      depth = 1;
      continue;
    }
    const c = /^chain (\S+) \{/.exec(line);
    if (c && depth === 1) {
      chain = unquote(c[1]!);
      depth = 2;
      continue;
    }
    if (depth === 1 && /\{\s*(# handle \d+)?$/.test(line)) {
      depth = 3; // set, map, flowtable, counter object...: skip to its end
      continue;
    }
    if (line === '}') {
      depth = depth === 3 ? 1 : Math.max(0, depth - 1);
      if (depth < 2) chain = null;
      continue;
    }
    if (depth !== 2 || !family || table === null || chain === null) continue;
    if (/^(type \S+ hook|policy \S+;)/.test(line)) continue;
    const r = /^(.*?)\s*# handle (\d+)$/.exec(line);
    if (r) out.push({ family, table, chain, handle: Number(r[2]), text: r[1]! });
  }
  return out;
}

/* ------------------------------------------------------------------ path */

/** NFPROTO_* numbers (include/uapi/linux/netfilter.h), as Mytracer prints them. */
export const NFPROTO = { inet: 1, ip: 2, arp: 3, netdev: 5, bridge: 7, ip6: 10 } as const;

export type NfVerdictName = 'ACCEPT' | 'DROP' | 'QUEUE' | 'STOLEN' | 'REPEAT' | 'UNKNOWN';

/** One base chain a packet went through, and how it left it. */
export interface NfPathStep {
  /** NFPROTO number: 2 ip, 10 ip6, 3 arp, 5 netdev, 7 bridge; an inet table takes the packet's (1 if unknown) */
  pf: number;
  family: NftFamily;
  table: string;
  /** the base chain (the chain the traversal started in) */
  chain: string;
  hook: NfHook | null;
  priority: number | null;
  verdict: NfVerdictName;
  /** the deciding rule as `nft -a` prints it, "<text> # handle N"; null when the policy decided or the text is unknown */
  rule: string | null;
  handle: number | null;
  /** chain holding the deciding rule (another chain than `chain` after a jump/goto) */
  ruleChain: string | null;
  /** true when the chain's policy decided */
  byPolicy: boolean;
  /** chains entered, in order, starting with `chain` */
  chains: string[];
  /** skb mark at the end of the chain, when nft printed one */
  mark?: number;
}

/** What a group of trace records says about one packet. */
export interface NfTrace {
  traceId: string;
  /** the first `packet:` line's fields (null if the group has none) */
  packet: NftTracePacket | null;
  path: NfPathStep[];
  records: NftTraceRecord[];
}

/** pktpath's own tracing tables: `pktpath_<pid>` or `pktpath_<pid>_<n>`. */
export const OWN_TABLE_RE = /^pktpath_(\d+)(?:_(\d+))?$/;

export interface AggregateOptions {
  /** leave a table out of the path; default: pktpath's own tables (OWN_TABLE_RE) */
  skipTable?: (family: NftFamily, table: string) => boolean;
}

const defaultSkip = (family: NftFamily, table: string): boolean => family === 'inet' && OWN_TABLE_RE.test(table);

interface Segment {
  family: NftFamily;
  table: string;
  chain: string;
  packet: NftTracePacket | null;
  chains: string[];
  closed: boolean;
  verdict: NfVerdictName;
  deciding: NftTraceRecord | null;
  byPolicy: boolean;
  mark?: number;
}

function upper(v: NftVerdict): NfVerdictName | null {
  switch (v) {
    case 'accept':
      return 'ACCEPT';
    case 'drop':
      return 'DROP';
    case 'queue':
      return 'QUEUE';
    case 'stolen':
      return 'STOLEN';
    case 'repeat':
      return 'REPEAT';
    default:
      return null; // continue, break, jump, goto, return: the traversal goes on
  }
}

/** The rule text as `nft -a list` prints it: "<text> # handle N". */
export function ruleWithHandle(rec: Pick<NftTraceRecord, 'rule' | 'handle'>): string | null {
  if (rec.rule === undefined) return null;
  return rec.handle === undefined ? rec.rule : `${rec.rule} # handle ${rec.handle}`;
}

/**
 * The netfilter path of one packet: the records of one trace id (one packet; see
 * NftTraceAssembler), in the order nft printed them, to one step per base chain.
 * `hooks` (from `nft -j list chains`) fills hook and priority, and tells base chains
 * from regular ones when a `packet:` line is missing.
 */
export function buildNfPath(records: readonly NftTraceRecord[], hooks?: NftHookMap, opts: AggregateOptions = {}): NfPathStep[] {
  const skip = opts.skipTable ?? defaultSkip;
  const isBase = (r: NftTraceRecord): boolean => hooks?.get(chainKey(r.family, r.table, r.chain))?.hook !== undefined;
  const segs: Segment[] = [];
  let cur: Segment | null = null;
  let lastPacket: NftTracePacket | null = null;

  for (const r of records) {
    if (r.packet) lastPacket = r.packet;
    if (skip(r.family, r.table)) continue;
    const fresh =
      cur === null ||
      r.kind === 'packet' ||
      cur.closed ||
      r.family !== cur.family ||
      r.table !== cur.table ||
      (isBase(r) && r.chain !== cur.chain && !cur.chains.includes(r.chain));
    if (fresh) {
      cur = {
        family: r.family,
        table: r.table,
        chain: r.chain,
        packet: r.packet ?? null,
        chains: [r.chain],
        closed: false,
        verdict: 'UNKNOWN',
        deciding: null,
        byPolicy: false,
      };
      segs.push(cur);
    }
    const s = cur!;
    if (!s.chains.includes(r.chain)) s.chains.push(r.chain);
    if (r.mark !== undefined) s.mark = r.mark;
    if (r.kind === 'packet') continue;
    if (r.verdict === undefined) continue;
    if ((r.verdict === 'jump' || r.verdict === 'goto') && r.target !== undefined) {
      if (!s.chains.includes(r.target)) s.chains.push(r.target);
      continue;
    }
    const final = upper(r.verdict);
    if (final === null) continue;
    s.verdict = final;
    s.closed = true;
    if (r.kind === 'rule') s.deciding = r;
    s.byPolicy = r.kind === 'policy';
  }

  return segs.map((s) => {
    const info = hooks?.get(chainKey(s.family, s.table, s.chain));
    const pkt = s.packet ?? lastPacket;
    const pf =
      s.family === 'inet' ? (pkt?.family === 4 ? NFPROTO.ip : pkt?.family === 6 ? NFPROTO.ip6 : NFPROTO.inet) : NFPROTO[s.family];
    const step: NfPathStep = {
      pf,
      family: s.family,
      table: s.table,
      chain: s.chain,
      hook: info?.hook ?? null,
      priority: info?.priority ?? null,
      verdict: s.verdict,
      rule: s.deciding ? ruleWithHandle(s.deciding) : null,
      handle: s.deciding?.handle ?? null,
      ruleChain: s.deciding?.chain ?? null,
      byPolicy: s.byPolicy,
      chains: s.chains,
    };
    if (s.mark !== undefined) step.mark = s.mark;
    return step;
  });
}

/** One trace group as an NfTrace. */
export function aggregateTrace(records: readonly NftTraceRecord[], hooks?: NftHookMap, opts: AggregateOptions = {}): NfTrace {
  const first = records[0];
  return {
    traceId: first?.traceId ?? '',
    packet: records.find((r) => r.packet)?.packet ?? null,
    path: buildNfPath(records, hooks, opts),
    records: [...records],
  };
}

/** Mytracer's TRACE_INFO form of a step: "2.filter.OUTPUT.DROP". */
export function formatNfStep(step: Pick<NfPathStep, 'pf' | 'table' | 'chain' | 'verdict'>): string {
  return `${step.pf}.${step.table}.${step.chain}.${step.verdict}`;
}

/** The `nf` object of pktpath's JSON output. */
export interface NfJson {
  pf: number;
  table: string;
  chain: string;
  hook: NfHook | null;
  verdict: NfVerdictName;
  rule: string | null;
}

export function nfJson(step: NfPathStep): NfJson {
  return { pf: step.pf, table: step.table, chain: step.chain, hook: step.hook, verdict: step.verdict, rule: step.rule };
}

/* ------------------------------------------------------------------ streaming assembly */

export interface AssemblerOptions {
  /** a group with no new line for this long is complete (default 200 ms) */
  idleMs?: number;
  /** at most this many records per group; later ones start a new group (default 4096) */
  maxRecords?: number;
  /** at most this many open groups; the oldest is completed first (default 4096) */
  maxOpen?: number;
}

interface OpenGroup {
  records: NftTraceRecord[];
  first: NftTracePacket | null;
  /** base chains that printed a packet: line in this group */
  entered: Set<string>;
  dropped: boolean;
  lastMs: number;
}

/** Two `packet:` lines of one trace id describe the same packet (NAT may change addresses and ports, not these). */
export function samePacket(a: NftTracePacket, b: NftTracePacket): boolean {
  const differ = <T>(x: T | undefined, y: T | undefined): boolean => x !== undefined && y !== undefined && x !== y;
  return !(
    differ(a.family, b.family) ||
    differ(a.l4proto, b.l4proto) ||
    differ(a.ipId, b.ipId) ||
    differ(a.tcpFlags, b.tcpFlags) ||
    differ(a.icmpType, b.icmpType) ||
    differ(a.icmpSeq, b.icmpSeq) ||
    differ(a.arpOp, b.arpOp)
  );
}

/**
 * Groups records, as they come, into one group per packet. A trace id's group is
 * complete when the packet was dropped, when no line came for `idleMs`, or when a
 * `packet:` line shows another packet under the same id: other header fields, or a base
 * chain the group already entered (the kernel derives the id from the skb's address,
 * which later packets reuse).
 */
export class NftTraceAssembler {
  private readonly open = new Map<string, OpenGroup>();
  private readonly idleMs: number;
  private readonly maxRecords: number;
  private readonly maxOpen: number;

  constructor(
    private readonly onGroup: (records: NftTraceRecord[]) => void,
    opts: AssemblerOptions = {},
  ) {
    this.idleMs = opts.idleMs ?? 200;
    this.maxRecords = opts.maxRecords ?? 4096;
    this.maxOpen = opts.maxOpen ?? 4096;
  }

  /** Groups still open. */
  get pending(): number {
    return this.open.size;
  }

  push(rec: NftTraceRecord, nowMs: number): void {
    let g = this.open.get(rec.traceId);
    if (g) {
      const other =
        g.dropped ||
        nowMs - g.lastMs > this.idleMs ||
        g.records.length >= this.maxRecords ||
        (rec.kind === 'packet' &&
          (g.entered.has(chainKey(rec.family, rec.table, rec.chain)) ||
            (rec.packet !== undefined && g.first !== null && !samePacket(g.first, rec.packet))));
      if (other) {
        this.complete(rec.traceId);
        g = undefined;
      }
    }
    if (!g) {
      if (this.open.size >= this.maxOpen) {
        const oldest = this.open.keys().next().value;
        if (oldest !== undefined) this.complete(oldest);
      }
      g = { records: [], first: null, entered: new Set(), dropped: false, lastMs: nowMs };
      this.open.set(rec.traceId, g);
    }
    g.records.push(rec);
    g.lastMs = nowMs;
    if (rec.packet && g.first === null) g.first = rec.packet;
    if (rec.kind === 'packet') g.entered.add(chainKey(rec.family, rec.table, rec.chain));
    if (rec.verdict === 'drop' && rec.kind !== 'packet') {
      g.dropped = true;
      this.complete(rec.traceId); // a dropped skb has no more events
    }
  }

  /** Complete every group idle for longer than idleMs. Returns how many. */
  flushIdle(nowMs: number): number {
    let n = 0;
    for (const [id, g] of [...this.open]) {
      if (nowMs - g.lastMs > this.idleMs) {
        this.complete(id);
        n++;
      }
    }
    return n;
  }

  /** Complete every open group (at the end of a session). */
  flushAll(): void {
    for (const id of [...this.open.keys()]) this.complete(id);
  }

  private complete(id: string): void {
    const g = this.open.get(id);
    if (!g) return;
    this.open.delete(id);
    if (g.records.length) this.onGroup(g.records);
  }
}

/* ------------------------------------------------------------------ the tracing table */

/** What packets pktpath's table marks for tracing. Every field is optional; all must match. */
export interface NftTraceFilter {
  family?: 4 | 6;
  /** IPv4 or IPv6 address, either side */
  addr?: string;
  /** TCP/UDP port, either side */
  port?: number;
  l4proto?: 'tcp' | 'udp' | 'icmp';
}

/** Table name for a process (and, for a second table of the same process, its sequence number). */
export function ownTableName(pid: number, seq = 0): string {
  return seq > 0 ? `pktpath_${pid}_${seq}` : `pktpath_${pid}`;
}

/**
 * The rule bodies (before `meta nftrace set 1`) that together match the filter: one per
 * side of the address times one per side of the port. Throws on an invalid filter.
 */
export function traceMatchRules(filter: NftTraceFilter): string[] {
  let family = filter.family;
  if (family !== undefined && family !== 4 && family !== 6) throw new RangeError(`family must be 4 or 6, not ${String(family)}`);
  let addrParts: string[] = [''];
  if (filter.addr !== undefined) {
    const a = parseAddr(filter.addr);
    if (!a) throw new RangeError(`not an IPv4 or IPv6 address: "${filter.addr}"`);
    if (family !== undefined && a.family !== family) throw new RangeError(`address ${filter.addr} is not IPv${family}`);
    family = a.family;
    const kw = a.family === 4 ? 'ip' : 'ip6';
    addrParts = [`${kw} saddr ${filter.addr}`, `${kw} daddr ${filter.addr}`];
  }
  const proto = filter.l4proto;
  if (proto !== undefined && proto !== 'tcp' && proto !== 'udp' && proto !== 'icmp') throw new RangeError(`l4proto must be tcp, udp or icmp`);
  if (filter.port !== undefined) {
    if (!Number.isInteger(filter.port) || filter.port < 1 || filter.port > 65535) throw new RangeError(`port must be 1-65535, not ${filter.port}`);
    if (proto === 'icmp') throw new RangeError('a port cannot be combined with icmp');
  }
  const pre: string[] = [];
  if (family !== undefined && filter.addr === undefined) pre.push(`meta nfproto ${family === 4 ? 'ipv4' : 'ipv6'}`);
  let portParts: string[] = [''];
  if (proto === 'icmp') {
    pre.push(family === 4 ? 'meta l4proto icmp' : family === 6 ? 'meta l4proto ipv6-icmp' : 'meta l4proto { icmp, ipv6-icmp }');
  } else if (filter.port !== undefined) {
    const l4 = proto ?? null;
    pre.push(l4 ? `meta l4proto ${l4}` : 'meta l4proto { tcp, udp }');
    portParts = [`th sport ${filter.port}`, `th dport ${filter.port}`];
  } else if (proto) {
    pre.push(`meta l4proto ${proto}`);
  }
  const out: string[] = [];
  for (const a of addrParts) for (const p of portParts) out.push([a, ...pre, p].filter(Boolean).join(' '));
  return out;
}

/** Priority of pktpath's base chains: before raw (-300) and conntrack defragmentation (-400). */
export const TRACE_PRIORITY = -500;

/**
 * The `nft -f` script that creates pktpath's tracing table: base chains on prerouting
 * and output that set nftrace on matching packets and do nothing else (no verdict: the
 * policy is accept, as for every chain that does not drop).
 */
export function traceTableScript(table: string, filter: NftTraceFilter, comment?: string): string {
  if (!OWN_TABLE_RE.test(table)) throw new RangeError(`not a pktpath table name: ${table}`);
  if (comment !== undefined && !/^[A-Za-z0-9 _.,:=?/-]{0,120}$/.test(comment)) throw new RangeError(`unsafe table comment: ${comment}`);
  const rules = traceMatchRules(filter);
  const chain = (name: string, hook: string): string[] => [
    `\tchain ${name} {`,
    `\t\ttype filter hook ${hook} priority ${TRACE_PRIORITY}; policy accept;`,
    ...rules.map((r) => `\t\t${r ? `${r} ` : ''}meta nftrace set 1`),
    '\t}',
  ];
  const head = comment === undefined ? [] : [`\tcomment "${comment}"`];
  return [`table inet ${table} {`, ...head, ...chain('pre', 'prerouting'), ...chain('out', 'output'), '}', ''].join('\n');
}
