/**
 * The netfilter vocabulary every part of src/netfilter/ shares: nftables families,
 * hooks and verdicts, the records of `nft monitor trace`, chain listings, and the path
 * step a packet's traversal of one base chain becomes (Mytracer's `2.filter.OUTPUT.DROP`).
 * Types and small lookups only. Pure.
 */

/* ------------------------------------------------------------------ families, hooks, verdicts */

export type NftFamily = 'ip' | 'ip6' | 'inet' | 'arp' | 'bridge' | 'netdev';
export const NFT_FAMILIES: readonly NftFamily[] = ['ip', 'ip6', 'inet', 'arp', 'bridge', 'netdev'];

export function isNftFamily(s: string): s is NftFamily {
  return (NFT_FAMILIES as readonly string[]).includes(s);
}

/** A verdict as nft prints it. */
export type NftVerdict = 'accept' | 'drop' | 'continue' | 'jump' | 'goto' | 'return' | 'queue' | 'stolen' | 'repeat' | 'break';
const NFT_VERDICTS: ReadonlySet<string> = new Set(['accept', 'drop', 'continue', 'jump', 'goto', 'return', 'queue', 'stolen', 'repeat', 'break']);

export function isNftVerdict(s: string): s is NftVerdict {
  return NFT_VERDICTS.has(s);
}

/** Netfilter hooks, as nft names them. */
export type NfHook = 'prerouting' | 'input' | 'forward' | 'output' | 'postrouting' | 'ingress' | 'egress';
const NF_HOOKS: ReadonlySet<string> = new Set(['prerouting', 'input', 'forward', 'output', 'postrouting', 'ingress', 'egress']);

export function isNfHook(s: string): s is NfHook {
  return NF_HOOKS.has(s);
}

/** NFPROTO_* numbers (include/uapi/linux/netfilter.h), as Mytracer prints them. */
export const NFPROTO = { inet: 1, ip: 2, arp: 3, netdev: 5, bridge: 7, ip6: 10 } as const;

/** How a packet left a base chain or an x_tables table. */
export type NfVerdictName = 'ACCEPT' | 'DROP' | 'QUEUE' | 'STOLEN' | 'REPEAT' | 'UNKNOWN';

/** pktpath's own tracing tables: `pktpath_<pid>` or `pktpath_<pid>_<n>`. */
export const OWN_TABLE_RE = /^pktpath_(\d+)(?:_(\d+))?$/;

/* ------------------------------------------------------------------ nft monitor trace records */

export type NftRecordKind = 'packet' | 'rule' | 'policy' | 'verdict';

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

/* ------------------------------------------------------------------ chains */

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

/* ------------------------------------------------------------------ path steps */

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

/** The `nf` object of pktpath's JSON output. */
export interface NfJson {
  pf: number;
  table: string;
  chain: string;
  hook: NfHook | null;
  verdict: NfVerdictName;
  rule: string | null;
}
