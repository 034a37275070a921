/**
 * The shape of a diagnosis rule. Rules are data (the tables beside this file): an anchor
 * event, the further evidence it needs as a small typed pattern, the inputs it cannot do
 * without, the words and the advice. src/diagnose/evaluate.ts reads them; nothing in a
 * rule is code except a named check (checks.ts) for what a pattern cannot say.
 *
 * Words are templates: {name} is replaced from the finding's context (words.ts lists the
 * names: flow, src, dst, dport, proto, netns, dev, reason, at, hook, rule, icmp, errno,
 * sees, count, n:<role>, ...).
 */
import type { Level, Need, Stage } from '../model.js';

export type TcpFlag = 'FIN' | 'SYN' | 'RST' | 'PSH' | 'ACK' | 'URG' | 'ECE' | 'CWR';

/** What one event must look like. Every field given must hold; lists mean "one of". */
export interface EventMatch {
  readonly probe?: readonly string[];
  readonly stage?: readonly Stage[];
  /** drop reason names (kfree_skb), without SKB_DROP_REASON_ */
  readonly reason?: readonly string[];
  /** kfree_skb / consume_skb location function */
  readonly at?: readonly string[];
  readonly proto?: readonly string[];
  /** TCP flags: all of `all`, none of `none`; `exactly` compares the whole set */
  readonly flags?: { readonly all?: readonly TcpFlag[]; readonly none?: readonly TcpFlag[]; readonly exactly?: readonly TcpFlag[] };
  /** the packet's own ICMP header */
  readonly icmp?: { readonly type?: readonly number[]; readonly code?: readonly number[] };
  /** icmp_send: the ICMP error the kernel sends about this packet */
  readonly sent?: { readonly type?: readonly number[]; readonly code?: readonly number[] };
  /** a netfilter step; `rule` is a case-insensitive regular expression over the rule text */
  readonly nf?: { readonly verdict?: readonly string[]; readonly chain?: readonly string[]; readonly rule?: string };
  readonly route?: { readonly type?: readonly string[] };
  /** how the packet's life began in this trace: made here (transmit side first) or received */
  readonly origin?: 'local' | 'received';
  /** attached through an ICMP error's quoted header */
  readonly related?: boolean;
}

/** Further evidence, relative to the anchor event. */
export interface Relation {
  /** the name this evidence goes by in the words ({n:role}) and in the report */
  readonly role: string;
  /** skb: the anchor's own packet (its life in this trace); flow: any packet of its flow */
  readonly scope: 'skb' | 'flow';
  /** for scope flow: same direction as the anchor, the reverse, or either (default) */
  readonly dir?: 'same' | 'reverse' | 'any';
  readonly order?: 'before' | 'after';
  /** the anchor's namespace, another one, or any (default) */
  readonly netns?: 'same' | 'other';
  readonly match: EventMatch;
  /** at least this many such events (default 1) */
  readonly min?: number;
  /** the rule holds only if NO such event exists */
  readonly absent?: boolean;
  /** nice to have: shown when found, never required */
  readonly optional?: boolean;
}

export interface CounterNeed {
  /** nstat name (TcpExtListenOverflows) or "<dev>:<ethtool name>" */
  readonly name: string;
  readonly min: number;
  /** the anchor's namespace only (default) or any namespace */
  readonly scope?: 'netns' | 'any';
  /** when counters were read: must have grown; when they were not: the rule still holds */
  readonly optional?: boolean;
}

/** Named checks for what a pattern cannot say (checks.ts). */
export type CheckName =
  | 'listenerElsewhere' // no listener: is one bound on another address or namespace?
  | 'acceptQueueFull' // a listener whose accept queue is full
  | 'spoofedRst' // the RST did not come from the peer's stack (origin namespace, TTL, IP ID)
  | 'mirred' // same packet received on one device and sent on another, frame unchanged, no routing
  | 'dominantHop' // one stage holds most of the latency
  | 'sameSizeResent'; // the dropped segment's size was sent again (nobody lowered the MSS)

export interface Rule {
  readonly id: string;
  readonly level: Level;
  /** a few words: the finding's title */
  readonly title: string;
  /** higher wins when two rules anchor on the same event; generic fallbacks are 0 */
  readonly priority: number;
  readonly anchor: EventMatch;
  readonly with?: readonly Relation[];
  readonly counters?: readonly CounterNeed[];
  readonly check?: CheckName;
  /** rule ids whose findings on the same flow this one explains (they are folded into it) */
  readonly explains?: readonly string[];
  /** inputs without which this rule cannot hold (the report names those missing) */
  readonly needs?: readonly Need[];
  /** one line, the verdict when this finding leads */
  readonly verdict: string;
  readonly what: string;
  readonly advice: string;
  /** the seed note or investigation the case comes from */
  readonly source?: string;
}
