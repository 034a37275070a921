/**
 * The fields of a `packet:` line of `nft monitor trace` ("iif "x" ip saddr ... tcp flags
 * == syn ..."): nft prints the headers it decoded as `<protocol> <field> [op] <value>`
 * statements; the tables below say which statement fills which packet field. Pure.
 */
import type { NftTracePacket } from '../model.js';
import { tokenize, unquote } from './text.js';

/** Words that start a `<protocol> <field> <value>` statement. */
const PROTO_WORDS: ReadonlySet<string> = new Set([
  'ip', 'ip6', 'tcp', 'udp', 'udplite', 'sctp', 'dccp', 'icmp', 'icmpv6', 'igmp', 'ether', 'arp', 'vlan', 'meta', 'ct',
  'ah', 'esp', 'comp', 'gre', 'th', 'hbh', 'frag', 'rt', 'dst', 'mh',
]);
const OPERATORS: ReadonlySet<string> = new Set(['==', '!=', '<', '>', '<=', '>=', 'eq', 'ne']);
/** Protocol words that are a transport header: the first one printed is the packet's l4proto. */
const TRANSPORT: ReadonlySet<string> = new Set(['tcp', 'udp', 'udplite', 'sctp', 'dccp', 'icmp', 'icmpv6', 'igmp', 'gre', 'esp', 'ah']);

const TCP_FLAG_BITS: Readonly<Record<string, number>> = { fin: 0x01, syn: 0x02, rst: 0x04, psh: 0x08, ack: 0x10, urg: 0x20, ecn: 0x40, ece: 0x40, cwr: 0x80 };

type Conv = 'text' | 'num';
/**
 * [statement, packet field, conversion]: the statement's value, when it converts, fills
 * the field; the first row that gives a field a value wins.
 */
type Row = readonly [string, keyof NftTracePacket, Conv];

/** Fields any packet line may show. */
const ANY_PACKET: readonly Row[] = [
  ['iif', 'iif', 'text'],
  ['oif', 'oif', 'text'],
  ['ether saddr', 'etherSaddr', 'text'],
  ['ether daddr', 'etherDaddr', 'text'],
  ['vlan id', 'vlanId', 'num'],
  ['arp operation', 'arpOp', 'text'],
  ['meta mark', 'mark', 'num'],
];

/** The network header: present when one of `when` is, then its rows apply. IPv4 is looked at first. */
const NETWORK: readonly { family: 4 | 6; when: readonly string[]; rows: readonly Row[] }[] = [
  {
    family: 4,
    when: ['ip saddr', 'ip daddr'],
    rows: [
      ['ip saddr', 'saddr', 'text'],
      ['ip daddr', 'daddr', 'text'],
      ['ip id', 'ipId', 'num'],
      ['ip length', 'length', 'num'],
      ['ip ttl', 'ttl', 'num'],
    ],
  },
  {
    family: 6,
    when: ['ip6 saddr'],
    rows: [
      ['ip6 saddr', 'saddr', 'text'],
      ['ip6 daddr', 'daddr', 'text'],
      ['ip6 length', 'length', 'num'],
      ['ip6 hoplimit', 'ttl', 'num'],
      ['ip6 flowlabel', 'flowLabel', 'num'],
    ],
  },
];

/** Ports, from the headers in this order (`th` is nft's generic transport header). */
const PORTS: readonly Row[] = ['tcp', 'udp', 'udplite', 'sctp', 'dccp', 'th'].flatMap((h): Row[] => [
  [`${h} sport`, 'sport', 'num'],
  [`${h} dport`, 'dport', 'num'],
]);
/** Where the transport protocol is named when nft decoded no transport header. */
const L4_FALLBACK = ['ip protocol', 'ip6 nexthdr', 'meta l4proto'] as const;

function num(v: string): number | undefined {
  if (!/^(0x[0-9a-f]+|\d+)$/i.test(v)) return undefined;
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : undefined;
}

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

interface Statements {
  /** "ip saddr" -> "10.0.0.1", "iif" -> "eth0": the first value of each statement */
  fields: Map<string, string>;
  /** transport protocol words, in the order printed */
  protos: string[];
}

/** The statements of a packet line. `syn | ack` stays one value; raw payload (`@th,64,96 0x...`) is skipped. */
function statements(text: string): Statements {
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
      i++;
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
  return { fields, protos };
}

function apply(p: NftTracePacket, fields: ReadonlyMap<string, string>, rows: readonly Row[]): void {
  for (const [stmt, key, conv] of rows) {
    const v = fields.get(stmt);
    if (v === undefined || p[key] !== undefined) continue;
    const x = conv === 'num' ? num(v) : v;
    if (x !== undefined) (p as Record<string, unknown>)[key] = x;
  }
}

/** The transport protocol: the header nft decoded, else what the network header names. */
function l4protoOf(s: Statements, family: 4 | 6 | undefined): string | undefined {
  const l4 = s.protos[0] ?? L4_FALLBACK.map((k) => s.fields.get(k)).find((v) => v !== undefined);
  if (l4 === 'ipv6-icmp') return 'icmpv6';
  // "ip6 nexthdr ip" is protocol 0: a hop-by-hop options header comes first
  if (l4 === 'ip' && family === 6) return 'hopopts';
  return l4;
}

/** ICMP or ICMPv6 type and code; id and sequence only for echo, where they mean something. */
function applyIcmp(p: NftTracePacket, fields: ReadonlyMap<string, string>): void {
  const t = ['icmp', 'icmpv6'].find((x) => fields.has(`${x} type`));
  if (t === undefined) return;
  const type = fields.get(`${t} type`)!;
  p.icmpType = type;
  const code = fields.get(`${t} code`);
  if (code !== undefined) p.icmpCode = code;
  if (!/^echo-(request|reply)$/.test(type)) return;
  apply(p, fields, [
    [`${t} id`, 'icmpId', 'num'],
    [`${t} sequence`, 'icmpSeq', 'num'],
  ]);
  // nft 1.0.6 decodes the ICMPv6 echo id/sequence word as "parameter-problem N"
  const pp = fields.get(`${t} parameter-problem`);
  const v = p.icmpId === undefined && pp !== undefined ? num(pp) : undefined;
  if (v !== undefined) {
    p.icmpId = (v >>> 16) & 0xffff;
    p.icmpSeq = v & 0xffff;
  }
}

/** The statements after `packet:` ("iif "x" ip saddr ... tcp flags == syn ...") as packet fields. */
export function parsePacketFields(text: string): NftTracePacket {
  const s = statements(text);
  const p: NftTracePacket = {};
  apply(p, s.fields, ANY_PACKET);
  const net = NETWORK.find((n) => n.when.some((k) => s.fields.has(k)));
  if (net) {
    p.family = net.family;
    apply(p, s.fields, net.rows);
  }
  const l4 = l4protoOf(s, p.family);
  if (l4 !== undefined) p.l4proto = l4;
  apply(p, s.fields, PORTS);
  const flags = s.fields.get('tcp flags');
  const bits = flags === undefined ? undefined : parseTcpFlags(flags);
  if (bits !== undefined) p.tcpFlags = bits;
  applyIcmp(p, s.fields);
  return p;
}
